"""Requests (someone waiting for an appointment) and suggestions (the optimizer's proposal of a
slot for a request), as the core keeps them.

A request is open until it is booked or cancelled. A suggestion is pending until a scheduler
accepts it (which books the appointment through the usual booking rules), rejects it (with a
reason), or it expires because its slot is no longer free or has passed.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import date, datetime

from core_app.domain.exceptions import ValidationError

#: how many codes a request may name, and its urgency scale (1 routine .. 3 urgent)
MAX_CODES = 8
URGENCIES = (1, 2, 3)
MAX_REASONS = 6


class RequestKind(enum.StrEnum):
    WAITLIST = "waitlist"
    RECALL = "recall"
    NEW_PATIENT = "new_patient"


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    BOOKED = "booked"
    CANCELLED = "cancelled"


class SuggestionStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"


def check_request(
    *,
    kind: RequestKind,
    patient_id: int | None,
    procedure_codes: tuple[str, ...],
    earliest_date: date,
    latest_date: date,
    urgency: int,
    today: date,
) -> None:
    """Refuse a request that cannot be scheduled as stated."""
    if patient_id is None and kind is not RequestKind.NEW_PATIENT:
        raise ValidationError(f"a {kind} request needs a patient")
    if not procedure_codes or len(procedure_codes) > MAX_CODES:
        raise ValidationError(f"a request names 1 to {MAX_CODES} procedure codes")
    if latest_date < earliest_date:
        raise ValidationError("latest date is before earliest date")
    if latest_date < today:
        raise ValidationError(f"the request's window ended on {latest_date}")
    if urgency not in URGENCIES:
        raise ValidationError(f"urgency must be one of {URGENCIES}, got {urgency}")


@dataclass(frozen=True)
class SlotSuggestion:
    """One proposed slot for a request, with the optimizer's score and its reasons in words."""

    request_id: int
    provider_id: int
    chair_id: int
    start_at: datetime
    end_at: datetime
    score: float
    reasons: tuple[str, ...]
    overbook_of_appointment_id: int | None = None
    plan_ref: str | None = None

    def problems(self) -> list[str]:
        reasons = []
        if self.start_at.tzinfo is None or self.end_at.tzinfo is None:
            reasons.append("times must be timezone-aware")
        elif self.end_at <= self.start_at:
            reasons.append("the slot ends before it starts")
        if not math.isfinite(self.score):
            reasons.append("score must be a finite number")
        if len(self.reasons) > MAX_REASONS or any(
            not r.strip() or len(r) > 200 for r in self.reasons
        ):
            reasons.append(f"at most {MAX_REASONS} reasons of 1-200 characters")
        if self.plan_ref is not None and not 0 < len(self.plan_ref) <= 100:
            reasons.append("plan reference must be 1-100 characters")
        return reasons


@dataclass(frozen=True)
class NewRequest:
    """A request as a bulk load (the simulator, an import) hands it over."""

    clinic_id: int
    patient_id: int | None
    kind: RequestKind
    procedure_codes: tuple[str, ...]
    earliest_date: date
    latest_date: date
    urgency: int = 2
    preferred_provider_id: int | None = None
    preferred_hours: str | None = None
    requested_at: datetime | None = None
