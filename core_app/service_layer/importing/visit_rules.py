"""An appointment's state in comparable form, the times its status implies, and what an import
may change on an appointment that is already stored."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import NamedTuple

from core_app.adapters.interchange import StoredAppointment
from core_app.domain.appointment import TRANSITIONS, AppointmentStatus

TIME_FIELDS = ("confirmed", "checked_in", "completed", "no_show", "cancelled")
TERMINAL = frozenset({"completed", "no_show", "cancelled"})
ACTIVE = frozenset({"booked", "confirmed", "checked_in", "completed"})
#: the time each status needs (the core's rule, `core_app.domain.history.check_visit`)
NEEDED = {
    "completed": "completed",
    "no_show": "no_show",
    "cancelled": "cancelled",
    "checked_in": "checked_in",
    "confirmed": "confirmed",
}
COLUMNS = {
    "clinic": "clinic",
    "provider": "provider",
    "chair": "chair",
    "patient": "patient_id",
    "start": "start_at",
    "end": "duration_min",
    "booked": "booked_at",
    "status": "status",
    "confirmed": "confirmed_at",
    "checked_in": "checked_in_at",
    "completed": "completed_at",
    "no_show": "no_show_at",
    "cancelled": "cancelled_at",
    "cancel_reason": "cancel_reason",
    "codes": "procedure_code",
    "fees": "fee_cents",
}


def _reachable() -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for status in AppointmentStatus:
        seen: set[AppointmentStatus] = set()
        todo = [status]
        while todo:
            for following in TRANSITIONS[todo.pop()]:
                if following not in seen:
                    seen.add(following)
                    todo.append(following)
        found[str(status)] = frozenset(str(s) for s in seen)
    return found


#: statuses an appointment can still reach from each status through the core's transitions
REACHABLE = _reachable()


class VisitState(NamedTuple):
    """An appointment as dentops stores it; resources by key (`provider#3`, `chair+Main/Op 1`)."""

    clinic: str
    provider: str
    chair: str
    patient: str
    start: int
    end: int
    booked: int
    status: str
    confirmed: int | None
    checked_in: int | None
    completed: int | None
    no_show: int | None
    cancelled: int | None
    cancel_reason: str | None
    codes: tuple[str, ...]
    fees: tuple[int, ...]


def state_of(stored: StoredAppointment, clinic: str) -> VisitState:
    return VisitState(
        clinic=clinic,
        provider=f"provider#{stored.provider_id}",
        chair=f"chair#{stored.chair_id}",
        patient=f"patient#{stored.patient_id}",
        start=stored.start,
        end=stored.end,
        booked=stored.booked,
        status=stored.status,
        confirmed=stored.confirmed,
        checked_in=stored.checked_in,
        completed=stored.completed,
        no_show=stored.no_show,
        cancelled=stored.cancelled,
        cancel_reason=stored.cancel_reason,
        codes=stored.codes,
        fees=stored.fees,
    )


def allowed_times(status: str) -> frozenset[str]:
    extra = {"checked_in"} if status == "completed" else set()
    needed = {NEEDED[status]} if status in NEEDED else set()
    return frozenset(needed | {"confirmed"} | extra)


def derived_time(name: str, *, booked: int, start: int, end: int) -> int | None:
    """The time a status implies when the file does not give it (cancelled_at is required)."""
    return {"confirmed": booked, "checked_in": start, "completed": end, "no_show": start}.get(name)


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def update_problems(before: VisitState, after: VisitState) -> list[tuple[str, str]]:
    """(column, reason) for every change the core's rules forbid on a stored appointment."""
    changed = [f for f in VisitState._fields if getattr(before, f) != getattr(after, f)]
    columns = ", ".join(COLUMNS[f] for f in changed)
    if "patient" in changed:
        return [("patient_id", "the appointment belongs to another patient in dentops")]
    if "clinic" in changed:
        return [("clinic", f"the appointment is at clinic {before.clinic!r} in dentops")]
    if before.status in TERMINAL:
        return [
            (
                COLUMNS[changed[0]],
                f"the appointment is {before.status} in dentops; completed, no-show and "
                f"cancelled appointments are history, not changed by an import ({columns})",
            )
        ]
    found: list[tuple[str, str]] = []
    moved = is_reschedule(before, after)
    if after.status != before.status and after.status not in REACHABLE[before.status] and not moved:
        found.append(("status", f"a {before.status} appointment cannot become {after.status}"))
    if before.status == "checked_in":
        for name in ("provider", "chair", "start", "end", "booked"):
            if name in changed:
                found.append((COLUMNS[name], "the patient has checked in; this cannot change"))
    for name in TIME_FIELDS:
        recorded = getattr(before, name)
        if moved and name == "confirmed":
            continue  # a reschedule returns the appointment to booked, unconfirmed
        if recorded is not None and getattr(after, name) != recorded:
            found.append(
                (COLUMNS[name], f"was recorded as {iso(recorded)}; an import does not rewrite it")
            )
    return found


def is_reschedule(before: VisitState, after: VisitState) -> bool:
    """A move to another slot, which (as in the core) returns the appointment to booked."""
    slot = (before.provider, before.chair, before.start, before.end)
    return (
        before.status in ("booked", "confirmed")
        and after.status == "booked"
        and slot != (after.provider, after.chair, after.start, after.end)
    )


_TIME_REASON = re.compile(r"(?:needs its|cannot have a) (\w+) time|^(\w+) before it was booked")


def column_for(reason: str) -> str:
    """The column a reason of `core_app.domain.history.check_visit` is about ('' if unsure)."""
    match = _TIME_REASON.search(reason)
    if match:
        return f"{match.group(1) or match.group(2)}_at"
    for words, column in (
        ("status", "status"),
        ("ends before", "duration_min"),
        ("booked after", "booked_at"),
        ("patient", "patient_id"),
        ("fees", "fee_cents"),
        ("procedure", "procedure_code"),
        ("reason", "cancel_reason"),
        ("confirmed", "confirmed_at"),
        ("no-show", "no_show_at"),
        ("completed", "completed_at"),
        ("cancelled", "cancelled_at"),
    ):
        if words in reason:
            return column
    return ""
