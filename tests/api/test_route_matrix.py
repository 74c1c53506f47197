"""Every route x every role x own/other clinic (and anonymous) answers the expected status.

The expected status is derived, not listed: 401 without a session; 403 when the route's
Action (core_app.domain.staff.PERMISSIONS) is not granted to the role; 404 for a record of
another clinic; the route's success status otherwise. The routes come from the application
itself: a route without an entry here fails `test_every_route_has_an_entry`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute

from core_app.api.app import api_routes, route_guard
from core_app.domain.staff import PERMISSIONS, Action, Role
from tests.api import world as w
from tests.api.world import World


@dataclass
class Call:
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


#: builds the request against clinic `target` for `user` ("<role>@<clinic>", or None)
Build = Callable[[World, str, str | None], Call]
#: an expected status that the generic rule does not give: (user, own clinic?) -> status
Override = Callable[[str | None, bool], int | None]


@dataclass
class Entry:
    build: Build
    success: int
    scoped: bool = True  # another clinic's record is not found
    override: Override | None = None


def _key(world: World) -> dict[str, str]:
    return {"Idempotency-Key": f"matrix-{world.unique():06d}"}


def _clinic(world: World, target: str) -> int:
    return world.clinics[target].clinic_id


def _book(world: World, target: str, user: str | None) -> Call:
    ids = world.clinics[target]
    return Call(
        "/v1/appointments",
        json={
            "patient_id": ids.patient_ids[world.unique() % 3],
            "provider_id": ids.dentist_id,
            "chair_id": ids.chair_ids[1],
            "start_at": world.slot(target, "future").isoformat(),
            "procedure_codes": ["D0120"],
        },
        headers=_key(world),
    )


def _lifecycle(step: str, timeline: str, body: dict[str, Any] | None = None) -> Entry:
    def build(world: World, target: str, user: str | None) -> Call:
        return Call(f"/v1/appointments/{world.appointment(target, timeline)}/{step}", json=body)

    return Entry(build, 200)


def _reschedule(world: World, target: str, user: str | None) -> Call:
    appointment_id = world.appointment(target)
    return Call(
        f"/v1/appointments/{appointment_id}/reschedule",
        json={"start_at": world.slot(target, "future").isoformat()},
    )


def _window(world: World, target: str) -> dict[str, Any]:
    start = world.clock.now
    return {
        "clinic_id": _clinic(world, target),
        "start_at": start.isoformat(),
        "end_at": (start + timedelta(days=7)).isoformat(),
    }


def _sign_out(world: World, target: str, user: str | None) -> Call:
    if user is None:
        return Call("/v1/auth/sign-out")
    role, clinic = user.split("@")
    name = "admin-all" if clinic == "all" else w.username(Role(role), clinic)
    return Call("/v1/auth/sign-out", headers={"Authorization": f"Bearer {world.fresh_token(name)}"})


def _scoped_users_cannot_add_clinics(user: str | None, own: bool) -> int | None:
    if (
        user is not None
        and not user.endswith("@all")
        and user.split("@")[0] in ("admin", "manager")
    ):
        return 403  # a user limited to one clinic cannot create another
    return None


def _totp_enrol(user: str | None, own: bool) -> int | None:
    if user is not None and user.split("@")[0] in ("admin", "manager"):
        return 422  # their secret is confirmed: only an admin replaces it (CLI)
    return None


MATRIX: dict[tuple[str, str], Entry] = {
    ("POST", "/v1/auth/sign-in"): Entry(
        lambda world, t, u: Call(
            "/v1/auth/sign-in",
            json={"username": f"nobody-{world.unique()}", "password": "wrong-password-1"},
        ),
        401,
        scoped=False,
        override=lambda user, own: 401,
    ),
    ("GET", "/v1/auth/me"): Entry(lambda world, t, u: Call("/v1/auth/me"), 200, scoped=False),
    ("POST", "/v1/auth/sign-out"): Entry(_sign_out, 204, scoped=False),
    ("POST", "/v1/auth/totp/enrol"): Entry(
        lambda world, t, u: Call("/v1/auth/totp/enrol"), 201, scoped=False, override=_totp_enrol
    ),
    ("POST", "/v1/auth/totp/confirm"): Entry(
        lambda world, t, u: Call("/v1/auth/totp/confirm", json={"code": "000000"}),
        422,  # no secret, or a wrong code: the request got past authorization
        scoped=False,
    ),
    ("GET", "/v1/clinics"): Entry(lambda world, t, u: Call("/v1/clinics"), 200, scoped=False),
    ("POST", "/v1/clinics"): Entry(
        lambda world, t, u: Call(
            "/v1/clinics",
            json={
                "name": f"New clinic {world.unique()}",
                "timezone": "America/New_York",
                "currency": "USD",
                "country": "US",
                "hours": "mon-fri 08:00-17:00",
            },
        ),
        201,
        scoped=False,
        override=_scoped_users_cannot_add_clinics,
    ),
    ("GET", "/v1/clinics/{clinic_id}"): Entry(
        lambda world, t, u: Call(f"/v1/clinics/{_clinic(world, t)}"), 200
    ),
    ("GET", "/v1/providers"): Entry(
        lambda world, t, u: Call("/v1/providers", params={"clinic_id": _clinic(world, t)}), 200
    ),
    ("POST", "/v1/providers"): Entry(
        lambda world, t, u: Call(
            "/v1/providers",
            json={
                "name": f"Dr New {world.unique()}",
                "kind": "dentist",
                "clinic_id": _clinic(world, t),
                "hours": "mon-fri 09:00-17:00",
            },
        ),
        201,
    ),
    ("GET", "/v1/clinics/{clinic_id}/chairs"): Entry(
        lambda world, t, u: Call(f"/v1/clinics/{_clinic(world, t)}/chairs"), 200
    ),
    ("POST", "/v1/clinics/{clinic_id}/chairs"): Entry(
        lambda world, t, u: Call(
            f"/v1/clinics/{_clinic(world, t)}/chairs", json={"name": f"Op x{world.unique()}"}
        ),
        201,
    ),
    ("GET", "/v1/clinics/{clinic_id}/procedures"): Entry(
        lambda world, t, u: Call(f"/v1/clinics/{_clinic(world, t)}/procedures"), 200
    ),
    ("PUT", "/v1/clinics/{clinic_id}/procedures/{code}/fee"): Entry(
        lambda world, t, u: Call(
            f"/v1/clinics/{_clinic(world, t)}/procedures/D0120/fee", json={"fee_cents": 6_500}
        ),
        200,
    ),
    ("GET", "/v1/patients"): Entry(
        lambda world, t, u: Call("/v1/patients", params={"clinic_id": _clinic(world, t)}), 200
    ),
    ("POST", "/v1/patients"): Entry(
        lambda world, t, u: Call(
            "/v1/patients",
            json={
                "clinic_id": _clinic(world, t),
                "first_name": "Nova",
                "last_name": f"Matrix{world.unique()}",
                "birth_date": "1990-02-03",
            },
        ),
        201,
    ),
    ("GET", "/v1/patients/{patient_id}"): Entry(
        lambda world, t, u: Call(f"/v1/patients/{world.clinics[t].patient_ids[0]}"), 200
    ),
    ("GET", "/v1/patients/{patient_id}/balance"): Entry(
        lambda world, t, u: Call(f"/v1/patients/{world.clinics[t].patient_ids[0]}/balance"), 200
    ),
    ("GET", "/v1/patients/{patient_id}/payments"): Entry(
        lambda world, t, u: Call(f"/v1/patients/{world.clinics[t].patient_ids[0]}/payments"), 200
    ),
    ("GET", "/v1/appointments"): Entry(
        lambda world, t, u: Call("/v1/appointments", params=_window(world, t)), 200
    ),
    ("POST", "/v1/appointments"): Entry(_book, 201),
    ("GET", "/v1/appointments/{appointment_id}"): Entry(
        lambda world, t, u: Call(f"/v1/appointments/{world.appointment(t)}"), 200
    ),
    ("POST", "/v1/appointments/{appointment_id}/confirm"): _lifecycle("confirm", "future"),
    ("POST", "/v1/appointments/{appointment_id}/check-in"): _lifecycle("check-in", "today"),
    ("POST", "/v1/appointments/{appointment_id}/complete"): Entry(
        lambda world, t, u: Call(f"/v1/appointments/{w.in_progress(world, t)}/complete"), 200
    ),
    ("POST", "/v1/appointments/{appointment_id}/no-show"): _lifecycle("no-show", "past"),
    ("POST", "/v1/appointments/{appointment_id}/cancel"): _lifecycle(
        "cancel", "future", {"reason": "patient asked"}
    ),
    ("POST", "/v1/appointments/{appointment_id}/reschedule"): Entry(_reschedule, 200),
    ("GET", "/v1/appointments/{appointment_id}/risk"): Entry(
        lambda world, t, u: Call(f"/v1/appointments/{w.scored_appointment(world, t)}/risk"), 200
    ),
    ("GET", "/v1/appointments/{appointment_id}/reminders"): Entry(
        lambda world, t, u: Call(f"/v1/appointments/{world.appointment(t)}/reminders"), 200
    ),
    ("POST", "/v1/appointments/{appointment_id}/reminders"): Entry(
        lambda world, t, u: Call(f"/v1/appointments/{world.appointment(t)}/reminders"), 201
    ),
    ("POST", "/v1/payments"): Entry(
        lambda world, t, u: Call(
            "/v1/payments",
            json={
                "patient_id": world.clinics[t].patient_ids[1],
                "amount_cents": 2_500,
                "currency": "USD",
                "method": "cash",
            },
            headers=_key(world),
        ),
        201,
    ),
    ("GET", "/v1/payments/{payment_id}"): Entry(
        lambda world, t, u: Call(f"/v1/payments/{w.payment(world, t)}"), 200
    ),
    ("POST", "/v1/payments/{payment_id}/refunds"): Entry(
        lambda world, t, u: Call(
            f"/v1/payments/{w.payment(world, t)}/refunds",
            json={"amount_cents": 500, "reason": "goodwill"},
            headers=_key(world),
        ),
        201,
    ),
    ("POST", "/v1/card-payments"): Entry(
        lambda world, t, u: Call(
            "/v1/card-payments",
            json={
                "patient_id": world.clinics[t].patient_ids[2],
                "amount_cents": 4_000,
                "currency": "USD",
            },
            headers=_key(world),
        ),
        201,
    ),
    ("POST", "/v1/webhooks/stripe"): Entry(
        lambda world, t, u: Call("/v1/webhooks/stripe", json={"id": "evt_1"}),
        400,  # public, but nothing unsigned gets through
        scoped=False,
        override=lambda user, own: 400,
    ),
    ("GET", "/v1/requests"): Entry(
        lambda world, t, u: Call("/v1/requests", params={"clinic_id": _clinic(world, t)}), 200
    ),
    ("POST", "/v1/requests"): Entry(
        lambda world, t, u: Call(
            "/v1/requests",
            json={
                "clinic_id": _clinic(world, t),
                "kind": "recall",
                "patient_id": world.clinics[t].patient_ids[world.unique() % 3],
                "procedure_codes": ["D0120"],
                "earliest_date": "2030-02-01",
                "latest_date": "2030-02-28",
            },
        ),
        201,
    ),
    ("POST", "/v1/requests/{request_id}/cancel"): Entry(
        lambda world, t, u: Call(f"/v1/requests/{w.request(world, t)}/cancel"), 204
    ),
    ("GET", "/v1/suggestions"): Entry(
        lambda world, t, u: Call("/v1/suggestions", params={"clinic_id": _clinic(world, t)}), 200
    ),
    ("POST", "/v1/suggestions/{suggestion_id}/accept"): Entry(
        lambda world, t, u: Call(f"/v1/suggestions/{w.suggestion(world, t)}/accept", json={}), 201
    ),
    ("POST", "/v1/suggestions/{suggestion_id}/reject"): Entry(
        lambda world, t, u: Call(
            f"/v1/suggestions/{w.suggestion(world, t)}/reject", json={"reason": "too early"}
        ),
        204,
    ),
}


def _routes(world: World) -> dict[tuple[str, str], APIRoute]:
    return {
        (method, route.path): route
        for route in api_routes(world.api)
        for method in route.methods or ()
    }


def test_every_route_has_an_entry(world: World) -> None:
    assert set(_routes(world)) == set(MATRIX)


def expected(guard: str, entry: Entry, user: str | None, own: bool) -> int:
    if entry.override is not None:
        special = entry.override(user, own)
        if special is not None:
            return special
    if user is None:
        return 401
    if guard not in ("signed_in", "public"):
        role = Role(user.split("@")[0])
        if role not in PERMISSIONS.get(Action(guard), frozenset()):
            return 403
    if entry.scoped and not own:
        return 404
    return entry.success


USERS = [(f"{role.value}@a", own) for role in Role for own in (True, False)] + [
    ("admin@all", True),
    (None, True),
]


@pytest.mark.parametrize("route_key", sorted(MATRIX), ids=lambda k: f"{k[0]} {k[1]}")
def test_route_answers_each_role_and_clinic_as_the_matrix_says(
    world: World, route_key: tuple[str, str]
) -> None:
    route = _routes(world)[route_key]
    entry = MATRIX[route_key]
    guard = route_guard(route)
    method, _ = route_key
    seen = []
    for user, own in USERS:
        target = "a" if own else "b"
        call = entry.build(world, target, user)
        headers = world.headers(user) if user and "Authorization" not in call.headers else {}
        response = world.client.request(
            method,
            call.path,
            json=call.json,
            params=call.params,
            headers=headers | call.headers,
        )
        want = expected(guard, entry, user, own)
        seen.append((user, "own" if own else "other", response.status_code, want))
        assert response.status_code == want, (user, own, response.text)
        if response.status_code >= 400:
            assert set(response.json()) == {"error", "message", "request_id"}
            assert response.json()["request_id"] == response.headers["x-request-id"]
    assert len(seen) == len(USERS)
