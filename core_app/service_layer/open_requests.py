"""Requests: someone waiting for an appointment (waitlist, recall due, new patient). Staff add
and cancel them; the optimizer reads the open ones; a bulk load brings many at once.
Reads are audited: a request says which patient waits for what."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from core_app.adapters import request_store
from core_app.domain.exceptions import ValidationError
from core_app.domain.hours import parse_weekly_hours, zone
from core_app.domain.request import (
    NewRequest,
    RequestKind,
    RequestStatus,
    SuggestionStatus,
    check_request,
)
from core_app.domain.staff import Action, Actor
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import require, run_use_case


class _Practice:
    """What checking requests needs to know of the practice, each fact read once (a bulk load
    checks thousands of requests against the same clinics, catalog and patients)."""

    def __init__(self, uow: UnitOfWork, patient_ids: Sequence[int] = ()) -> None:
        self.uow = uow
        self._zones: dict[int, str] = {}
        self._durations: dict[tuple[int, tuple[str, ...]], int] = {}
        self._provider_clinics: dict[int, set[int]] = {}
        self._patient_clinic = request_store.patient_clinics(
            uow.session.connection(), sorted(set(patient_ids))
        )

    def today(self, clinic_id: int, now: datetime) -> date:
        if clinic_id not in self._zones:
            clinic = require(self.uow.clinics.get(clinic_id), "clinic", clinic_id)
            self._zones[clinic_id] = clinic.timezone
        return now.astimezone(zone(self._zones[clinic_id])).date()

    def patient_clinic(self, patient_id: int) -> int:
        if patient_id not in self._patient_clinic:
            patient = require(self.uow.patients.get(patient_id), "patient", patient_id)
            self._patient_clinic[patient_id] = patient.clinic_id
        return self._patient_clinic[patient_id]

    def duration(self, clinic_id: int, codes: tuple[str, ...]) -> int:
        key = (clinic_id, codes)
        if key not in self._durations:
            procedures = self.uow.procedures.by_codes(clinic_id, list(codes))
            unknown = sorted(set(codes) - {p.code for p in procedures})
            if unknown:
                raise ValidationError(f"unknown procedure code(s) {', '.join(unknown)}")
            self._durations[key] = sum(p.default_duration_min for p in procedures)
        return self._durations[key]

    def provider_clinics(self, provider_id: int) -> set[int]:
        if provider_id not in self._provider_clinics:
            provider = require(self.uow.providers.get(provider_id), "provider", provider_id)
            self._provider_clinics[provider_id] = {h.clinic_id for h in provider.working_hours}
        return self._provider_clinics[provider_id]


def _row(practice: _Practice, request: NewRequest, now: datetime) -> dict[str, Any]:
    """The request checked against the rules and the practice, as a row to insert."""
    codes = tuple(code.strip().upper() for code in request.procedure_codes)
    check_request(
        kind=request.kind,
        patient_id=request.patient_id,
        procedure_codes=codes,
        earliest_date=request.earliest_date,
        latest_date=request.latest_date,
        urgency=request.urgency,
        today=practice.today(request.clinic_id, now),
    )
    if (
        request.patient_id is not None
        and practice.patient_clinic(request.patient_id) != request.clinic_id
    ):
        raise ValidationError(
            f"patient {request.patient_id} is not a patient of clinic {request.clinic_id}"
        )
    duration = practice.duration(request.clinic_id, codes)
    provider = request.preferred_provider_id
    if provider is not None and request.clinic_id not in practice.provider_clinics(provider):
        raise ValidationError(f"provider {provider} does not work at clinic {request.clinic_id}")
    if request.preferred_hours is not None:
        parse_weekly_hours(request.preferred_hours)
    return {
        "clinic_id": request.clinic_id,
        "patient_id": request.patient_id,
        "kind": request.kind,
        "procedure_codes": "+".join(codes),
        "duration_min": duration,
        "preferred_provider_id": provider,
        "preferred_hours": request.preferred_hours,
        "earliest_date": request.earliest_date,
        "latest_date": request.latest_date,
        "urgency": request.urgency,
        "status": RequestStatus.OPEN,
        "requested_at": request.requested_at or now,
        "updated_at": now,
    }


def add_request(uow: UnitOfWork, actor: Actor, request: NewRequest) -> int:
    def work(uow: UnitOfWork) -> int:
        actor.require(Action.MANAGE_REQUESTS, clinic_id=request.clinic_id)
        row = _row(_Practice(uow), request, uow.now())
        request_id = request_store.add_request(uow.session.connection(), row)
        uow.audit(actor, "request.add", "request", request_id, detail=f"{request.kind}")
        return request_id

    return run_use_case(
        uow, actor, action="request.add", entity_type="request", entity_id=None, work=work
    )


def load_requests(
    uow: UnitOfWork,
    actor: Actor,
    requests: Sequence[NewRequest],
    *,
    as_of: datetime | None = None,
) -> int:
    """Many requests in one transaction, all or nothing (each checked like `add_request`, as of
    `as_of` — a history loaded as of an earlier day, e.g. the simulator's — or now)."""

    def work(uow: UnitOfWork) -> int:
        actor.require(Action.IMPORT)
        now = as_of or uow.now()
        practice = _Practice(uow, [r.patient_id for r in requests if r.patient_id is not None])
        rows = []
        for index, request in enumerate(requests):
            actor.require(Action.MANAGE_REQUESTS, clinic_id=request.clinic_id)
            try:
                rows.append(_row(practice, request, now))
            except ValidationError as error:
                raise ValidationError(f"request {index}: {error}") from error
        request_store.add_requests(uow.session.connection(), rows)
        if rows:
            uow.audit(actor, "request.load", "request", None, detail=f"{len(rows)} requests")
        return len(rows)

    return run_use_case(
        uow, actor, action="request.load", entity_type="request", entity_id=None, work=work
    )


def cancel_request(uow: UnitOfWork, actor: Actor, request_id: int) -> None:
    """An open request is withdrawn; its pending suggestions expire with it."""

    def work(uow: UnitOfWork) -> None:
        connection = uow.session.connection()
        found = require(request_store.get_request(connection, request_id), "request", request_id)
        actor.require(Action.MANAGE_REQUESTS, clinic_id=found["clinic_id"])
        if found["status"] != RequestStatus.OPEN:
            raise ValidationError(f"request {request_id} is {found['status']}, not open")
        now = uow.now()
        request_store.set_request_status(connection, request_id, RequestStatus.CANCELLED, now)
        pending = [
            s["suggestion_id"]
            for s in request_store.list_suggestions(
                connection, found["clinic_id"], SuggestionStatus.PENDING
            )
            if s["request_id"] == request_id
        ]
        request_store.expire(connection, pending, now)
        uow.audit(actor, "request.cancel", "request", request_id)

    run_use_case(
        uow, actor, action="request.cancel", entity_type="request", entity_id=request_id, work=work
    )


def list_requests(
    uow: UnitOfWork,
    actor: Actor,
    clinic_id: int,
    *,
    status: RequestStatus | None = RequestStatus.OPEN,
    most_urgent_first: bool = False,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """A clinic's requests (open ones by default), oldest first or, with `most_urgent_first`,
    by urgency and then the earliest date of their window; at most `limit`. The read is
    audited by one entry naming the requests returned (only those)."""
    if limit is not None and limit < 1:
        raise ValidationError(f"limit must be at least 1, not {limit}")

    def work(uow: UnitOfWork) -> list[dict[str, Any]]:
        actor.require(Action.READ_SCHEDULE, clinic_id=clinic_id)
        require(uow.clinics.get(clinic_id), "clinic", clinic_id)
        rows = request_store.list_requests(
            uow.session.connection(),
            clinic_id,
            status,
            most_urgent_first=most_urgent_first,
            limit=limit,
        )
        if rows:
            listed = ",".join(str(r["request_id"]) for r in rows)
            uow.audit(actor, "request.read", "clinic", clinic_id, detail=f"requests {listed}")
        return [_public(r) for r in rows]

    return run_use_case(
        uow, actor, action="request.read", entity_type="request", entity_id=None, work=work
    )


def count_requests(
    uow: UnitOfWork,
    actor: Actor,
    clinic_id: int,
    *,
    status: RequestStatus | None = RequestStatus.OPEN,
) -> int:
    """How many requests a clinic has (open ones by default): a count, no request is read."""

    def work(uow: UnitOfWork) -> int:
        actor.require(Action.READ_SCHEDULE, clinic_id=clinic_id)
        require(uow.clinics.get(clinic_id), "clinic", clinic_id)
        return request_store.count_requests(uow.session.connection(), clinic_id, status)

    return run_use_case(
        uow, actor, action="request.count", entity_type="request", entity_id=None, work=work
    )


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A request as callers see it: codes as a tuple, enums as text, dates as dates."""
    found = dict(row)
    found["procedure_codes"] = tuple(row["procedure_codes"].split("+"))
    found["kind"] = str(RequestKind(row["kind"]))
    found["status"] = str(RequestStatus(row["status"]))
    for key in ("earliest_date", "latest_date"):
        value = row[key]
        found[key] = value if isinstance(value, date) else date.fromisoformat(str(value))
    return found
