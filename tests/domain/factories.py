"""Hand-built domain objects for the pure unit tests: no database, ids given by hand.

The clinic is in New York, open mon-sat 08:00-18:00; "now" is Monday 2030-01-07 08:00 there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from core_app.domain.appointment import Appointment, Slot, book
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.patient import Patient
from core_app.domain.practice import (
    Chair,
    Clinic,
    Procedure,
    ProcedureCategory,
    Provider,
    ProviderKind,
)

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2030, 1, 7)
CLINIC_ID = 1
DENTIST_ID = 10
DENTIST2_ID = 11
HYGIENIST_ID = 12
CHAIR_IDS = (20, 21, 22)
PATIENT_IDS = (30, 31, 32)
ACTOR_ID = 99


def local(day_offset: int, hhmm: str, tz: ZoneInfo = NEW_YORK) -> datetime:
    """Local time `hhmm` on the day `day_offset` days after Monday 2030-01-07, as UTC."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    day = MONDAY + timedelta(days=day_offset)
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=tz).astimezone(UTC)


NOW = local(0, "08:00")


def make_clinic(
    *, clinic_id: int = CLINIC_ID, timezone: str = "America/New_York", hours: str | None = None
) -> Clinic:
    clinic = Clinic.create(
        name=f"Clinic {clinic_id}",
        timezone=timezone,
        currency="USD",
        country="US",
        hours=parse_weekly_hours(hours or "mon-sat 08:00-18:00"),
    )
    clinic.clinic_id = clinic_id
    return clinic


def make_provider(
    provider_id: int,
    kind: ProviderKind = ProviderKind.DENTIST,
    *,
    clinic_id: int = CLINIC_ID,
    hours: str = "mon-sat 08:00-18:00",
) -> Provider:
    provider = Provider(name=f"Provider {provider_id}", kind=kind, provider_id=provider_id)
    provider.set_hours(clinic_id, parse_weekly_hours(hours))
    return provider


def make_chair(chair_id: int, *, clinic_id: int = CLINIC_ID) -> Chair:
    return Chair(clinic_id=clinic_id, name=f"Op {chair_id}", chair_id=chair_id)


def make_patient(patient_id: int, *, clinic_id: int = CLINIC_ID) -> Patient:
    patient = Patient.register(
        clinic_id=clinic_id,
        first_name=f"Patient{patient_id}",
        last_name="Example",
        birth_date=date(1980, 5, 17),
        today=MONDAY,
        created_at=NOW,
    )
    patient.patient_id = patient_id
    return patient


def exam(*, clinic_id: int = CLINIC_ID) -> Procedure:
    """D0120, 15 minutes, $65, dentist only."""
    return Procedure(
        clinic_id=clinic_id,
        code="D0120",
        name="Periodic oral evaluation",
        category=ProcedureCategory.DIAGNOSTIC,
        default_duration_min=15,
        fee_cents=6_500,
        hygienist_allowed=False,
        procedure_id=40,
    )


def cleaning(*, clinic_id: int = CLINIC_ID) -> Procedure:
    """D1110, 60 minutes, $120, hygienists allowed."""
    return Procedure(
        clinic_id=clinic_id,
        code="D1110",
        name="Prophylaxis, adult",
        category=ProcedureCategory.HYGIENE,
        default_duration_min=60,
        fee_cents=12_000,
        hygienist_allowed=True,
        procedure_id=41,
    )


class World:
    """One clinic with two dentists, a hygienist, three chairs and three patients."""

    def __init__(self) -> None:
        self.clinic = make_clinic()
        self.dentist = make_provider(DENTIST_ID)
        self.dentist2 = make_provider(DENTIST2_ID, hours="mon-fri 08:00-16:00")
        self.hygienist = make_provider(HYGIENIST_ID, ProviderKind.HYGIENIST)
        self.chairs = [make_chair(chair_id) for chair_id in CHAIR_IDS]
        self.patients = [make_patient(patient_id) for patient_id in PATIENT_IDS]
        self.existing: list[Appointment] = []
        self._next_id = 100

    def slot(
        self,
        start_at: datetime,
        end_at: datetime,
        *,
        provider: Provider | None = None,
        chair: int = 0,
    ) -> Slot:
        return Slot(
            clinic=self.clinic,
            provider=provider or self.dentist,
            chair=self.chairs[chair],
            start_at=start_at,
            end_at=end_at,
        )

    def book(
        self,
        start_at: datetime,
        end_at: datetime,
        *,
        provider: Provider | None = None,
        chair: int = 0,
        patient: int = 0,
        procedures: Sequence[Procedure] | None = None,
        now: datetime = NOW,
        overbook_of: Appointment | None = None,
        overbook_taken: bool = False,
        allow_past: bool = False,
    ) -> Appointment:
        """Book against every appointment booked so far; on success give it the next id."""
        appointment = book(
            slot=self.slot(start_at, end_at, provider=provider, chair=chair),
            patient=self.patients[patient],
            procedures=list(procedures) if procedures is not None else [exam()],
            now=now,
            actor_user_id=ACTOR_ID,
            existing=self.existing,
            overbook_of=overbook_of,
            overbook_taken=overbook_taken,
            allow_past=allow_past,
        )
        appointment.appointment_id = self._next_id
        self._next_id += 1
        self.existing.append(appointment)
        return appointment
