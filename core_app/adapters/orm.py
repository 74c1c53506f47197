"""Tables and the imperative mapping of the domain classes onto them.

Every table has `updated_at` (UTC, set on insert and update): the warehouse extracts by it.
Times are stored in UTC; patient-identifying fields are encrypted (see `types.py`).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import registry, relationship

from core_app.adapters.types import EncryptedDate, EncryptedText, UtcDateTime
from core_app.domain.appointment import (
    Appointment,
    AppointmentEvent,
    AppointmentProcedure,
    AppointmentStatus,
    BookingSource,
)
from core_app.domain.audit import AuditEntry, Outcome
from core_app.domain.billing import Charge, Payment, PaymentMethod, Refund
from core_app.domain.idempotency import IdempotencyRecord
from core_app.domain.no_show import RiskBand
from core_app.domain.patient import ContactPreference, Patient
from core_app.domain.practice import (
    Chair,
    Clinic,
    OpeningHours,
    Procedure,
    ProcedureCategory,
    Provider,
    ProviderKind,
    WorkingHours,
)
from core_app.domain.reminder import CallTaskStatus, Channel, ReminderKind, ReminderStatus
from core_app.domain.request import RequestKind, RequestStatus, SuggestionStatus
from core_app.domain.staff import Role, StaffUser

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)
mapper_registry = registry(metadata=metadata)

#: SQL text of the statuses that hold a slot (used in partial indexes and constraints)
ACTIVE_SQL = "status IN ('booked', 'confirmed', 'checked_in', 'completed')"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _updated_at() -> Column[datetime]:
    return Column(
        "updated_at", UtcDateTime, nullable=False, default=utcnow, onupdate=utcnow, index=True
    )


def _source_ref() -> Column[str]:
    """The record's key in the system it was imported from (unique; None if made here)."""
    return Column("source_ref", String(100), unique=True, index=True)


