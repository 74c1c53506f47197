"""Reminders: a clinic's policy of when to remind a patient of an appointment, and the rules that
turn it into due times.

Offsets are elapsed time before the appointment's start (24 h before 09:00 is 09:00 the day
before, except across a daylight-saving change, where it is an hour off on the wall clock).
Quiet hours are the clinic's local wall clock: no message before `day_start` (08:00) or after
`day_end` (21:00). A reminder whose time falls in the quiet hours is moved EARLIER to the
previous allowed time (21:00 the same evening, or 21:00 the evening before for an early-morning
time); it is dropped instead when that move is longer than its own offset (a 2 h reminder moved
from 06:30 to 21:00 the evening before would come 11.5 h early: dropped; a 72 h one moved by
the same amount is kept). A reminder is also dropped when its time has already passed when it is
scheduled (an appointment booked 20 h ahead gets no 24 h reminder) or when it would arrive
within `min_lead` of the start.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from core_app.domain.exceptions import ValidationError

#: the optional short reminder comes this long before the start
SHORT_OFFSET = timedelta(minutes=30)
#: longest offset a policy may hold (two weeks)
MAX_OFFSET = timedelta(days=14)


class ReminderKind(enum.StrEnum):
    STANDARD = "standard"  # the policy's standard offsets (24 h, 2 h)
    SHORT = "short"  # the optional 30-minute one
    HIGH_RISK = "high_risk"  # extra ones for appointments scored high risk
    EXTRA = "extra"  # sent by the front desk by hand


class ReminderStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its time (or for a retry); may be leased by a dispatcher
    SENDING = "sending"  # handed to the channel; the outcome is not recorded yet
    SENT = "sent"
    FAILED = "failed"  # gave up: attempts exhausted, refused by the channel, or outcome unknown
    CANCELLED = "cancelled"  # the appointment was cancelled, moved, completed or missed
    SKIPPED = "skipped"  # not sent: no address, appointment no longer upcoming


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class CallTaskStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


def _minutes(value: timedelta) -> int:
    return int(value.total_seconds() // 60)


@dataclass(frozen=True)
class ReminderPolicy:
    """One clinic's reminder rules (the defaults apply to a clinic that set none)."""

    standard: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2))
    short_enabled: bool = False
    high_risk: tuple[timedelta, ...] = (timedelta(hours=72),)
    high_risk_call_task: bool = True
    day_start: time = time(8, 0)
    day_end: time = time(21, 0)
    min_lead: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        for offset in (*self.standard, *self.high_risk):
            if not timedelta(0) < offset <= MAX_OFFSET:
                raise ValidationError("reminder offsets must lie between 1 minute and 14 days")
            if offset <= self.min_lead:
                raise ValidationError(
                    f"a reminder {_minutes(offset)} min before would fall within the minimum "
                    f"lead of {_minutes(self.min_lead)} min"
                )
        if len(set(self.standard)) != len(self.standard):
            raise ValidationError("standard reminder offsets repeat")
        if not timedelta(0) <= self.min_lead <= timedelta(hours=12):
            raise ValidationError("minimum lead must be between 0 and 12 hours")
        if self.short_enabled and self.min_lead >= SHORT_OFFSET:
            raise ValidationError("the 30-minute reminder needs a minimum lead under 30 minutes")
        if not self.day_start < self.day_end:
            raise ValidationError("quiet hours: the day must start before it ends")

    def describe(self) -> dict[str, object]:
        return {
            "standard_minutes": [_minutes(o) for o in self.standard],
            "short_enabled": self.short_enabled,
            "high_risk_minutes": [_minutes(o) for o in self.high_risk],
            "high_risk_call_task": self.high_risk_call_task,
            "day_start": self.day_start.strftime("%H:%M"),
            "day_end": self.day_end.strftime("%H:%M"),
            "min_lead_minutes": _minutes(self.min_lead),
        }

    # --- the rules -------------------------------------------------------------------------

    def allowed_at(self, ideal: datetime, zone: ZoneInfo) -> datetime:
        """`ideal` if it is outside the quiet hours, else the previous allowed time (day end)."""
        wall = ideal.astimezone(zone)
        if self.day_start <= wall.time() <= self.day_end:
            return ideal
        day = wall.date() if wall.time() > self.day_end else wall.date() - timedelta(days=1)
        return datetime.combine(day, self.day_end, tzinfo=zone).astimezone(ideal.tzinfo)

    def due_time(
        self, *, start_at: datetime, offset: timedelta, now: datetime, zone: ZoneInfo
    ) -> datetime | None:
        """When a reminder `offset` before `start_at` goes out, or None if it is dropped."""
        ideal = start_at - offset
        due = self.allowed_at(ideal, zone)
        if ideal - due > offset:  # moved by more than its own offset: too early to be useful
            return None
        if due < now or due > start_at - self.min_lead:
            return None
        return due

    def plan(
        self, *, start_at: datetime, now: datetime, zone: ZoneInfo, high_risk: bool = False
    ) -> list[PlannedReminder]:
        """The reminders for an appointment starting at `start_at`, scheduled at `now`."""
        wanted: list[tuple[ReminderKind, timedelta]] = [
            (ReminderKind.STANDARD, o) for o in self.standard
        ]
        if self.short_enabled:
            wanted.append((ReminderKind.SHORT, SHORT_OFFSET))
        if high_risk:
            wanted += [(ReminderKind.HIGH_RISK, o) for o in self.high_risk]
        planned: dict[datetime, PlannedReminder] = {}
        for kind, offset in sorted(wanted, key=lambda w: -w[1]):
            due = self.due_time(start_at=start_at, offset=offset, now=now, zone=zone)
            if due is not None and due not in planned:  # two moved onto one time: send one
                planned[due] = PlannedReminder(kind, _minutes(offset), due)
        return sorted(planned.values(), key=lambda p: p.due_at)

    def extra_due(self, *, start_at: datetime, now: datetime, zone: ZoneInfo) -> datetime:
        """A reminder the front desk sends now: refused in the quiet hours or too close."""
        if now > start_at - self.min_lead:
            raise ValidationError(
                "the appointment starts within the minimum lead "
                f"({_minutes(self.min_lead)} min): no reminder now"
            )
        if self.allowed_at(now, zone) != now:
            raise ValidationError(
                f"quiet hours: no message before {self.day_start:%H:%M} or after "
                f"{self.day_end:%H:%M} clinic time"
            )
        return now

    def call_task_date(self, *, start_at: datetime, now: datetime, zone: ZoneInfo) -> date:
        """The day the front desk should call: the day before the visit, or today if later."""
        return max(
            start_at.astimezone(zone).date() - timedelta(days=1), now.astimezone(zone).date()
        )


