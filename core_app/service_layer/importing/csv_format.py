"""The interchange format: which files, which columns, what each one holds.

This is the single definition used by the parser, the exporter and the documentation test
(every column here must be described in `docs/import-format.md`). Columns marked `extension`
are dentops's own additions to the columns the issue names: optional on import, always written
on export, so that an export re-imports without loss.
"""

from __future__ import annotations

from typing import NamedTuple


class Column(NamedTuple):
    name: str
    required: bool
    kind: str
    meaning: str
    extension: bool = False


class FileSpec(NamedTuple):
    name: str
    required: bool
    columns: tuple[Column, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def _c(name: str, kind: str, meaning: str, *, required: bool = False) -> Column:
    return Column(name, required, kind, meaning)


def _x(name: str, kind: str, meaning: str) -> Column:
    return Column(name, False, kind, meaning, extension=True)


STATUSES = ("completed", "no_show", "cancelled", "booked", "confirmed", "checked_in")
METHODS = ("cash", "card", "insurance", "other")
#: separates several procedure codes (and their fees) in one cell: `D0120+D1110`
LIST_SEPARATOR = "+"

PATIENTS = FileSpec(
    "patients.csv",
    True,
    (
        _c("patient_id", "text (1-50)", "the patient's key in the source system", required=True),
        _c("birth_date", "date", "YYYY-MM-DD; empty: unknown (placeholder, flagged)"),
        _c("sex", "enum", "female, male, other (also f, m, o, x); u, unknown or empty: not known"),
        _c("area", "text (0-100)", "home area; read and checked but not stored (no column yet)"),
        _c("phone", "text", "6-20 digits, spaces or +()-./"),
        _c("email", "text", "an email address"),
        _c("first_name", "text (0-200)", "empty: unknown (placeholder, flagged)"),
        _c("last_name", "text (0-200)", "empty: unknown (placeholder, flagged)"),
        _x("clinic", "text", "clinic name; default: the clinic of the patient's appointments"),
        _x("notes", "text", "free-text notes (stored encrypted)"),
        _x("distance_km", "decimal", "distance from home to the clinic, 0-1000"),
        _x("has_insurance", "boolean", "true/false; empty: false"),
        _x("contact_preference", "enum", "sms, email or phone; empty: sms"),
        _x("created_at", "timestamp", "registration time; default: the first booking in the files"),
    ),
)

APPOINTMENTS = FileSpec(
    "appointments.csv",
    True,
    (
        _c("appointment_id", "text (1-50)", "the appointment's key in the source", required=True),
        _c(
            "patient_id", "text", "a patient_id of patients.csv (or imported before)", required=True
        ),
        _c("booked_at", "timestamp", "when the appointment was booked", required=True),
        _c(
            "start_at",
            "timestamp or date",
            "start; a date alone is placed in the day",
            required=True,
        ),
        _c(
            "status",
            "enum",
            "completed, no_show, cancelled, booked, confirmed, checked_in",
            required=True,
        ),
        _c("clinic", "text", "clinic name; created when missing; default: --clinic"),
        _c("provider", "text", "provider name at the clinic; created when missing"),
        _c("chair", "text", "chair name at the clinic; created when missing"),
        _c("procedure_code", "codes", "catalog code(s), several joined by +; default: --procedure"),
        _c("duration_min", "integer", "5-480 minutes; default: the procedures' catalog durations"),
        _c("cancelled_at", "timestamp", "required for, and only for, cancelled appointments"),
        _c("reminder_sent", "boolean", "read and checked but not stored (no reminders table yet)"),
        _c("fee_cents", "cents list", "fee per procedure, joined by +; default: the catalog fee"),
        _x("provider_kind", "enum", "dentist or hygienist, for a provider that is created"),
        _x("cancel_reason", "text (1-500)", "why it was cancelled; default: imported"),
        _x("confirmed_at", "timestamp", "when it was confirmed"),
        _x("checked_in_at", "timestamp", "when the patient checked in"),
        _x("completed_at", "timestamp", "when the visit was completed"),
        _x("no_show_at", "timestamp", "when it was marked a no-show"),
    ),
)

PAYMENTS = FileSpec(
    "payments.csv",
    False,
    (
        _c("payment_id", "text (1-50)", "the payment's key in the source system", required=True),
        _c(
            "patient_id",
            "text",
            "who paid: a patient_id of patients.csv (or imported)",
            required=True,
        ),
        _c("received_at", "timestamp", "when the money was received", required=True),
        _c("amount_cents", "cents", "amount received, a positive integer", required=True),
        _c("method", "enum", "cash, card, insurance or other", required=True),
        _c("appointment_id", "text", "the appointment it pays for (same patient)"),
        _c("currency", "text", "ISO 4217 code; must be the clinic's; default: the clinic's"),
        _c("refunded_cents", "cents", "total refunded so far, 0 to amount_cents; default 0"),
        _c("refunded_at", "timestamp", "when the (last) refund was made; needed with a refund"),
        _c("reference", "text (0-200)", "card slip, cheque or claim number"),
        _x("refund_reason", "text (1-500)", "why it was refunded; default: imported refund"),
    ),
)

FILES = (PATIENTS, APPOINTMENTS, PAYMENTS)