clinics = Table(
    "clinics",
    metadata,
    Column("clinic_id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("timezone", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("country", String(2), nullable=False),
    Column("is_active", Boolean, nullable=False, default=True),
    _updated_at(),
)

clinic_opening_hours = Table(
    "clinic_opening_hours",
    metadata,
    Column("opening_hours_id", Integer, primary_key=True),
    Column("clinic_id", ForeignKey("clinics.clinic_id"), nullable=False, index=True),
    Column("weekday", Integer, nullable=False),
    Column("start", Time, nullable=False),
    Column("end", Time, nullable=False),
    CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
    CheckConstraint('"start" < "end"', name="start_before_end"),
    _updated_at(),
)

providers = Table(
    "providers",
    metadata,
    Column("provider_id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", _enum(ProviderKind, "provider_kind"), nullable=False),
    Column("is_active", Boolean, nullable=False, default=True),
    _updated_at(),
)

provider_working_hours = Table(
    "provider_working_hours",
    metadata,
    Column("working_hours_id", Integer, primary_key=True),
    Column("provider_id", ForeignKey("providers.provider_id"), nullable=False, index=True),
    Column("clinic_id", ForeignKey("clinics.clinic_id"), nullable=False, index=True),
    Column("weekday", Integer, nullable=False),
    Column("start", Time, nullable=False),
    Column("end", Time, nullable=False),
    CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
    CheckConstraint('"start" < "end"', name="start_before_end"),
    _updated_at(),
)

chairs = Table(
    "chairs",
    metadata,
    Column("chair_id", Integer, primary_key=True),
    Column("clinic_id", ForeignKey("clinics.clinic_id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("is_active", Boolean, nullable=False, default=True),
    UniqueConstraint("clinic_id", "name", name="uq_chairs_clinic_id_name"),
    _updated_at(),
)

procedures = Table(
    "procedures",
    metadata,
    Column("procedure_id", Integer, primary_key=True),
    Column("clinic_id", ForeignKey("clinics.clinic_id"), nullable=False),
    Column("code", String(10), nullable=False),
    Column("name", String(200), nullable=False),
    Column("category", _enum(ProcedureCategory, "procedure_category"), nullable=False),
    Column("default_duration_min", Integer, nullable=False),
    Column("fee_cents", Integer, nullable=False),
    Column("hygienist_allowed", Boolean, nullable=False),
    Column("is_active", Boolean, nullable=False, default=True),
    UniqueConstraint("clinic_id", "code", name="uq_procedures_clinic_id_code"),
    CheckConstraint("fee_cents >= 0", name="fee_not_negative"),
    CheckConstraint("default_duration_min > 0", name="duration_positive"),
    _updated_at(),
)

patients = Table(
    "patients",
    metadata,
    Column("patient_id", Integer, primary_key=True),
    Column("clinic_id", ForeignKey("clinics.clinic_id"), nullable=False, index=True),
    Column("first_name", EncryptedText("patients.first_name"), nullable=False),
    Column("last_name", EncryptedText("patients.last_name"), nullable=False),
    Column("birth_date", EncryptedDate("patients.birth_date"), nullable=False),
    Column("phone", EncryptedText("patients.phone")),
    Column("email", EncryptedText("patients.email")),
    Column("notes", EncryptedText("patients.notes")),
    Column("sex", String(10)),
    Column("distance_km", Float),
    Column("has_insurance", Boolean, nullable=False, default=False),
    Column("contact_preference", _enum(ContactPreference, "contact_preference"), nullable=False),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    _source_ref(),
    _updated_at(),
)

staff_users = Table(
    "staff_users",
    metadata,
    Column("user_id", Integer, primary_key=True),
    Column("username", String(40), nullable=False, unique=True),
    Column("role", _enum(Role, "staff_role"), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("clinic_id", ForeignKey("clinics.clinic_id")),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    _updated_at(),
)

appointments = Table(
    "appointments",
    metadata,
    Column("appointment_id", Integer, primary_key=True),
    Column("clinic_id", ForeignKey("clinics.clinic_id"), nullable=False),
    Column("patient_id", ForeignKey("patients.patient_id"), nullable=False),
    Column("provider_id", ForeignKey("providers.provider_id"), nullable=False),
    Column("chair_id", ForeignKey("chairs.chair_id"), nullable=False),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
    Column("status", _enum(AppointmentStatus, "appointment_status"), nullable=False),
    Column("source", _enum(BookingSource, "booking_source"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("overbook_of_appointment_id", ForeignKey("appointments.appointment_id")),
    Column("booked_at", UtcDateTime, nullable=False),
    Column("booked_by_user_id", ForeignKey("staff_users.user_id")),
    Column("confirmed_at", UtcDateTime),
    Column("checked_in_at", UtcDateTime),
    Column("completed_at", UtcDateTime),
    Column("no_show_at", UtcDateTime),
    Column("cancelled_at", UtcDateTime),
    Column("cancelled_by_user_id", ForeignKey("staff_users.user_id")),
    Column("cancel_reason", String(500)),
    Column("is_late_cancel", Boolean, nullable=False, default=False),
    Column("reschedule_count", Integer, nullable=False, default=0),
    _source_ref(),
    CheckConstraint("start_at < end_at", name="start_before_end"),
    Index("ix_appointments_provider_id_start_at", "provider_id", "start_at"),
    Index("ix_appointments_chair_id_start_at", "chair_id", "start_at"),
    Index("ix_appointments_patient_id_start_at", "patient_id", "start_at"),
    Index("ix_appointments_clinic_id_start_at", "clinic_id", "start_at"),
    # at most one active overbook per appointment
    Index(
        "uq_appointments_one_overbook",
        "overbook_of_appointment_id",
        unique=True,
        sqlite_where=text(f"overbook_of_appointment_id IS NOT NULL AND {ACTIVE_SQL}"),
        postgresql_where=text(f"overbook_of_appointment_id IS NOT NULL AND {ACTIVE_SQL}"),
    ),
    _updated_at(),
)

appointment_procedures = Table(
    "appointment_procedures",
    metadata,
    Column("line_id", Integer, primary_key=True),
    Column("appointment_id", ForeignKey("appointments.appointment_id"), nullable=False, index=True),
    Column("procedure_id", ForeignKey("procedures.procedure_id"), nullable=False),
    Column("code", String(10), nullable=False),
    Column("category", String(20), nullable=False),
    Column("duration_min", Integer, nullable=False),
    Column("fee_cents", Integer, nullable=False),
    CheckConstraint("fee_cents >= 0", name="fee_not_negative"),
    _updated_at(),
)

appointment_events = Table(
    "appointment_events",
    metadata,
    Column("event_id", Integer, primary_key=True),
    Column("appointment_id", ForeignKey("appointments.appointment_id"), nullable=False, index=True),
    Column("event_type", String(20), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("actor_user_id", ForeignKey("staff_users.user_id")),
    Column("reason", String(500)),
    Column("from_start_at", UtcDateTime),
    Column("from_end_at", UtcDateTime),
    Column("from_provider_id", ForeignKey("providers.provider_id")),
    Column("from_chair_id", ForeignKey("chairs.chair_id")),
    _updated_at(),
)

charges = Table(
    "charges",
    metadata,
    Column("charge_id", Integer, primary_key=True),
    Column("clinic_id", ForeignKey("clinics.clinic_id"), nullable=False),
    Column("patient_id", ForeignKey("patients.patient_id"), nullable=False, index=True),
    Column("appointment_id", ForeignKey("appointments.appointment_id"), index=True),
    Column("procedure_code", String(10), nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("charged_at", UtcDateTime, nullable=False),
    CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
    _updated_at(),
)

payments = Table(
    "payments",
    metadata,
    Column("payment_id", Integer, primary_key=True),
    Column("clinic_id", ForeignKey("clinics.clinic_id"), nullable=False),
    Column("patient_id", ForeignKey("patients.patient_id"), nullable=False, index=True),
    Column("appointment_id", ForeignKey("appointments.appointment_id")),
    Column("amount_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("method", _enum(PaymentMethod, "payment_method"), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("recorded_by_user_id", ForeignKey("staff_users.user_id")),
    Column("reference", String(200)),
    _source_ref(),
    CheckConstraint("amount_cents > 0", name="amount_positive"),
    _updated_at(),
)

refunds = Table(
    "refunds",
    metadata,
    Column("refund_id", Integer, primary_key=True),
    Column("payment_id", ForeignKey("payments.payment_id"), nullable=False, index=True),
    Column("amount_cents", Integer, nullable=False),
    Column("refunded_at", UtcDateTime, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("recorded_by_user_id", ForeignKey("staff_users.user_id")),
    CheckConstraint("amount_cents > 0", name="amount_positive"),
    _updated_at(),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("idempotency_key_id", Integer, primary_key=True),
    Column("key", String(200), nullable=False),
    Column("command", String(50), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("result_id", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("key", name="uq_idempotency_keys_key"),
    _updated_at(),
)

no_show_scores = Table(
    "no_show_scores",
    metadata,
    Column("appointment_id", ForeignKey("appointments.appointment_id"), primary_key=True),
    Column("clinic_id", ForeignKey("clinics.clinic_id"), nullable=False, index=True),
    Column("probability", Float, nullable=False),
    Column("risk_band", _enum(RiskBand, "risk_band"), nullable=False),
    Column("factors", Text, nullable=False),  # JSON list of plain-word factors
    Column("model_version", String(100), nullable=False),
    Column("scored_at", UtcDateTime, nullable=False),
    _updated_at(),
    CheckConstraint("probability >= 0 AND probability <= 1", name="probability_in_0_1"),
)

clinic_risk_thresholds = Table(
    "clinic_risk_thresholds",
    metadata,
    Column("clinic_id", ForeignKey("clinics.clinic_id"), primary_key=True),
    Column("medium", Float, nullable=False),
    Column("high", Float, nullable=False),
    _updated_at(),
    CheckConstraint("0 < medium AND medium < high AND high < 1", name="ordered"),
)

requests = Table(
    "requests",
    metadata,
    Column("request_id", Integer, primary_key=True),
    Column("clinic_id", ForeignKey("clinics.clinic_id"), nullable=False),
    Column("patient_id", ForeignKey("patients.patient_id"), index=True),
    Column("kind", _enum(RequestKind, "request_kind"), nullable=False),
    Column("procedure_codes", String(100), nullable=False),  # catalog codes joined by +
    Column("duration_min", Integer, nullable=False),
    Column("preferred_provider_id", ForeignKey("providers.provider_id")),
    Column("preferred_hours", String(200)),  # weekly hours text, e.g. 'mon-fri 08:00-12:00'
    Column("earliest_date", Date, nullable=False),
    Column("latest_date", Date, nullable=False),
    Column("urgency", Integer, nullable=False),
    Column("status", _enum(RequestStatus, "request_status"), nullable=False),
    Column("appointment_id", ForeignKey("appointments.appointment_id")),
    Column("requested_at", UtcDateTime, nullable=False),
    _updated_at(),
    Index("ix_requests_clinic_id_status", "clinic_id", "status"),
    CheckConstraint("earliest_date <= latest_date", name="window"),
    CheckConstraint("urgency BETWEEN 1 AND 3", name="urgency"),
    CheckConstraint("duration_min > 0", name="duration"),
    CheckConstraint("kind = 'new_patient' OR patient_id IS NOT NULL", name="patient"),
)

suggestions = Table(
    "suggestions",
    metadata,
    Column("suggestion_id", Integer, primary_key=True),
    Column("request_id", ForeignKey("requests.request_id"), nullable=False, index=True),
    Column("clinic_id", ForeignKey("clinics.clinic_id"), nullable=False),
    Column("provider_id", ForeignKey("providers.provider_id"), nullable=False),
    Column("chair_id", ForeignKey("chairs.chair_id"), nullable=False),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
    Column("overbook_of_appointment_id", ForeignKey("appointments.appointment_id")),
    Column("score", Float, nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list of plain-word reasons
    Column("plan_ref", String(100)),
    Column("status", _enum(SuggestionStatus, "suggestion_status"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime),
    Column("decided_by_user_id", ForeignKey("staff_users.user_id")),
    Column("reject_reason", String(500)),
    Column("appointment_id", ForeignKey("appointments.appointment_id")),
    _updated_at(),
    Index("ix_suggestions_clinic_id_status_start_at", "clinic_id", "status", "start_at"),
    CheckConstraint("start_at < end_at", name="start_before_end"),
)

reminder_policies = Table(
    "reminder_policies",
    metadata,
    Column("clinic_id", ForeignKey("clinics.clinic_id"), primary_key=True),
    Column("standard_minutes", String(100), nullable=False),  # comma-separated offsets
    Column("short_enabled", Boolean, nullable=False),
    Column("high_risk_minutes", String(100), nullable=False),
    Column("high_risk_call_task", Boolean, nullable=False),
    Column("day_start", Time, nullable=False),
    Column("day_end", Time, nullable=False),
    Column("min_lead_minutes", Integer, nullable=False),
    _updated_at(),
)

#: the outbox: one row per message to send; written in the transaction that books, moves or
#: cancels the appointment, read and updated by the dispatcher (see service_layer/dispatch.py)
reminders = Table(
    "reminders",
    metadata,
    Column("reminder_id", Integer, primary_key=True),
    Column("appointment_id", ForeignKey("appointments.appointment_id"), nullable=False, index=True),
    Column("clinic_id", ForeignKey("clinics.clinic_id"), nullable=False),
    Column("kind", _enum(ReminderKind, "reminder_kind"), nullable=False),
    Column("offset_minutes", Integer),
    Column("channel", _enum(Channel, "reminder_channel"), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("status", _enum(ReminderStatus, "reminder_status"), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("claimed_by", String(100)),
    Column("lease_until", UtcDateTime),
    Column("sent_at", UtcDateTime),
    Column("provider_ref", String(200)),
    Column("last_error", String(300)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("requested_by_user_id", ForeignKey("staff_users.user_id")),
    _updated_at(),
    Index("ix_reminders_status_next_attempt_at", "status", "next_attempt_at"),
    CheckConstraint("attempts >= 0", name="attempts_not_negative"),
)

call_tasks = Table(
    "call_tasks",
    metadata,
    Column("task_id", Integer, primary_key=True),
    Column("appointment_id", ForeignKey("appointments.appointment_id"), nullable=False),
    Column("clinic_id", ForeignKey("clinics.clinic_id"), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("status", _enum(CallTaskStatus, "call_task_status"), nullable=False),
    Column("outcome", String(500)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime),
    Column("completed_by_user_id", ForeignKey("staff_users.user_id")),
    _updated_at(),
    UniqueConstraint("appointment_id", name="uq_call_tasks_appointment_id"),
    Index("ix_call_tasks_clinic_id_due_date", "clinic_id", "due_date"),
)

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("audit_id", Integer, primary_key=True),
    Column("occurred_at", UtcDateTime, nullable=False, index=True),
    Column("actor_user_id", Integer),
    Column("actor_username", String(40), nullable=False),
    Column("action", String(50), nullable=False),
    Column("entity_type", String(30), nullable=False),
    Column("entity_id", String(40)),
    Column("outcome", _enum(Outcome, "audit_outcome"), nullable=False),
    Column("detail", Text),
    Column("seq", Integer),  # position in the hash chain (see domain.audit)
    Column("chain_hash", String(64)),
    Index("uq_audit_entries_seq", "seq", unique=True),
    _updated_at(),
)

#: emergency ("break-glass") access: a user's time-limited grant of actions their role lacks,
#: with the reason they gave; open until `expires_at`, then reviewed by an admin
break_glass_grants = Table(
    "break_glass_grants",
    metadata,
    Column("grant_id", Integer, primary_key=True),
    Column("user_id", ForeignKey("staff_users.user_id"), nullable=False, index=True),
    Column("actions", String(500), nullable=False),  # Action values joined by ','
    Column("clinic_id", ForeignKey("clinics.clinic_id")),  # None: the user's own scope
    Column("reason", EncryptedText("break_glass_grants.reason"), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("reviewed_at", UtcDateTime),
    Column("reviewed_by_user_id", ForeignKey("staff_users.user_id")),
    Column("review_note", EncryptedText("break_glass_grants.review_note")),
    CheckConstraint("opened_at < expires_at", name="opens_before_expiry"),
    _updated_at(),
)


# --- API sign-in (issue 8, migration 0006): sessions, TOTP secrets, sign-in attempts, and the
# card processor's events already handled. Plain tables used by core_app.adapters.auth_store.

api_sessions = Table(
    "api_sessions",
    metadata,
    Column("session_id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the token
    Column("user_id", ForeignKey("staff_users.user_id"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),  # the absolute lifetime's end
    Column("revoked_at", UtcDateTime),
    _updated_at(),
)

totp_secrets = Table(
    "totp_secrets",
    metadata,
    Column("user_id", ForeignKey("staff_users.user_id"), primary_key=True),
    Column("secret", EncryptedText("totp_secrets.secret"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("confirmed_at", UtcDateTime),  # set by the first correct code
    Column("last_used_step", Integer),  # a code's 30 s step is accepted once (no replay)
    _updated_at(),
)

sign_in_attempts = Table(
    "sign_in_attempts",
    metadata,
    Column("attempt_id", Integer, primary_key=True),
    Column("username", String(40), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("is_success", Boolean, nullable=False),
    _updated_at(),
    Index("ix_sign_in_attempts_username_occurred_at", "username", "occurred_at"),
)

processor_events = Table(
    "processor_events",
    metadata,
    Column("event_id", String(255), primary_key=True),  # the processor's event id
    Column("processor", String(20), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("payment_id", ForeignKey("payments.payment_id")),
    _updated_at(),
)


def start_mappers() -> None:
    """Map the domain classes onto the tables (once per process)."""
    if mapper_registry.mappers:
        return
    reg = mapper_registry
    reg.map_imperatively(OpeningHours, clinic_opening_hours)
    reg.map_imperatively(
        Clinic,
        clinics,
        properties={
            "opening_hours": relationship(
                OpeningHours,
                cascade="all, delete-orphan",
                lazy="selectin",
                order_by=[clinic_opening_hours.c.weekday, clinic_opening_hours.c.start],
            )
        },
    )
    reg.map_imperatively(WorkingHours, provider_working_hours)
    reg.map_imperatively(
        Provider,
        providers,
        properties={
            "working_hours": relationship(
                WorkingHours,
                cascade="all, delete-orphan",
                lazy="selectin",
                order_by=[provider_working_hours.c.weekday, provider_working_hours.c.start],
            )
        },
    )
    reg.map_imperatively(Chair, chairs)
    reg.map_imperatively(Procedure, procedures)
    reg.map_imperatively(Patient, patients)
    reg.map_imperatively(StaffUser, staff_users)
    reg.map_imperatively(AppointmentProcedure, appointment_procedures)
    reg.map_imperatively(AppointmentEvent, appointment_events)
    reg.map_imperatively(
        Appointment,
        appointments,
        properties={
            "procedures": relationship(
                AppointmentProcedure,
                cascade="all, delete-orphan",
                lazy="selectin",
                order_by=appointment_procedures.c.line_id,
            ),
            "events": relationship(
                AppointmentEvent,
                cascade="all, delete-orphan",
                lazy="selectin",
                order_by=appointment_events.c.event_id,
            ),
        },
    )
    reg.map_imperatively(Charge, charges)
    reg.map_imperatively(Refund, refunds)
    reg.map_imperatively(
        Payment,
        payments,
        properties={
            "refunds": relationship(
                Refund,
                cascade="all, delete-orphan",
                lazy="selectin",
                order_by=refunds.c.refund_id,
            )
        },
    )
    reg.map_imperatively(IdempotencyRecord, idempotency_keys)
    reg.map_imperatively(AuditEntry, audit_entries)
    # now, not at the first query: the booking path reads with Core statements and builds
    # domain objects itself (`booking_store`), so a process whose first request books a taken
    # slot met the mapped classes' attributes not yet set up (AttributeError, a 500)
    reg.configure()
