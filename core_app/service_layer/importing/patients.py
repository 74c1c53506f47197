"""Patients of an import: placeholders for unknown names and birth dates, the comparison with
what is stored, and the core's rules for patient fields.

The core needs a first name, a last name and a birth date. A patient whose file row leaves one
empty is stored with a placeholder (`Unknown`, or 1 January 120 years back) and a flag line at
the end of the (encrypted) notes, `[dentops import: unknown birth_date, last_name]`, which staff
see and the export reads back: an exported patient shows the field empty again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import NamedTuple, TypeVar, cast

from core_app.adapters.interchange import StoredPatient
from core_app.domain.exceptions import ValidationError
from core_app.domain.patient import check_patient_fields
from core_app.service_layer.importing.context import Context
from core_app.service_layer.importing.csv_format import PATIENTS
from core_app.service_layer.importing.parse import PatientRow
from core_app.service_layer.importing.world import ClinicPlan

FILE = PATIENTS.name
T = TypeVar("T")
PLACEHOLDER_NAME = "Unknown"
PLACEHOLDER_AGE_YEARS = 120
FLAGGABLE = ("first_name", "last_name", "birth_date")
_FLAG = re.compile(r"(?:^|\n)\[dentops import: unknown ([a-z_, ]+)\]$")


class PatientState(NamedTuple):
    """A patient as the interchange format shows it (None: not known)."""

    clinic: str
    first_name: str | None
    last_name: str | None
    birth_date: date | None
    sex: str | None
    phone: str | None
    email: str | None
    notes: str | None
    distance_km: float | None
    has_insurance: bool
    contact_preference: str
    created: int


def split_flag(notes: str | None) -> tuple[str | None, frozenset[str]]:
    """Notes without the import's flag line, and the fields that line names."""
    if not notes:
        return notes, frozenset()
    match = _FLAG.search(notes)
    if match is None:
        return notes, frozenset()
    rest = notes[: match.start()]
    return rest or None, frozenset(f.strip() for f in match.group(1).split(","))


def state_of(stored: StoredPatient, clinic: str) -> PatientState:
    notes, unknown = split_flag(stored.notes)
    return PatientState(
        clinic=clinic,
        first_name=None if "first_name" in unknown else stored.first_name,
        last_name=None if "last_name" in unknown else stored.last_name,
        birth_date=None if "birth_date" in unknown else stored.birth_date,
        sex=stored.sex,
        phone=stored.phone,
        email=stored.email,
        notes=notes,
        distance_km=stored.distance_km,
        has_insurance=stored.has_insurance,
        contact_preference=stored.contact_preference,
        created=stored.created_epoch,
    )


class StoredForm(NamedTuple):
    first_name: str
    last_name: str
    birth_date: date
    notes: str | None


def stored_form(state: PatientState, today: date) -> StoredForm:
    """The values the core stores: placeholders and the flag line where a field is unknown."""
    unknown = [name for name in FLAGGABLE if getattr(state, name) is None]
    notes = state.notes
    if unknown:
        flag = f"[dentops import: unknown {', '.join(unknown)}]"
        notes = f"{notes}\n{flag}" if notes else flag
    return StoredForm(
        first_name=state.first_name or PLACEHOLDER_NAME,
        last_name=state.last_name or PLACEHOLDER_NAME,
        birth_date=state.birth_date or date(today.year - PLACEHOLDER_AGE_YEARS, 1, 1),
        notes=notes,
    )


@dataclass
class PatientPlan:
    key: str  # patient#<id> (stored) or patient+<source key>
    ref: str
    line: int
    clinic: ClinicPlan
    state: PatientState
    stored: StoredPatient | None
    changed: tuple[str, ...]


def settle_patients(
    ctx: Context, first_visit: dict[str, tuple[str, int]]
) -> dict[str, PatientPlan]:
    """Patients of patients.csv by source key. `first_visit` gives each patient's clinic name
    and earliest booking (epoch) from appointments.csv."""
    plans: dict[str, PatientPlan] = {}
    for row in ctx.parsed.patients:
        plan = _settle(ctx, row, first_visit.get(row.patient_id))
        if plan is not None:
            plans[row.patient_id] = plan
    return plans


def _settle(ctx: Context, row: PatientRow, visit: tuple[str, int] | None) -> PatientPlan | None:
    present = ctx.parsed.columns[FILE]
    stored = ctx.stored.patients.get(row.patient_id)
    before = state_of(stored, ctx.world.clinic_names[stored.clinic_id]) if stored else None
    if row.clinic:
        clinic_name = row.clinic
    elif before is not None:
        clinic_name = before.clinic
    else:
        clinic_name = visit[0] if visit else ctx.options.clinic
    clinic = ctx.clinic(clinic_name, FILE, row.line, "clinic" if row.clinic else "")
    if clinic is None:
        return None

    def pick(column: str, value: T | None, default: T) -> T:
        """A column in the file gives the value (empty: the default); else keep the stored."""
        if column in present:
            return default if value is None else value
        return cast(T, getattr(before, column)) if before is not None else default

    if row.created_at is not None:
        created = row.created_at.epoch(clinic.zone)
    elif before is not None:
        created = before.created
    else:
        created = visit[1] if visit else ctx.now
    state = PatientState(
        clinic=clinic.name,
        first_name=pick("first_name", row.first_name, None),
        last_name=pick("last_name", row.last_name, None),
        birth_date=pick("birth_date", row.birth_date, None),
        sex=pick("sex", row.sex, None),
        phone=pick("phone", row.phone, None),
        email=pick("email", row.email, None),
        notes=pick("notes", row.notes, None),
        distance_km=pick("distance_km", row.distance_km, None),
        has_insurance=pick("has_insurance", row.has_insurance, False),
        contact_preference=pick("contact_preference", row.contact_preference, "sms"),
        created=created,
    )
    if not _valid(ctx, row, state, clinic):
        return None
    changed: tuple[str, ...] = ()
    if before is not None and state != before:
        changed = tuple(f for f in PatientState._fields if getattr(state, f) != getattr(before, f))
        if "clinic" in changed:
            ctx.fail(FILE, row.line, "clinic", f"the patient is registered at {before.clinic!r}")
            return None
    key = f"patient#{stored.patient_id}" if stored else f"patient+{row.patient_id}"
    ref = ctx.options.source_ref("patients", row.patient_id)
    return PatientPlan(key, ref, row.line, clinic, state, stored, changed)


def _valid(ctx: Context, row: PatientRow, state: PatientState, clinic: ClinicPlan) -> bool:
    today = datetime.fromtimestamp(ctx.now, UTC).astimezone(clinic.zone).date()
    reasons = {
        "birth_date": _check(today, birth_date=state.birth_date),
        "phone": _check(today, phone=state.phone),
        "email": _check(today, email=state.email),
        "sex": _check(today, sex=state.sex),
        "distance_km": _check(today, distance_km=state.distance_km),
        "created_at": "lies in the future" if state.created > ctx.now else None,
    }
    for column, reason in reasons.items():
        if reason is not None:
            ctx.fail(FILE, row.line, column, reason)
    return not any(reasons.values())


def _check(
    today: date,
    *,
    birth_date: date | None = None,
    phone: str | None = None,
    email: str | None = None,
    sex: str | None = None,
    distance_km: float | None = None,
) -> str | None:
    """The core's reason to refuse one patient field, or None."""
    try:
        check_patient_fields(
            birth_date=birth_date or today,
            today=today,
            phone=phone,
            email=email,
            sex=sex,
            distance_km=distance_km,
        )
    except ValidationError as error:
        return str(error)
    return None
