"""Rows of the three files as typed records; every unreadable cell is a problem.

Checks that need only the row itself are made here (a cancelled appointment without its
cancelled_at, refunds above the payment, a duplicate key). Rows with a problem are left out of
the later stages, which check the rows against each other and against the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from core_app.domain.patient import ContactPreference
from core_app.domain.practice import ProviderKind
from core_app.service_layer.importing import values as v
from core_app.service_layer.importing.csv_format import (
    APPOINTMENTS,
    FILES,
    PATIENTS,
    PAYMENTS,
    FileSpec,
)
from core_app.service_layer.importing.problems import Problems
from core_app.service_layer.importing.reader import Parser, Table, convert, read_table
from core_app.service_layer.importing.values import Stamp


@dataclass(frozen=True, slots=True)
class PatientRow:
    line: int
    patient_id: str
    birth_date: date | None
    sex: str | None
    phone: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    clinic: str | None
    notes: str | None
    distance_km: float | None
    has_insurance: bool | None
    contact_preference: str | None
    created_at: Stamp | None


@dataclass(frozen=True, slots=True)
class AppointmentRow:
    line: int
    appointment_id: str
    patient_id: str
    booked_at: Stamp
    start_at: Stamp
    status: str
    clinic: str | None
    provider: str | None
    chair: str | None
    codes: tuple[str, ...] | None
    duration_min: int | None
    fees: tuple[int, ...] | None
    provider_kind: str | None
    cancel_reason: str | None
    confirmed_at: Stamp | None
    checked_in_at: Stamp | None
    completed_at: Stamp | None
    no_show_at: Stamp | None
    cancelled_at: Stamp | None


@dataclass(frozen=True, slots=True)
class PaymentRow:
    line: int
    payment_id: str
    patient_id: str
    received_at: Stamp
    amount_cents: int
    method: str
    appointment_id: str | None
    currency: str | None
    refunded_cents: int | None
    refunded_at: Stamp | None
    reference: str | None
    refund_reason: str | None


@dataclass
class Parsed:
    """The usable rows of each file, the columns each file has, and every key seen (even on a
    row with a problem, so that rows referring to it are not blamed twice)."""

    patients: list[PatientRow]
    appointments: list[AppointmentRow]
    payments: list[PaymentRow]
    columns: dict[str, frozenset[str]]
    seen: dict[str, set[str]]


R = TypeVar("R")
CONTACTS = tuple(str(c) for c in ContactPreference)
KINDS = tuple(str(k) for k in ProviderKind)
_stamp = partial(v.timestamp, date_allowed=True)
_text200 = partial(v.bounded_text, high=200, what="the value")
_text500 = partial(v.bounded_text, high=500, what="the value")
_cents = partial(v.integer, low=0, high=100_000_000_00, what="refunded_cents")

PATIENT_CELLS: dict[str, Parser] = {
    "patient_id": v.key,
    "birth_date": v.birth_date,
    "sex": v.sex,
    "area": partial(v.bounded_text, high=100, what="area"),  # checked, not stored
    "phone": _text200,
    "email": _text200,
    "first_name": _text200,
    "last_name": _text200,
    "clinic": _text200,
    "notes": partial(v.bounded_text, high=5000, what="notes"),
    "distance_km": partial(v.decimal, low=0, high=1000, what="distance"),
    "has_insurance": v.boolean,
    "contact_preference": partial(v.choice, allowed=CONTACTS, what="contact preference"),
    "created_at": _stamp,
}
VISIT_CELLS: dict[str, Parser] = {
    "appointment_id": v.key,
    "patient_id": v.key,
    "booked_at": _stamp,
    "start_at": _stamp,
    "status": v.status,
    "clinic": _text200,
    "provider": _text200,
    "chair": _text200,
    "procedure_code": v.codes,
    "duration_min": partial(v.integer, low=5, high=480, what="duration_min"),
    "cancelled_at": _stamp,
    "reminder_sent": v.boolean,  # checked, not stored
    "fee_cents": v.cents_list,
    "provider_kind": partial(v.choice, allowed=KINDS, what="kind"),
    "cancel_reason": _text500,
    "confirmed_at": _stamp,
    "checked_in_at": _stamp,
    "completed_at": _stamp,
    "no_show_at": _stamp,
}
PAYMENT_CELLS: dict[str, Parser] = {
    "payment_id": v.key,
    "patient_id": v.key,
    "received_at": _stamp,
    "amount_cents": partial(v.integer, low=1, high=100_000_000_00, what="amount_cents"),
    "method": v.method,
    "appointment_id": v.key,
    "currency": partial(v.bounded_text, high=3, what="currency"),
    "refunded_cents": _cents,
    "refunded_at": _stamp,
    "reference": _text200,
    "refund_reason": _text500,
}


def parse_folder(folder: Path, problems: Problems) -> Parsed:
    tables = {spec.name: read_table(folder, spec, problems) for spec in FILES}
    seen: dict[str, set[str]] = {spec.name: set() for spec in FILES}

    def rows(spec: FileSpec, cells: dict[str, Parser], build: Builder[R]) -> list[R]:
        return _rows(tables[spec.name], cells, build, problems, seen[spec.name])

    return Parsed(
        patients=rows(PATIENTS, PATIENT_CELLS, _patient),
        appointments=rows(APPOINTMENTS, VISIT_CELLS, _visit),
        payments=rows(PAYMENTS, PAYMENT_CELLS, _payment),
        columns={name: t.present if t else frozenset() for name, t in tables.items()},
        seen=seen,
    )


Fail = Callable[[str, str], None]
Builder = Callable[[int, dict[str, Any], Fail], R]


def _rows(
    table: Table | None,
    cells: dict[str, Parser],
    build: Builder[R],
    problems: Problems,
    seen: set[str],
) -> list[R]:
    """Typed rows of a file; a row with any problem is reported and left out."""
    if table is None:
        return []
    file = table.spec.name
    key_column = table.spec.columns[0].name
    first_line: dict[str, int] = {}
    rows: list[R] = []
    for line, values, usable in convert(table, cells, problems):
        ok = usable

        def fail(column: str, reason: str, line: int = line) -> None:
            nonlocal ok
            problems.add(file, line, column, reason)
            ok = False

        key = values.get(key_column)
        if key is not None:
            seen.add(key)
            if key in first_line:
                fail(
                    key_column, f"duplicate {key_column} {key!r} (first on line {first_line[key]})"
                )
            else:
                first_line[key] = line
        row = build(line, values, fail)
        if ok:
            rows.append(row)
    return rows


def _patient(line: int, c: dict[str, Any], fail: Fail) -> PatientRow:
    return PatientRow(
        line=line,
        patient_id=c.get("patient_id", ""),
        birth_date=c.get("birth_date"),
        sex=c.get("sex"),
        phone=c.get("phone"),
        email=c.get("email"),
        first_name=c.get("first_name"),
        last_name=c.get("last_name"),
        clinic=c.get("clinic"),
        notes=c.get("notes"),
        distance_km=c.get("distance_km"),
        has_insurance=c.get("has_insurance"),
        contact_preference=c.get("contact_preference"),
        created_at=c.get("created_at"),
    )


def _visit(line: int, c: dict[str, Any], fail: Fail) -> AppointmentRow:
    status = c.get("status", "")
    row = AppointmentRow(
        line=line,
        appointment_id=c.get("appointment_id", ""),
        patient_id=c.get("patient_id", ""),
        booked_at=c.get("booked_at", _NO_TIME),
        start_at=c.get("start_at", _NO_TIME),
        status=status,
        clinic=c.get("clinic"),
        provider=c.get("provider"),
        chair=c.get("chair"),
        codes=c.get("procedure_code"),
        duration_min=c.get("duration_min"),
        fees=c.get("fee_cents"),
        provider_kind=c.get("provider_kind"),
        cancel_reason=c.get("cancel_reason"),
        confirmed_at=c.get("confirmed_at"),
        checked_in_at=c.get("checked_in_at"),
        completed_at=c.get("completed_at"),
        no_show_at=c.get("no_show_at"),
        cancelled_at=c.get("cancelled_at"),
    )
    cancelled = row.cancelled_at is not None
    if status == "cancelled" and not cancelled:
        fail("cancelled_at", "a cancelled appointment needs its cancelled_at time")
    if status and status != "cancelled" and cancelled:
        fail("cancelled_at", f"a {status} appointment has no cancelled_at time")
    if row.codes is not None and row.fees is not None and len(row.codes) != len(row.fees):
        fail("fee_cents", f"give one fee per procedure ({len(row.codes)} procedures)")
    return row


def _payment(line: int, c: dict[str, Any], fail: Fail) -> PaymentRow:
    row = PaymentRow(
        line=line,
        payment_id=c.get("payment_id", ""),
        patient_id=c.get("patient_id", ""),
        received_at=c.get("received_at", _NO_TIME),
        amount_cents=c.get("amount_cents", 0),
        method=c.get("method", ""),
        appointment_id=c.get("appointment_id"),
        currency=c.get("currency"),
        refunded_cents=c.get("refunded_cents"),
        refunded_at=c.get("refunded_at"),
        reference=c.get("reference"),
        refund_reason=c.get("refund_reason"),
    )
    amount, refunded = c.get("amount_cents"), row.refunded_cents
    if amount is not None and refunded is not None and refunded > amount:
        fail("refunded_cents", f"refunds of {refunded} cents exceed the payment of {amount} cents")
    if refunded and row.refunded_at is None:
        fail("refunded_at", "a refund needs its refunded_at time")
    if not refunded and row.refunded_at is not None:
        fail("refunded_at", "there is no refund (refunded_cents is 0 or empty)")
    return row


_NO_TIME = Stamp(datetime(1970, 1, 1), False)
