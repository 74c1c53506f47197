"""A morning of front-desk activity on the simulated practice, through the core's services:
visits of the morning checked in and completed (charges), payments and a refund, future
appointments confirmed and cancelled (some late), a new patient booked into a freed slot.

"Now" is 2026-06-30 11:00 in the clinic (the simulated history ends at that day's midnight);
`updated_at` stamps come from the wall clock, as in production."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core_app.config import Settings
from core_app.domain.billing import PaymentMethod
from core_app.domain.exceptions import DomainError
from core_app.service_layer import appointments, billing, bootstrap, patients, users

CLINIC_TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 30, 11, 0, tzinfo=CLINIC_TZ).astimezone(UTC)
#: the canary patient added this morning: values no simulated patient has (see test_privacy)
CANARY_NOTES = "canary note: reacts to zebuliphrine"
CANARY = {
    "first_name": "Zebulon",
    "last_name": "Quenneville",
    "phone": "+1 555 0199",
    "email": "zebulon.quenneville@example.org",
    "notes": CANARY_NOTES,
}


@dataclass
class Activity:
    completed: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    booked: list[int] = field(default_factory=list)
    new_patient_ids: list[int] = field(default_factory=list)
    payment_ids: list[int] = field(default_factory=list)
    refund_ids: list[int] = field(default_factory=list)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _rows(settings: Settings, sql: str, *args: object) -> list[tuple[Any, ...]]:
    database = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as con:
        return list(con.execute(sql, args))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def morning_of_activity(settings: Settings, admin: str, *, now: datetime = NOW) -> Activity:
    done = Activity()
    clock = Clock(now)
    app = bootstrap.connect(settings, clock=clock)
    try:
        actor = users.actor_for(app.uow(), admin)
        stamp = now.replace(tzinfo=None).isoformat(sep=" ")
        a_day_ahead = (now + timedelta(days=1)).replace(tzinfo=None).isoformat(sep=" ")
        morning = _rows(
            settings,
            "SELECT appointment_id, patient_id, start_at FROM appointments "
            "WHERE status IN ('booked', 'confirmed') AND start_at < ? ORDER BY start_at LIMIT 4",
            stamp,
        )
        for appointment_id, patient_id, start_at in morning:
            clock.now = _utc(str(start_at)) - timedelta(minutes=5)  # the patient arrives
            appointments.check_in_appointment(app.uow(), actor, appointment_id)
            clock.now = now
            appointments.complete_appointment(app.uow(), actor, appointment_id)
            done.completed.append(appointment_id)
            account = billing.patient_account(app.uow(), actor, patient_id)
            if account.balance.balance_cents > 0:
                done.payment_ids.append(
                    billing.record_payment(
                        app.uow(),
                        actor,
                        patient_id=patient_id,
                        amount_cents=account.balance.balance_cents,
                        currency="USD",
                        method=PaymentMethod.CARD,
                        appointment_id=appointment_id,
                    )
                )
        if done.payment_ids:
            done.refund_ids.append(
                billing.refund_payment(
                    app.uow(),
                    actor,
                    payment_id=done.payment_ids[0],
                    amount_cents=100,
                    reason="goodwill",
                )
            )
        ahead = _rows(
            settings,
            "SELECT appointment_id, provider_id, chair_id, start_at, end_at FROM appointments "
            "WHERE status = 'booked' AND start_at > ? ORDER BY start_at LIMIT 6",
            stamp,
        )
        for appointment_id, *_ in ahead[:2]:
            appointments.confirm_appointment(app.uow(), actor, appointment_id)
            done.confirmed.append(appointment_id)
        late = [a for a in ahead[2:] if str(a[3]) < a_day_ahead][:1]
        early = _rows(
            settings,
            "SELECT appointment_id, provider_id, chair_id, start_at, end_at FROM appointments "
            "WHERE status = 'booked' AND start_at > ? ORDER BY start_at LIMIT 1",
            a_day_ahead,
        )
        for appointment_id, *_ in late + early:
            appointments.cancel_appointment(app.uow(), actor, appointment_id, reason="illness")
            done.cancelled.append(appointment_id)
        freed = (late + early)[0]
        clinic_id = int(_rows(settings, "SELECT min(clinic_id) FROM clinics")[0][0])
        patient_id = patients.add_patient(
            app.uow(),
            actor,
            clinic_id=clinic_id,
            first_name="Zebulon",
            last_name="Quenneville",
            birth_date=date(1990, 5, 17),
            phone="+1 555 0199",
            email="zebulon.quenneville@example.org",
            notes=CANARY_NOTES,
        )
        done.new_patient_ids.append(patient_id)
        codes = [
            str(code)
            for (code,) in _rows(
                settings,
                "SELECT code FROM appointment_procedures WHERE appointment_id = ?",
                freed[0],
            )
        ]
        done.booked.append(
            appointments.book_appointment(
                app.uow(),
                actor,
                patient_id=patient_id,
                provider_id=int(freed[1]),
                chair_id=int(freed[2]),
                start_at=_utc(str(freed[3])),
                end_at=_utc(str(freed[4])),
                procedure_codes=codes,
            )
        )
    finally:
        app.close()
    return done


@dataclass
class Changes:
    """What `changes_of_every_kind` did, by kind (appointment, payment or patient ids)."""

    kinds: dict[str, list[int]] = field(default_factory=dict)

    def add(self, kind: str, item: int) -> None:
        self.kinds.setdefault(kind, []).append(item)


def changes_of_every_kind(settings: Settings, admin: str, *, now: datetime) -> Changes:
    """One of every change the front desk makes, at `now` (UTC), through the core's services: a
    completion with its payment and a partial refund, a no-show, a confirmation, a reschedule
    (a week later, same provider and chair), a cancellation days ahead and the freed slot booked
    again by the same patient, a late cancellation (less than 24 hours ahead) and the freed slot
    booked for a new patient, and a payment recorded without an appointment."""
    done = Changes()
    clock = Clock(now)
    app = bootstrap.connect(settings, clock=clock)
    stamp = now.replace(tzinfo=None).isoformat(sep=" ")
    in_an_hour = (now + timedelta(hours=1)).replace(tzinfo=None).isoformat(sep=" ")
    a_day_ahead = (now + timedelta(days=1)).replace(tzinfo=None).isoformat(sep=" ")
    two_days_ahead = (now + timedelta(days=2)).replace(tzinfo=None).isoformat(sep=" ")
    try:
        actor = users.actor_for(app.uow(), admin)
        today = _rows(
            settings,
            "SELECT appointment_id, patient_id, start_at FROM appointments "
            "WHERE status IN ('booked', 'confirmed') AND start_at < ? "
            "AND overbook_of_appointment_id IS NULL ORDER BY start_at DESC LIMIT 2",
            stamp,
        )
        (visit, visit_patient, visit_start), (missed, *_) = today
        clock.now = _utc(str(visit_start)) - timedelta(minutes=5)
        appointments.check_in_appointment(app.uow(), actor, visit)
        clock.now = now
        appointments.complete_appointment(app.uow(), actor, visit)
        done.add("completed", visit)
        owed = billing.patient_account(app.uow(), actor, visit_patient).balance.balance_cents
        payment = billing.record_payment(
            app.uow(),
            actor,
            patient_id=visit_patient,
            amount_cents=max(owed, 500),
            currency="USD",
            method=PaymentMethod.CARD,
            appointment_id=visit,
        )
        done.add("payment", payment)
        done.add(
            "refund",
            billing.refund_payment(
                app.uow(), actor, payment_id=payment, amount_cents=200, reason="goodwill"
            ),
        )
        appointments.mark_no_show(app.uow(), actor, missed)
        done.add("no_show", missed)

        ahead = _rows(
            settings,
            "SELECT appointment_id, patient_id, provider_id, chair_id, start_at, end_at, status "
            "FROM appointments WHERE status IN ('booked', 'confirmed') AND start_at > ? "
            "AND overbook_of_appointment_id IS NULL ORDER BY start_at LIMIT 200",
            in_an_hour,
        )
        late = next(a for a in ahead if str(a[4]) < a_day_ahead)
        early = [a for a in ahead if str(a[4]) > two_days_ahead]
        unconfirmed = next(a for a in early if a[6] == "booked")
        appointments.confirm_appointment(app.uow(), actor, unconfirmed[0])
        done.add("confirmed", unconfirmed[0])
        for candidate in early:
            try:  # a week later, if that slot is free
                appointments.reschedule_appointment(
                    app.uow(),
                    actor,
                    candidate[0],
                    start_at=_utc(str(candidate[4])) + timedelta(days=7),
                )
            except DomainError:
                continue
            done.add("rescheduled", candidate[0])
            break
        cancelled = next(
            a for a in reversed(early) if a[0] not in done.kinds["rescheduled"] + [unconfirmed[0]]
        )
        for kind, (appointment_id, patient, provider_id, chair_id, start_at, end_at, _) in (
            ("cancelled", cancelled),
            ("late_cancelled", late),
        ):
            appointments.cancel_appointment(app.uow(), actor, appointment_id, reason="illness")
            done.add(kind, appointment_id)
            codes = [
                str(code)
                for (code,) in _rows(
                    settings,
                    "SELECT code FROM appointment_procedures WHERE appointment_id = ?",
                    appointment_id,
                )
            ]
            if kind == "cancelled":  # the patient changes their mind and books it again
                patient_id = int(patient)
            else:  # a new patient takes the slot
                clinic_id = int(
                    _rows(
                        settings,
                        "SELECT clinic_id FROM appointments WHERE appointment_id = ?",
                        appointment_id,
                    )[0][0]
                )
                patient_id = patients.add_patient(
                    app.uow(),
                    actor,
                    clinic_id=clinic_id,
                    first_name="Ottilie",
                    last_name="Brandvold",
                    birth_date=date(1985, 3, 9),
                )
                done.add("new_patient", patient_id)
            done.add(
                "booked",
                appointments.book_appointment(
                    app.uow(),
                    actor,
                    patient_id=patient_id,
                    provider_id=int(provider_id),
                    chair_id=int(chair_id),
                    start_at=_utc(str(start_at)),
                    end_at=_utc(str(end_at)),
                    procedure_codes=codes,
                ),
            )
        done.add(
            "payment",
            billing.record_payment(
                app.uow(),
                actor,
                patient_id=int(today[1][1]),
                amount_cents=1500,
                currency="USD",
                method=PaymentMethod.CASH,
            ),
        )
    finally:
        app.close()
    return done
