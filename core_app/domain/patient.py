"""Patients. Names, birth date, phone, email and notes are health data (stored encrypted)."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime

from core_app.domain.exceptions import ValidationError
from core_app.domain.practice import require_name

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{6,20}$")


class ContactPreference(enum.StrEnum):
    SMS = "sms"
    EMAIL = "email"
    PHONE = "phone"


def check_patient_fields(
    *,
    birth_date: date,
    today: date,
    phone: str | None,
    email: str | None,
    sex: str | None,
    distance_km: float | None,
) -> None:
    """The rules for a patient's fields (names are checked by `require_name`)."""
    if birth_date > today:
        raise ValidationError("birth date lies in the future")
    if birth_date.year < today.year - 125:
        raise ValidationError("birth date is more than 125 years ago")
    if email is not None and not _EMAIL.match(email):
        raise ValidationError("email is not an email address")  # never echo the value
    if phone is not None and not _PHONE.match(phone):
        raise ValidationError("phone must be 6-20 digits, spaces or +()-./")
    if sex is not None and sex not in ("female", "male", "other"):
        raise ValidationError("sex must be female, male or other")
    if distance_km is not None and not 0 <= distance_km <= 1000:
        raise ValidationError("distance must be between 0 and 1000 km")


@dataclass(eq=False)
class Patient:
    clinic_id: int
    first_name: str
    last_name: str
    birth_date: date
    phone: str | None = None
    email: str | None = None
    notes: str | None = None
    sex: str | None = None
    distance_km: float | None = None
    has_insurance: bool = False
    contact_preference: ContactPreference = ContactPreference.SMS
    created_at: datetime | None = None
    patient_id: int | None = None
    is_active: bool = True

    @classmethod
    def register(
        cls,
        *,
        clinic_id: int,
        first_name: str,
        last_name: str,
        birth_date: date,
        today: date,
        phone: str | None = None,
        email: str | None = None,
        notes: str | None = None,
        sex: str | None = None,
        distance_km: float | None = None,
        has_insurance: bool = False,
        contact_preference: ContactPreference = ContactPreference.SMS,
        created_at: datetime,
    ) -> Patient:
        check_patient_fields(
            birth_date=birth_date,
            today=today,
            phone=phone,
            email=email,
            sex=sex,
            distance_km=distance_km,
        )
        return cls(
            clinic_id=clinic_id,
            first_name=require_name(first_name, "first name"),
            last_name=require_name(last_name, "last name"),
            birth_date=birth_date,
            phone=phone,
            email=email,
            notes=notes,
            sex=sex,
            distance_km=distance_km,
            has_insurance=has_insurance,
            contact_preference=contact_preference,
            created_at=created_at,
        )

    def age_on(self, day: date) -> int:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - int(before_birthday)
