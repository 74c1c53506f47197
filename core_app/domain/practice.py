"""The practice's set-up: clinics, providers, chairs and the procedure catalog."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from core_app.domain.exceptions import ProcedureNotAllowed, ValidationError
from core_app.domain.hours import HoursBlock, blocks_cover, zone

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class ProviderKind(enum.StrEnum):
    DENTIST = "dentist"
    HYGIENIST = "hygienist"


class ProcedureCategory(enum.StrEnum):
    DIAGNOSTIC = "diagnostic"
    PREVENTIVE = "preventive"
    HYGIENE = "hygiene"
    RESTORATIVE = "restorative"
    ENDODONTIC = "endodontic"
    PERIODONTIC = "periodontic"
    PROSTHODONTIC = "prosthodontic"
    SURGERY = "surgery"
    ORTHODONTIC = "orthodontic"
    EMERGENCY = "emergency"


def require_name(value: str, what: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise ValidationError(f"{what} must not be empty")
    if len(cleaned) > 200:
        raise ValidationError(f"{what} is longer than 200 characters")
    return cleaned


def require_currency(value: str) -> str:
    if not _CURRENCY.match(value):
        raise ValidationError(f"currency must be an ISO 4217 code such as USD, got {value!r}")
    return value


@dataclass(eq=False)
class OpeningHours:
    """A weekly block in which the clinic is open (clinic local time)."""

    weekday: int
    start: time
    end: time

    @property
    def block(self) -> HoursBlock:
        return HoursBlock(self.weekday, self.start, self.end)


@dataclass(eq=False)
class WorkingHours:
    """A weekly block in which a provider works at one clinic (clinic local time)."""

    clinic_id: int
    weekday: int
    start: time
    end: time

    @property
    def block(self) -> HoursBlock:
        return HoursBlock(self.weekday, self.start, self.end)


@dataclass(eq=False)
class Clinic:
    name: str
    timezone: str
    currency: str
    country: str = "US"
    opening_hours: list[OpeningHours] = field(default_factory=list)
    clinic_id: int | None = None
    is_active: bool = True

    @classmethod
    def create(
        cls, *, name: str, timezone: str, currency: str, country: str, hours: Iterable[HoursBlock]
    ) -> Clinic:
        zone(timezone)
        if not _COUNTRY.match(country):
            raise ValidationError(f"country must be an ISO 3166 code such as US, got {country!r}")
        clinic = cls(
            name=require_name(name, "clinic name"),
            timezone=timezone,
            currency=require_currency(currency),
            country=country,
        )
        clinic.opening_hours = [OpeningHours(b.weekday, b.start, b.end) for b in hours]
        if not clinic.opening_hours:
            raise ValidationError("a clinic needs opening hours")
        return clinic

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(zone(self.timezone))

    def local_date(self, moment: datetime) -> date:
        return self.local(moment).date()

    def is_open(self, start_at: datetime, end_at: datetime) -> bool:
        blocks = [hours.block for hours in self.opening_hours]
        return blocks_cover(blocks, self.local(start_at), self.local(end_at))


@dataclass(eq=False)
class Provider:
    name: str
    kind: ProviderKind
    working_hours: list[WorkingHours] = field(default_factory=list)
    provider_id: int | None = None
    is_active: bool = True

    def works(self, clinic: Clinic, start_at: datetime, end_at: datetime) -> bool:
        blocks = [h.block for h in self.working_hours if h.clinic_id == clinic.clinic_id]
        return blocks_cover(blocks, clinic.local(start_at), clinic.local(end_at))

    def works_at(self, clinic_id: int) -> bool:
        return any(h.clinic_id == clinic_id for h in self.working_hours)

    def set_hours(self, clinic_id: int, blocks: Iterable[HoursBlock]) -> None:
        kept = [h for h in self.working_hours if h.clinic_id != clinic_id]
        self.working_hours = kept + [
            WorkingHours(clinic_id, b.weekday, b.start, b.end) for b in blocks
        ]

    def ensure_can_perform(self, procedure: Procedure) -> None:
        if self.kind is ProviderKind.HYGIENIST and not procedure.hygienist_allowed:
            raise ProcedureNotAllowed(
                f"procedure {procedure.code} ({procedure.name}) needs a dentist; "
                f"provider {self.provider_id} is a hygienist"
            )


@dataclass(eq=False)
class Chair:
    clinic_id: int
    name: str
    chair_id: int | None = None
    is_active: bool = True


@dataclass(eq=False)
class Procedure:
    """A code in a clinic's catalog, with the clinic's own fee."""

    clinic_id: int
    code: str
    name: str
    category: ProcedureCategory
    default_duration_min: int
    fee_cents: int
    hygienist_allowed: bool
    procedure_id: int | None = None
    is_active: bool = True

    def __post_init__(self) -> None:
        if self.fee_cents < 0:
            raise ValidationError(f"fee of {self.code} must not be negative")
        if not 5 <= self.default_duration_min <= 480:
            raise ValidationError(f"duration of {self.code} must be 5..480 minutes")
