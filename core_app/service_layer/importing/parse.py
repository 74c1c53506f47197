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
from typing import TypeVar

from core_app.domain.patient import ContactPreference
from core_app.domain.practice import ProviderKind
from core_app.service_layer.importing import values as v
from core_app.service_layer.importing.csv_format import APPOINTMENTS, FILES, PATIENTS, PAYMENTS
from core_app.service_layer.importing.problems import Problems
from core_app.service_layer.importing.reader import Cells, Table, read_table
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


def parse_folder(folder: Path, problems: Problems) -> Parsed:
    tables = {spec.name: read_table(folder, spec, problems) for spec in FILES}
    seen: dict[str, set[str]] = {spec.name: set() for spec in FILES}
    return Parsed(
        patients=_rows(tables[PATIENTS.name], "patient_id", _patient, problems, seen),
        appointments=_rows(tables[APPOINTMENTS.name], "appointment_id", _visit, problems, seen),
        payments=_rows(tables[PAYMENTS.name], "payment_id", _payment, problems, seen),
        columns={name: t.present if t else frozenset() for name, t in tables.items()},
        seen=seen,
    )


def _rows(
    table: Table | None,
    key_column: str,
    build: Callable[[Cells, str], R],
    problems: Problems,
    seen: dict[str, set[str]],
) -> list[R]:
    if table is None:
        return []
    file = table.spec.name
    first_line: dict[str, int] = {}
    rows: list[R] = []
    for line, texts in table.records:
        cells = Cells(table, line, texts, problems)
        key = cells.read(key_column, v.key, required=True)
        if key is not None:
            seen[file].add(key)
            if key in first_line:
                cells.fail(
                    key_column, f"duplicate {key_column} {key!r} (first on line {first_line[key]})"
                )
            else:
                first_line[key] = line
        row = build(cells, key or "")
        if cells.ok:
            rows.append(row)
    return rows


def _patient(c: Cells, key: str) -> PatientRow:
    c.read("area", partial(v.bounded_text, high=100, what="area"))  # checked, not stored
    return PatientRow(
        line=c.line,
        patient_id=key,
        birth_date=c.read("birth_date", v.birth_date),
        sex=c.read("sex", v.sex),
        phone=c.read("phone", _text200),
        email=c.read("email", _text200),
        first_name=c.read("first_name", _text200),
        last_name=c.read("last_name", _text200),
        clinic=c.read("clinic", _text200),
        notes=c.read("notes", partial(v.bounded_text, high=5000, what="notes")),
        distance_km=c.read("distance_km", partial(v.decimal, low=0, high=1000, what="distance")),
        has_insurance=c.read("has_insurance", v.boolean),
        contact_preference=c.read(
            "contact_preference", partial(v.choice, allowed=CONTACTS, what="contact preference")
        ),
        created_at=c.read("created_at", _stamp),
    )


def _visit(c: Cells, key: str) -> AppointmentRow:
    c.read("reminder_sent", v.boolean)  # checked, not stored
    status = c.read("status", v.status, required=True) or ""
    row = AppointmentRow(
        line=c.line,
        appointment_id=key,
        patient_id=c.read("patient_id", v.key, required=True) or "",
        booked_at=c.read("booked_at", _stamp, required=True) or _NO_TIME,
        start_at=c.read("start_at", _stamp, required=True) or _NO_TIME,
        status=status,
        clinic=c.read("clinic", _text200),
        provider=c.read("provider", _text200),
        chair=c.read("chair", _text200),
        codes=c.read("procedure_code", v.codes),
        duration_min=c.read(
            "duration_min", partial(v.integer, low=5, high=480, what="duration_min")
        ),
        fees=c.read("fee_cents", v.cents_list),
        provider_kind=c.read("provider_kind", partial(v.choice, allowed=KINDS, what="kind")),
        cancel_reason=c.read("cancel_reason", _text500),
        confirmed_at=c.read("confirmed_at", _stamp),
        checked_in_at=c.read("checked_in_at", _stamp),
        completed_at=c.read("completed_at", _stamp),
        no_show_at=c.read("no_show_at", _stamp),
        cancelled_at=c.read("cancelled_at", _stamp),
    )
    cancelled = c.text("cancelled_at") != ""
    if status == "cancelled" and not cancelled:
        c.fail("cancelled_at", "a cancelled appointment needs its cancelled_at time")
    if status and status != "cancelled" and cancelled:
        c.fail("cancelled_at", f"a {status} appointment has no cancelled_at time")
    if row.codes is not None and row.fees is not None and len(row.codes) != len(row.fees):
        c.fail("fee_cents", f"give one fee per procedure ({len(row.codes)} procedures)")
    return row


def _payment(c: Cells, key: str) -> PaymentRow:
    amount = c.read(
        "amount_cents",
        partial(v.integer, low=1, high=100_000_000_00, what="amount_cents"),
        required=True,
    )
    refunded = c.read(
        "refunded_cents", partial(v.integer, low=0, high=100_000_000_00, what="refunded_cents")
    )
    row = PaymentRow(
        line=c.line,
        payment_id=key,
        patient_id=c.read("patient_id", v.key, required=True) or "",
        received_at=c.read("received_at", _stamp, required=True) or _NO_TIME,
        amount_cents=amount or 0,
        method=c.read("method", v.method, required=True) or "",
        appointment_id=c.read("appointment_id", v.key),
        currency=c.read("currency", partial(v.bounded_text, high=3, what="currency")),
        refunded_cents=refunded,
        refunded_at=c.read("refunded_at", _stamp),
        reference=c.read("reference", _text200),
        refund_reason=c.read("refund_reason", _text500),
    )
    if amount is not None and refunded is not None and refunded > amount:
        c.fail(
            "refunded_cents", f"refunds of {refunded} cents exceed the payment of {amount} cents"
        )
    if refunded and not c.text("refunded_at"):
        c.fail("refunded_at", "a refund needs its refunded_at time")
    if not refunded and c.text("refunded_at"):
        c.fail("refunded_at", "there is no refund (refunded_cents is 0 or empty)")
    return row


_NO_TIME = Stamp(datetime(1970, 1, 1), False)
