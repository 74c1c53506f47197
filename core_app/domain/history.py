"""History that happened elsewhere (an import, the simulator): the rules a bulk load must pass.

Bulk loads carry times as UTC epoch seconds (ints): a million appointments as datetime objects
would cost more than the rest of the load. A load is refused as a whole, with every problem
listed by the record's position, so that nothing is half-written.

The rules are the core's own: no two active appointments overlap on a provider, chair or
patient (half-open intervals; existing appointments included); each status has the times it
needs in a possible order; money is positive integer cents in the clinic's currency and no
refund exceeds its payment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from core_app.domain.appointment import MAX_APPOINTMENT, AppointmentStatus
from core_app.domain.billing import PaymentMethod

ACTIVE = frozenset(
    s.value
    for s in (
        AppointmentStatus.BOOKED,
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.CHECKED_IN,
        AppointmentStatus.COMPLETED,
    )
)
STATUSES = frozenset(s.value for s in AppointmentStatus)
METHODS = frozenset(m.value for m in PaymentMethod)
LATE_CANCEL_S = 24 * 3600


class HistoricVisit(NamedTuple):
    """One appointment as it stands or ended. Times: UTC epoch seconds."""

    clinic_id: int
    provider_id: int
    chair_id: int
    start_epoch: int
    end_epoch: int
    booked_epoch: int
    status: str
    procedure_codes: tuple[str, ...]
    patient_id: int | None = None  # an existing patient ...
    new_patient: int | None = None  # ... or the index of a patient in the same load
    fees_cents: tuple[int, ...] | None = None  # None: the clinic's catalog fees
    confirmed_epoch: int | None = None
    checked_in_epoch: int | None = None
    completed_epoch: int | None = None
    no_show_epoch: int | None = None
    cancelled_epoch: int | None = None
    cancel_reason: str | None = None
    source_ref: str | None = None


class HistoricRefund(NamedTuple):
    amount_cents: int
    refunded_epoch: int
    reason: str


class HistoricPayment(NamedTuple):
    clinic_id: int
    amount_cents: int
    currency: str
    method: str
    received_epoch: int
    patient_id: int | None = None
    new_patient: int | None = None
    visit: int | None = None  # index of the visit in the same load it pays for
    reference: str | None = None
    refunds: tuple[HistoricRefund, ...] = ()
    source_ref: str | None = None


@dataclass(frozen=True)
class Problem:
    """What is wrong with one record: `where` is e.g. `visit 41` or the caller's own reference."""

    where: str
    reason: str


class Interval(NamedTuple):
    start: int
    end: int
    label: str


def _where(kind: str, index: int, ref: str | None) -> str:
    return f"{kind} {index}" + (f" ({ref})" if ref else "")


#: per status: the times a visit must have, and the ones it may have
_NEEDED_TIMES: dict[str, frozenset[str]] = {
    status: frozenset() if status == "booked" else frozenset({status})
    for status in ("completed", "no_show", "cancelled", "checked_in", "confirmed", "booked")
}
_ALWAYS_ALLOWED = frozenset({"confirmed"})
_ALLOWED_TIMES: dict[str, frozenset[str]] = {
    status: needed | _ALWAYS_ALLOWED | ({"checked_in"} if status == "completed" else frozenset())
    for status, needed in _NEEDED_TIMES.items()
}


def needed_times(status: str) -> frozenset[str]:
    """The times (confirmed, checked_in, ...) a visit with this status must have."""
    return _NEEDED_TIMES.get(status, frozenset())


def allowed_times(status: str) -> frozenset[str]:
    """The times a visit with this status may have."""
    return _ALLOWED_TIMES.get(status, _ALWAYS_ALLOWED)


#: the longest a visit can last (the booking rule's MAX_APPOINTMENT), in epoch seconds
LONGEST_SECONDS = int(MAX_APPOINTMENT.total_seconds())