def parse_offsets(text: str) -> tuple[timedelta, ...]:
    """`24h,2h` or `72h` or `90m` (empty: none)."""
    offsets: list[timedelta] = []
    for raw in (part.strip().lower() for part in text.split(",")):
        if not raw:
            continue
        unit = raw[-1]
        number = raw[:-1] if unit in "hm" else raw
        if not number.isdigit():
            raise ValidationError(f"cannot read reminder offset {raw!r}; write e.g. 24h or 90m")
        amount = int(number)
        offsets.append(timedelta(minutes=amount) if unit == "m" else timedelta(hours=amount))
    return tuple(offsets)


@dataclass(frozen=True)
class PlannedReminder:
    kind: ReminderKind
    offset_minutes: int | None
    due_at: datetime


def choose_channel(preference: str, *, has_email: bool, has_phone: bool) -> Channel | None:
    """The patient's preferred channel if they gave its address, else the other one; `phone`
    (prefers a call) gets a text message on that phone. None: no address at all."""
    if preference == "email" and has_email:
        return Channel.EMAIL
    if has_phone:
        return Channel.SMS
    return Channel.EMAIL if has_email else None


@dataclass(frozen=True)
class OutgoingMessage:
    """What a channel sends: no more patient data than a first name, the time and the clinic."""

    reminder_id: int
    channel: Channel
    to_address: str = field(repr=False)
    first_name: str = field(repr=False)
    clinic_name: str
    local_time: str  # e.g. "Tue 8 Jan 2030 at 09:00", clinic local time

    @property
    def idempotency_id(self) -> str:
        """Stable per reminder: a resend after a crash carries the same id."""
        return f"dentops-reminder-{self.reminder_id}"

    @property
    def subject(self) -> str:
        return f"Appointment reminder: {self.clinic_name}"

    @property
    def text(self) -> str:
        return (
            f"Hello {self.first_name}, this is a reminder of your appointment at "
            f"{self.clinic_name} on {self.local_time}. If you cannot come, please let the "
            "clinic know."
        )


class DeliveryError(Exception):
    """A channel could not deliver. `retryable`: a later attempt may succeed. The message must
    never contain patient data (it is stored as the reminder's last error)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class ReminderChannel(Protocol):
    """Sends one message; returns the provider's reference. Raises `DeliveryError`.

    `deduplicates`: the channel drops a second message with the same idempotency id, so a
    message whose outcome is unknown (its dispatcher died while sending) may be sent again."""

    deduplicates: bool

    def send(self, message: OutgoingMessage) -> str: ...


def retry_delay(
    attempts: int, *, base: timedelta, cap: timedelta = timedelta(hours=1)
) -> timedelta:
    """Exponential backoff after the `attempts`-th failed attempt: base, 2 base, 4 base, ..."""
    delay: timedelta = base * 2 ** max(0, attempts - 1)
    return min(cap, delay)


def local_time_text(at: datetime, zone: ZoneInfo) -> str:
    wall = at.astimezone(zone)
    return f"{wall:%a} {wall.day} {wall:%b %Y} at {wall:%H:%M}"
