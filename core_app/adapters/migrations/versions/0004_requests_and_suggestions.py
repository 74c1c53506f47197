"""requests and suggestions

`requests`: someone waiting for an appointment (waitlist, recall due, new patient) with the
procedures, the date window, preferred provider and hours, and urgency; open until booked or
cancelled. `suggestions`: the optimizer's proposed slots for a request, pending until a scheduler
accepts (books through the usual rules) or rejects them, or they expire.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 12:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("procedure_codes", sa.String(length=100), nullable=False),
        sa.Column("duration_min", sa.Integer(), nullable=False),
        sa.Column("preferred_provider_id", sa.Integer(), nullable=True),
        sa.Column("preferred_hours", sa.String(length=200), nullable=True),
        sa.Column("earliest_date", sa.Date(), nullable=False),
        sa.Column("latest_date", sa.Date(), nullable=False),
        sa.Column("urgency", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint("earliest_date <= latest_date", name="ck_requests_window"),
        sa.CheckConstraint("urgency BETWEEN 1 AND 3", name="ck_requests_urgency"),
        sa.CheckConstraint("duration_min > 0", name="ck_requests_duration"),
        sa.CheckConstraint(
            "kind = 'new_patient' OR patient_id IS NOT NULL", name="ck_requests_patient"
        ),
        sa.CheckConstraint(
            "kind IN ('waitlist', 'recall', 'new_patient')", name="ck_requests_request_kind"
        ),
        sa.CheckConstraint(
            "status IN ('open', 'booked', 'cancelled')", name="ck_requests_request_status"
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.clinic_id"], name="fk_requests_clinic_id_clinics"
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.patient_id"], name="fk_requests_patient_id_patients"
        ),
        sa.ForeignKeyConstraint(
            ["preferred_provider_id"],
            ["providers.provider_id"],
            name="fk_requests_preferred_provider_id_providers",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.appointment_id"],
            name="fk_requests_appointment_id_appointments",
        ),
        sa.PrimaryKeyConstraint("request_id", name="pk_requests"),
    )
    op.create_index("ix_requests_clinic_id_status", "requests", ["clinic_id", "status"])
    op.create_index("ix_requests_patient_id", "requests", ["patient_id"])
    op.create_index("ix_requests_updated_at", "requests", ["updated_at"])
    op.create_table(
        "suggestions",
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("chair_id", sa.Integer(), nullable=False),
        sa.Column("start_at", UTC_TIME, nullable=False),
        sa.Column("end_at", UTC_TIME, nullable=False),
        sa.Column("overbook_of_appointment_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("plan_ref", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("decided_at", UTC_TIME, nullable=True),
        sa.Column("decided_by_user_id", sa.Integer(), nullable=True),
        sa.Column("reject_reason", sa.String(length=500), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint("start_at < end_at", name="ck_suggestions_start_before_end"),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'rejected', 'expired')",
            name="ck_suggestions_suggestion_status",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.request_id"], name="fk_suggestions_request_id_requests"
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.clinic_id"], name="fk_suggestions_clinic_id_clinics"
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.provider_id"],
            name="fk_suggestions_provider_id_providers",
        ),
        sa.ForeignKeyConstraint(
            ["chair_id"], ["chairs.chair_id"], name="fk_suggestions_chair_id_chairs"
        ),
        sa.ForeignKeyConstraint(
            ["overbook_of_appointment_id"],
            ["appointments.appointment_id"],
            name="fk_suggestions_overbook_of_appointment_id_appointments",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["staff_users.user_id"],
            name="fk_suggestions_decided_by_user_id_staff_users",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.appointment_id"],
            name="fk_suggestions_appointment_id_appointments",
        ),
        sa.PrimaryKeyConstraint("suggestion_id", name="pk_suggestions"),
    )
    op.create_index(
        "ix_suggestions_clinic_id_status_start_at",
        "suggestions",
        ["clinic_id", "status", "start_at"],
    )
    op.create_index("ix_suggestions_request_id", "suggestions", ["request_id"])
    op.create_index("ix_suggestions_updated_at", "suggestions", ["updated_at"])


def downgrade() -> None:
    for index in (
        "ix_suggestions_updated_at",
        "ix_suggestions_request_id",
        "ix_suggestions_clinic_id_status_start_at",
    ):
        op.drop_index(index, table_name="suggestions")
    op.drop_table("suggestions")
    for index in (
        "ix_requests_updated_at",
        "ix_requests_patient_id",
        "ix_requests_clinic_id_status",
    ):
        op.drop_index(index, table_name="requests")
    op.drop_table("requests")
