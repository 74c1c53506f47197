"""Appointments: booking rules, the status lifecycle and its history."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core_app.domain.billing import Charge
from core_app.domain.exceptions import (
    BookingInPast,
    IllegalTransition,
    OutsideHours,
    OverbookRefused,
    SlotUnavailable,
    ValidationError,
)
from core_app.domain.hours import ensure_utc
from core_app.domain.patient import Patient
from core_app.domain.practice import Chair, Clinic, Procedure, Provider

LATE_CANCEL_NOTICE = timedelta(hours=24)
MAX_APPOINTMENT = timedelta(hours=8)


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


#: statuses that hold the provider's and the chair's time
ACTIVE_STATUSES = frozenset(
    {
        AppointmentStatus.BOOKED,
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.CHECKED_IN,
        AppointmentStatus.COMPLETED,
    }
)

TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    AppointmentStatus.BOOKED: frozenset(
        {
            AppointmentStatus.CONFIRMED,
            AppointmentStatus.CHECKED_IN,
            AppointmentStatus.NO_SHOW,
            AppointmentStatus.CANCELLED,
        }
    ),
    AppointmentStatus.CONFIRMED: frozenset(
        {AppointmentStatus.CHECKED_IN, AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED}
    ),
    AppointmentStatus.CHECKED_IN: frozenset({AppointmentStatus.COMPLETED}),
    AppointmentStatus.COMPLETED: frozenset(),
    AppointmentStatus.NO_SHOW: frozenset(),
    AppointmentStatus.CANCELLED: frozenset(),
}


class BookingSource(enum.StrEnum):
    STAFF = "staff"
    SUGGESTION = "suggestion"
    IMPORT = "import"


@dataclass(eq=False)
class AppointmentProcedure:
    """A procedure planned in an appointment, with the fee and duration at booking time."""

    procedure_id: int
    code: str
    category: str
    duration_min: int
    fee_cents: int
    line_id: int | None = None


@dataclass(eq=False)
class AppointmentEvent:
    """One step in an appointment's history: booked, each status change, each move."""

    event_type: str
    occurred_at: datetime
    actor_user_id: int | None
    reason: str | None = None
    from_start_at: datetime | None = None
    from_end_at: datetime | None = None
    from_provider_id: int | None = None
    from_chair_id: int | None = None
    event_id: int | None = None


@dataclass(frozen=True)
class Slot:
    """Where and when an appointment would sit: provider x chair x [start_at, end_at)."""

    clinic: Clinic
    provider: Provider
    chair: Chair
    start_at: datetime
    end_at: datetime