def check_visit(index: int, visit: HistoricVisit) -> list[str]:
    """The reasons one visit is impossible on its own (empty when it is fine)."""
    v = visit
    reasons: list[str] = []
    if v.status not in STATUSES:
        reasons.append(f"status {v.status!r} is not one of {', '.join(sorted(STATUSES))}")
    if v.end_epoch <= v.start_epoch:
        reasons.append("it ends before it starts")
    elif v.end_epoch - v.start_epoch > LONGEST_SECONDS:
        reasons.append("it lasts longer than 8 hours (the longest an appointment can be)")
    if v.booked_epoch > v.start_epoch:
        reasons.append("it was booked after it started")
    if (v.patient_id is None) == (v.new_patient is None):
        reasons.append("name exactly one patient")
    if not v.procedure_codes:
        reasons.append("it has no procedure")
    if v.fees_cents is not None and (
        len(v.fees_cents) != len(v.procedure_codes) or any(f < 0 for f in v.fees_cents)
    ):
        reasons.append("fees must be one non-negative amount per procedure")
    times = (
        ("confirmed", v.confirmed_epoch),
        ("checked_in", v.checked_in_epoch),
        ("completed", v.completed_epoch),
        ("no_show", v.no_show_epoch),
        ("cancelled", v.cancelled_epoch),
    )
    needed = needed_times(v.status)
    allowed = allowed_times(v.status)
    for name, value in times:
        if value is None:
            if name in needed:
                reasons.append(f"a {v.status} appointment needs its {name} time")
            continue
        if name not in allowed:
            reasons.append(f"a {v.status} appointment cannot have a {name} time")
        if value < v.booked_epoch:
            reasons.append(f"{name} before it was booked")
    if v.confirmed_epoch is not None and v.confirmed_epoch >= v.start_epoch:
        reasons.append("confirmed after it started")
    if v.no_show_epoch is not None and v.no_show_epoch < v.start_epoch:
        reasons.append("marked no-show before it started")
    if v.completed_epoch is not None and v.completed_epoch < v.start_epoch:
        reasons.append("completed before it started")
    if v.cancelled_epoch is not None and v.cancelled_epoch >= v.start_epoch:
        reasons.append("cancelled after it started (that is a no-show)")
    if v.status == "cancelled" and not (v.cancel_reason or "").strip():
        reasons.append("a cancellation needs a reason")
    return reasons


def is_late_cancel(visit: HistoricVisit) -> bool:
    return (
        visit.cancelled_epoch is not None
        and visit.start_epoch - visit.cancelled_epoch < LATE_CANCEL_S
    )


def find_overlaps(intervals_by_resource: dict[str, list[Interval]]) -> list[Problem]:
    """Every pair of overlapping intervals on the same resource (half-open)."""
    problems: list[Problem] = []
    for resource, intervals in intervals_by_resource.items():
        intervals.sort()
        latest: Interval | None = None
        for interval in intervals:
            if latest is not None and interval.start < latest.end:
                problems.append(
                    Problem(interval.label, f"{resource} is held by {latest.label} at that time")
                )
            if latest is None or interval.end > latest.end:
                latest = interval
    return problems


def check_overlaps(
    visits: Sequence[HistoricVisit],
    patient_ids: Sequence[int],
    existing: Iterable[tuple[int, int, int, int, int, int]],
) -> list[Problem]:
    """`patient_ids[i]` resolves visit i's patient; `existing` holds active appointments already
    stored, as (appointment_id, provider_id, chair_id, patient_id, start, end)."""
    by_resource: dict[str, list[Interval]] = defaultdict(list)
    for appointment_id, provider, chair, patient, start, end in existing:
        label = f"appointment {appointment_id}"
        by_resource[f"provider {provider}"].append(Interval(start, end, label))
        by_resource[f"chair {chair}"].append(Interval(start, end, label))
        by_resource[f"patient {patient}"].append(Interval(start, end, label))
    for index, v in enumerate(visits):
        if v.status not in ACTIVE:
            continue
        label = _where("visit", index, v.source_ref)
        by_resource[f"provider {v.provider_id}"].append(Interval(v.start_epoch, v.end_epoch, label))
        by_resource[f"chair {v.chair_id}"].append(Interval(v.start_epoch, v.end_epoch, label))
        by_resource[f"patient {patient_ids[index]}"].append(
            Interval(v.start_epoch, v.end_epoch, label)
        )
    return find_overlaps(by_resource)


def check_payment(index: int, payment: HistoricPayment, clinic_currency: str) -> list[str]:
    p = payment
    reasons: list[str] = []
    if p.amount_cents <= 0:
        reasons.append(f"amount must be positive, got {p.amount_cents} cents")
    if p.currency != clinic_currency:
        reasons.append(f"clinic {p.clinic_id} takes {clinic_currency}, not {p.currency}")
    if p.method not in METHODS:
        reasons.append(f"method {p.method!r} is not one of {', '.join(sorted(METHODS))}")
    if (p.patient_id is None) == (p.new_patient is None):
        reasons.append("name exactly one patient")
    if p.refunds:  # most payments have none
        if any(r.amount_cents <= 0 for r in p.refunds):
            reasons.append("refund amounts must be positive")
        if sum(r.amount_cents for r in p.refunds) > p.amount_cents:
            reasons.append("refunds exceed the payment")
        if any(r.refunded_epoch < p.received_epoch for r in p.refunds):
            reasons.append("refunded before it was received")
    return reasons


def where_visit(index: int, visit: HistoricVisit) -> str:
    return _where("visit", index, visit.source_ref)


def where_payment(index: int, payment: HistoricPayment) -> str:
    return _where("payment", index, payment.source_ref)


class HistoricPatient(NamedTuple):
    clinic_id: int
    first_name: str
    last_name: str
    birth_date_iso: str  # YYYY-MM-DD
    created_epoch: int
    sex: str | None = None
    distance_km: float | None = None
    has_insurance: bool = False
    contact_preference: str = "sms"
    phone: str | None = None
    email: str | None = None
    notes: str | None = None
    source_ref: str | None = None


def where_patient(index: int, patient: HistoricPatient) -> str:
    return _where("patient", index, patient.source_ref)
