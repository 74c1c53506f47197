"""A demo practice built through the real services, on a simulated clock.

Every booking, check-in, completion, no-show, cancellation and payment goes through the same
use cases as a member of staff would, at the simulated time it happens, so the demo obeys
every rule of the core (no bookings in the past, legal transitions, balanced money).
Seeded: the same seed and day give the same practice.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core_app.config import Settings
from core_app.domain.billing import PaymentMethod
from core_app.domain.exceptions import DomainError, ValidationError
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.practice import ProviderKind
from core_app.domain.staff import Actor, Role
from core_app.service_layer import appointments, billing, bootstrap, patients, practice, users
from core_app.service_layer.bootstrap import App

MARKER = ".dentops-demo"
TIMEZONE = "America/New_York"
HOURS = "mon-fri 08:00-17:00; sat 08:00-13:00"
HISTORY_DAYS = 28
FUTURE_DAYS = 14
DEMO_PASSWORDS = {
    "admin": "demo-admin-password",
    "manager": "demo-manager-password",
    "scheduler": "demo-scheduler-password",
    "frontdesk": "demo-frontdesk-password",
}
FIRST = [
    "Alma",
    "Ben",
    "Carla",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jon",
    "Kira",
    "Liam",
    "Mona",
    "Nils",
    "Olga",
    "Pavel",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
]
LAST = [
    "Adams",
    "Brown",
    "Costa",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hill",
    "Ito",
    "Jones",
    "Khan",
    "Lopez",
    "Moore",
    "Novak",
    "Olsen",
    "Patel",
]
DENTIST_VISITS = [
    ["D0120", "D0274"],
    ["D2391"],
    ["D2392"],
    ["D0140"],
    ["D7140"],
    ["D2740"],
    ["D0150", "D0210"],
    ["D2950"],
    ["D3310"],
]
HYGIENE_VISITS = [["D1110", "D0120"], ["D1110", "D0274"], ["D4910"], ["D1120", "D1206"], ["D4341"]]


class SimClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(order=True)
class Step:
    at: datetime
    order: int
    action: str = field(compare=False)
    key: int = field(compare=False)


@dataclass
class Plan:
    patient_id: int
    provider_id: int
    chair_id: int
    start_at: datetime
    codes: list[str]
    outcome: str
    appointment_id: int | None = None


def _prepare_folder(settings: Settings) -> None:
    folder = settings.data_dir
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise ValidationError(
                f"{folder} holds data that is not a demo; choose another --data-dir"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("built by `dentops demo`; safe to delete\n")


def build_demo(settings: Settings, *, seed: int, today: date) -> dict[str, Any]:
    if not settings.database_url.startswith("sqlite"):
        raise ValidationError("the demo builds its own SQLite practice; unset DENTOPS_DATABASE_URL")
    _prepare_folder(settings)
    rng = random.Random(seed)  # noqa: S311 - seeded demo data, not secrets
    zone = ZoneInfo(TIMEZONE)
    start_of_history = datetime.combine(today - timedelta(days=HISTORY_DAYS), time(7), zone)
    bootstrap.initialise(settings, admin_username="admin", admin_password=DEMO_PASSWORDS["admin"])
    clock = SimClock(start_of_history.astimezone(UTC))
    app = bootstrap.connect(settings, clock=clock)
    try:
        admin = users.actor_for(app.uow(), "admin")
        setup = _set_up_practice(app, admin, rng)
        plans = _plan_visits(setup, rng, today=today, zone=zone, first_booking=clock.now)
        counts = _play(app, admin, plans, rng, clock=clock, until=datetime.now(UTC))
    finally:
        app.close()
    return {
        "data_dir": str(settings.data_dir),
        "clinic": setup["clinic_name"],
        "providers": len(setup["providers"]),
        "chairs": len(setup["chairs"]),
        "patients": len(setup["patients"]),
        "appointments": counts["booked"],
        "completed": counts["completed"],
        "no_shows": counts["no_show"],
        "cancelled": counts["cancelled"],
        "upcoming": counts["upcoming"],
        "payments": counts["payments"],
        "refunds": counts["refunds"],
        "refused_by_rules": counts["refused"],
        "first_date": (today - timedelta(days=HISTORY_DAYS)).isoformat(),
        "last_date": (today + timedelta(days=FUTURE_DAYS - 1)).isoformat(),
        "staff_logins": {name: f"{name} / {pw}" for name, pw in DEMO_PASSWORDS.items()},
    }


def _set_up_practice(app: App, admin: Actor, rng: random.Random) -> dict[str, Any]:
    week = parse_weekly_hours(HOURS)
    clinic_id = practice.create_clinic(
        app.uow(),
        admin,
        name="Riverside Dental",
        timezone=TIMEZONE,
        currency="USD",
        country="US",
        hours=week,
    )
    for name, role in (
        ("manager", Role.MANAGER),
        ("scheduler", Role.SCHEDULER),
        ("frontdesk", Role.FRONT_DESK),
    ):
        users.add_user(
            app.uow(),
            admin,
            username=name,
            password=DEMO_PASSWORDS[name],
            role=role,
            clinic_id=clinic_id,
        )
    staff = [
        ("Dr. Maya Chen", ProviderKind.DENTIST),
        ("Dr. Luis Ortega", ProviderKind.DENTIST),
        ("Hannah Brooks", ProviderKind.HYGIENIST),
    ]
    providers = [
        (
            practice.add_provider(
                app.uow(), admin, name=name, kind=kind, clinic_id=clinic_id, hours=week
            ),
            kind,
        )
        for name, kind in staff
    ]
    chairs = [
        practice.add_chair(app.uow(), admin, clinic_id=clinic_id, name=f"Op {n}")
        for n in range(1, 5)
    ]
    patient_ids = []
    for _ in range(60):
        patient_ids.append(
            patients.add_patient(
                app.uow(),
                admin,
                clinic_id=clinic_id,
                first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST),
                birth_date=date(rng.randint(1945, 2018), rng.randint(1, 12), rng.randint(1, 28)),
                phone=f"+1 555 {rng.randint(1000000, 9999999)}",
                has_insurance=rng.random() < 0.6,
                distance_km=round(rng.uniform(0.5, 25), 1),
            )
        )
    return {
        "clinic_name": "Riverside Dental",
        "providers": providers,
        "chairs": chairs,
        "patients": patient_ids,
    }


def _plan_visits(
    setup: dict[str, Any],
    rng: random.Random,
    *,
    today: date,
    zone: ZoneInfo,
    first_booking: datetime,
) -> list[tuple[Plan, datetime]]:
    from core_app.domain.catalog import DEFAULT_CATALOG

    minutes = {entry.code: entry.duration_min for entry in DEFAULT_CATALOG}
    plans: list[tuple[Plan, datetime]] = []
    for offset in range(-HISTORY_DAYS, FUTURE_DAYS):
        day = today + timedelta(days=offset)
        if day.weekday() == 6:
            continue
        closing = time(13) if day.weekday() == 5 else time(17)
        for (provider_id, kind), chair_id in zip(setup["providers"], setup["chairs"], strict=False):
            cursor = datetime.combine(day, time(8), zone)
            visits = HYGIENE_VISITS if kind is ProviderKind.HYGIENIST else DENTIST_VISITS
            while True:
                codes = rng.choice(visits)
                end = cursor + timedelta(minutes=sum(minutes[c] for c in codes))
                if end.timetz() > closing.replace(tzinfo=zone) or end.date() != day:
                    break
                if rng.random() < 0.8:
                    roll = rng.random()
                    outcome = (
                        "completed" if roll < 0.8 else "no_show" if roll < 0.9 else "cancelled"
                    )
                    lead = timedelta(
                        days=rng.choice([1, 2, 3, 7, 10, 14, 21, 30]), hours=rng.randint(0, 8)
                    )
                    booked_at = max(first_booking, cursor.astimezone(UTC) - lead)
                    plan = Plan(
                        rng.choice(setup["patients"]),
                        provider_id,
                        chair_id,
                        cursor.astimezone(UTC),
                        codes,
                        outcome,
                    )
                    plans.append((plan, booked_at))
                cursor = end + timedelta(minutes=rng.choice([0, 0, 0, 15, 30]))
    return plans


def _play(
    app: App,
    admin: Actor,
    planned: list[tuple[Plan, datetime]],
    rng: random.Random,
    *,
    clock: SimClock,
    until: datetime,
) -> Counter[str]:
    plans = [plan for plan, _ in planned]
    steps: list[Step] = []
    for index, (plan, booked_at) in enumerate(planned):
        steps.append(Step(booked_at, 0, "book", index))
        start = plan.start_at
        if plan.outcome == "cancelled":
            notice = timedelta(hours=rng.choice([2, 12, 30, 72]))
            steps.append(
                Step(max(booked_at + timedelta(minutes=1), start - notice), 1, "cancel", index)
            )
        else:
            if start - booked_at > timedelta(days=2):
                steps.append(Step(start - timedelta(days=2), 1, "confirm", index))
            if plan.outcome == "no_show":
                steps.append(Step(start + timedelta(minutes=15), 2, "no_show", index))
            else:
                steps.append(
                    Step(start - timedelta(minutes=rng.randint(0, 15)), 2, "check_in", index)
                )
                steps.append(Step(start + timedelta(minutes=50), 3, "complete", index))
    counts: Counter[str] = Counter()
    for step in sorted(steps):
        if step.at > until:
            continue
        plan = plans[step.key]
        if step.action != "book" and plan.appointment_id is None:
            continue
        clock.now = step.at
        try:
            _apply(app, admin, plan, step.action, rng, counts)
        except DomainError:
            counts["refused"] += 1
    counts["upcoming"] = sum(1 for p in plans if p.appointment_id and p.start_at > until)
    return counts


def _apply(
    app: App, admin: Actor, plan: Plan, action: str, rng: random.Random, counts: Counter[str]
) -> None:
    if action == "book":
        plan.appointment_id = appointments.book_appointment(
            app.uow(),
            admin,
            patient_id=plan.patient_id,
            provider_id=plan.provider_id,
            chair_id=plan.chair_id,
            start_at=plan.start_at,
            procedure_codes=plan.codes,
        )
        counts["booked"] += 1
        return
    appointment_id = plan.appointment_id
    if appointment_id is None:
        return
    if action == "confirm":
        appointments.confirm_appointment(app.uow(), admin, appointment_id)
    elif action == "cancel":
        reason = rng.choice(["patient ill", "work conflict", "transport", "moved away"])
        appointments.cancel_appointment(app.uow(), admin, appointment_id, reason=reason)
        counts["cancelled"] += 1
    elif action == "no_show":
        appointments.mark_no_show(app.uow(), admin, appointment_id)
        counts["no_show"] += 1
    elif action == "check_in":
        appointments.check_in_appointment(app.uow(), admin, appointment_id)
    elif action == "complete":
        appointments.complete_appointment(app.uow(), admin, appointment_id)
        counts["completed"] += 1
        _take_payment(app, admin, plan, rng, counts)


def _take_payment(
    app: App, admin: Actor, plan: Plan, rng: random.Random, counts: Counter[str]
) -> None:
    account = billing.patient_account(app.uow(), admin, plan.patient_id)
    owed = account.balance.balance_cents
    if owed <= 0 or rng.random() < 0.2:  # some leave without paying: balances that age
        return
    amount = owed if rng.random() < 0.7 else owed // 2
    method = rng.choice(
        [PaymentMethod.CARD, PaymentMethod.CARD, PaymentMethod.CASH, PaymentMethod.INSURANCE]
    )
    payment_id = billing.record_payment(
        app.uow(),
        admin,
        patient_id=plan.patient_id,
        amount_cents=amount,
        currency="USD",
        method=method,
        appointment_id=plan.appointment_id,
    )
    counts["payments"] += 1
    if rng.random() < 0.03:
        billing.refund_payment(
            app.uow(),
            admin,
            payment_id=payment_id,
            amount_cents=min(amount, 2000),
            reason="goodwill",
        )
        counts["refunds"] += 1