def _saved(value: int | None, what: str) -> int:
    if value is None:
        raise ValidationError(f"the {what} has not been saved yet")
    return value


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open intervals: [a_start, a_end) and [b_start, b_end) share some instant."""
    return a_start < b_end and b_start < a_end


@dataclass(eq=False)
class Appointment:
    clinic_id: int
    patient_id: int
    provider_id: int
    chair_id: int
    start_at: datetime
    end_at: datetime
    currency: str
    booked_at: datetime
    booked_by_user_id: int | None
    status: AppointmentStatus = AppointmentStatus.BOOKED
    source: BookingSource = BookingSource.STAFF
    overbook_of_appointment_id: int | None = None
    confirmed_at: datetime | None = None
    checked_in_at: datetime | None = None
    completed_at: datetime | None = None
    no_show_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_by_user_id: int | None = None
    cancel_reason: str | None = None
    is_late_cancel: bool = False
    reschedule_count: int = 0
    procedures: list[AppointmentProcedure] = field(default_factory=list)
    events: list[AppointmentEvent] = field(default_factory=list)
    appointment_id: int | None = None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_overbook(self) -> bool:
        return self.overbook_of_appointment_id is not None

    @property
    def fee_cents(self) -> int:
        return sum(line.fee_cents for line in self.procedures)

    def _move_to(self, status: AppointmentStatus) -> None:
        if status not in TRANSITIONS[self.status]:
            raise IllegalTransition(
                f"appointment {self.appointment_id} is {self.status}; it cannot become {status}"
            )
        self.status = status

    def _record(
        self,
        event_type: str,
        now: datetime,
        actor_user_id: int | None,
        *,
        reason: str | None = None,
        moved_from: Appointment | None = None,
    ) -> None:
        self.events.append(
            AppointmentEvent(
                event_type=event_type,
                occurred_at=now,
                actor_user_id=actor_user_id,
                reason=reason,
                from_start_at=moved_from.start_at if moved_from else None,
                from_end_at=moved_from.end_at if moved_from else None,
                from_provider_id=moved_from.provider_id if moved_from else None,
                from_chair_id=moved_from.chair_id if moved_from else None,
            )
        )

    def confirm(self, *, now: datetime, actor_user_id: int | None) -> None:
        if now >= self.start_at:
            raise IllegalTransition(f"appointment {self.appointment_id} has already started")
        self._move_to(AppointmentStatus.CONFIRMED)
        self.confirmed_at = now
        self._record("confirmed", now, actor_user_id)

    def check_in(self, *, clinic: Clinic, now: datetime, actor_user_id: int | None) -> None:
        if clinic.local_date(now) != clinic.local_date(self.start_at) or now >= self.end_at:
            raise IllegalTransition(
                f"appointment {self.appointment_id} is on {clinic.local_date(self.start_at)}; "
                "check-in is possible only on that day before it ends"
            )
        self._move_to(AppointmentStatus.CHECKED_IN)
        self.checked_in_at = now
        self._record("checked_in", now, actor_user_id)

    def complete(self, *, now: datetime, actor_user_id: int | None) -> list[Charge]:
        """Complete the visit; returns the charges for its procedures."""
        if now < self.start_at:
            raise IllegalTransition(
                f"appointment {self.appointment_id} starts at {self.start_at.isoformat()}; "
                "it cannot be completed before it starts"
            )
        self._move_to(AppointmentStatus.COMPLETED)
        self.completed_at = now
        self._record("completed", now, actor_user_id)
        return [
            Charge(
                clinic_id=self.clinic_id,
                patient_id=self.patient_id,
                appointment_id=self.appointment_id,
                procedure_code=line.code,
                amount_cents=line.fee_cents,
                currency=self.currency,
                charged_at=now,
            )
            for line in self.procedures
        ]

    def mark_no_show(self, *, now: datetime, actor_user_id: int | None) -> None:
        if now < self.start_at:
            raise IllegalTransition(
                f"appointment {self.appointment_id} starts at {self.start_at.isoformat()}; "
                "a no-show can be marked only after the start time"
            )
        self._move_to(AppointmentStatus.NO_SHOW)
        self.no_show_at = now
        self._record("no_show", now, actor_user_id)

    def cancel(self, *, now: datetime, actor_user_id: int | None, reason: str) -> None:
        if not reason.strip():
            raise ValidationError("a cancellation needs a reason")
        if now >= self.start_at:
            raise IllegalTransition(
                f"appointment {self.appointment_id} has started; mark it no-show instead"
            )
        self._move_to(AppointmentStatus.CANCELLED)
        self.cancelled_at = now
        self.cancelled_by_user_id = actor_user_id
        self.cancel_reason = reason.strip()
        self.is_late_cancel = self.start_at - now < LATE_CANCEL_NOTICE
        self._record(
            "late_cancel" if self.is_late_cancel else "cancelled",
            now,
            actor_user_id,
            reason=self.cancel_reason,
        )

    def reschedule(
        self,
        *,
        slot: Slot,
        now: datetime,
        actor_user_id: int | None,
        existing: Sequence[Appointment],
        has_overbook: bool,
        reason: str | None = None,
    ) -> None:
        """Move to another slot; the old slot stays in the history."""
        if self.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
            raise IllegalTransition(
                f"appointment {self.appointment_id} is {self.status}; only booked or "
                "confirmed appointments can be rescheduled"
            )
        if now >= self.start_at:
            raise IllegalTransition(f"appointment {self.appointment_id} has already started")
        if self.is_overbook:
            raise OverbookRefused(
                f"appointment {self.appointment_id} is an overbook; cancel it and book anew"
            )
        if has_overbook:
            raise OverbookRefused(
                f"appointment {self.appointment_id} carries an overbook; move or cancel that first"
            )
        if slot.clinic.clinic_id != self.clinic_id:
            raise ValidationError("an appointment cannot be rescheduled to another clinic")
        check_slot(
            slot,
            patient_id=self.patient_id,
            procedures_min=None,
            now=now,
            allow_past=False,
            existing=[a for a in existing if a.appointment_id != self.appointment_id],
            overbook_of=None,
        )
        self._record(
            "rescheduled",
            now,
            actor_user_id,
            reason=reason,
            moved_from=self,
        )
        self.start_at, self.end_at = ensure_utc(slot.start_at), ensure_utc(slot.end_at)
        self.provider_id = _saved(slot.provider.provider_id, "provider")
        self.chair_id = _saved(slot.chair.chair_id, "chair")
        self.status = AppointmentStatus.BOOKED
        self.confirmed_at = None
        self.reschedule_count += 1


def check_slot(
    slot: Slot,
    *,
    patient_id: int,
    procedures_min: int | None,
    now: datetime,
    allow_past: bool,
    existing: Sequence[Appointment],
    overbook_of: Appointment | None,
) -> None:
    """Every rule a slot must pass; `existing` holds the active appointments that overlap it."""
    clinic, provider, chair = slot.clinic, slot.provider, slot.chair
    start_at = ensure_utc(slot.start_at, name="start")
    end_at = ensure_utc(slot.end_at, name="end")
    if end_at <= start_at:
        raise ValidationError("an appointment must end after it starts")
    if end_at - start_at > MAX_APPOINTMENT:
        raise ValidationError("an appointment cannot last longer than 8 hours")
    if procedures_min is not None and (end_at - start_at) < timedelta(minutes=procedures_min):
        raise ValidationError(f"the procedures need {procedures_min} minutes; the slot is shorter")
    if not allow_past and start_at < now:
        raise BookingInPast(f"{clinic.local(start_at):%Y-%m-%d %H:%M} is in the past")
    if chair.clinic_id != clinic.clinic_id:
        raise ValidationError(f"chair {chair.chair_id} belongs to another clinic")
    if not (chair.is_active and provider.is_active and clinic.is_active):
        raise ValidationError("the clinic, provider or chair is no longer active")
    if not clinic.is_open(start_at, end_at):
        raise OutsideHours(
            f"clinic {clinic.clinic_id} is not open {clinic.local(start_at):%a %Y-%m-%d %H:%M}"
            f"-{clinic.local(end_at):%H:%M}"
        )
    if not provider.works(clinic, start_at, end_at):
        raise OutsideHours(
            f"provider {provider.provider_id} does not work at clinic {clinic.clinic_id} "
            f"{clinic.local(start_at):%a %Y-%m-%d %H:%M}-{clinic.local(end_at):%H:%M}"
        )
    if overbook_of is not None:
        _check_overbook_target(slot, overbook_of)
    for other in existing:
        if not other.is_active or not overlaps(start_at, end_at, other.start_at, other.end_at):
            continue
        if overbook_of is not None and other is overbook_of:
            continue
        holder = other.appointment_id or 0
        if other.provider_id == provider.provider_id:
            raise SlotUnavailable(
                resource="provider", resource_id=other.provider_id, holder_appointment_id=holder
            )
        if other.chair_id == chair.chair_id:
            raise SlotUnavailable(
                resource="chair", resource_id=other.chair_id, holder_appointment_id=holder
            )
        if other.patient_id == patient_id:
            raise SlotUnavailable(
                resource="patient", resource_id=patient_id, holder_appointment_id=holder
            )


def _check_overbook_target(slot: Slot, target: Appointment) -> None:
    if not target.is_active or target.status is AppointmentStatus.COMPLETED:
        raise OverbookRefused(
            f"appointment {target.appointment_id} is {target.status}; nothing to overbook"
        )
    if target.is_overbook:
        raise OverbookRefused(f"appointment {target.appointment_id} is itself an overbook")
    if target.clinic_id != slot.clinic.clinic_id:
        raise OverbookRefused(f"appointment {target.appointment_id} is in another clinic")
    shares = (
        target.provider_id == slot.provider.provider_id or target.chair_id == slot.chair.chair_id
    )
    if not shares or not overlaps(slot.start_at, slot.end_at, target.start_at, target.end_at):
        raise OverbookRefused(
            f"an overbook must overlap appointment {target.appointment_id} on its provider or chair"
        )


def book(
    *,
    slot: Slot,
    patient: Patient,
    procedures: Sequence[Procedure],
    now: datetime,
    actor_user_id: int | None,
    existing: Sequence[Appointment],
    overbook_of: Appointment | None = None,
    overbook_taken: bool = False,
    allow_past: bool = False,
    source: BookingSource = BookingSource.STAFF,
) -> Appointment:
    """Book a patient into a slot, or refuse with the rule that stands in the way."""
    if not procedures:
        raise ValidationError("an appointment needs at least one procedure")
    if not patient.is_active:
        raise ValidationError(f"patient {patient.patient_id} is no longer active")
    if patient.clinic_id != slot.clinic.clinic_id:
        raise ValidationError(
            f"patient {patient.patient_id} is registered at clinic {patient.clinic_id}, "
            f"not clinic {slot.clinic.clinic_id}"
        )
    for procedure in procedures:
        if procedure.clinic_id != slot.clinic.clinic_id or not procedure.is_active:
            raise ValidationError(f"procedure {procedure.code} is not in this clinic's catalog")
        slot.provider.ensure_can_perform(procedure)
    if overbook_of is not None and overbook_taken:
        raise OverbookRefused(
            f"appointment {overbook_of.appointment_id} already carries an overbook"
        )
    patient_id = _saved(patient.patient_id, "patient")
    check_slot(
        slot,
        patient_id=patient_id,
        procedures_min=sum(p.default_duration_min for p in procedures),
        now=now,
        allow_past=allow_past,
        existing=existing,
        overbook_of=overbook_of,
    )
    appointment = Appointment(
        clinic_id=_saved(slot.clinic.clinic_id, "clinic"),
        patient_id=patient_id,
        provider_id=_saved(slot.provider.provider_id, "provider"),
        chair_id=_saved(slot.chair.chair_id, "chair"),
        start_at=ensure_utc(slot.start_at),
        end_at=ensure_utc(slot.end_at),
        currency=slot.clinic.currency,
        booked_at=now,
        booked_by_user_id=actor_user_id,
        source=source,
        overbook_of_appointment_id=overbook_of.appointment_id if overbook_of else None,
        procedures=[
            AppointmentProcedure(
                procedure_id=_saved(p.procedure_id, "procedure"),
                code=p.code,
                category=str(p.category),
                duration_min=p.default_duration_min,
                fee_cents=p.fee_cents,
            )
            for p in procedures
        ],
    )
    appointment.events.append(
        AppointmentEvent(
            event_type="overbooked" if overbook_of else "booked",
            occurred_at=now,
            actor_user_id=actor_user_id,
        )
    )
    return appointment
