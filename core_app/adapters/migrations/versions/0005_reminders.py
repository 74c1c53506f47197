"""reminders: per-clinic policy, the outbox and front-desk call tasks

`reminder_policies`: a clinic's reminder rules (defaults apply without a row). `reminders`: the
outbox, one row per message, written in the transaction that books, moves or cancels the
appointment and worked off by the dispatcher (status, attempts, lease). `call_tasks`: a phone
call the front desk makes for a high-risk appointment.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reminder_policies",
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("standard_minutes", sa.String(length=100), nullable=False),
        sa.Column("short_enabled", sa.Boolean(), nullable=False),
        sa.Column("high_risk_minutes", sa.String(length=100), nullable=False),
        sa.Column("high_risk_call_task", sa.Boolean(), nullable=False),
        sa.Column("day_start", sa.Time(), nullable=False),
        sa.Column("day_end", sa.Time(), nullable=False),
        sa.Column("min_lead_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.clinic_id"], name="fk_reminder_policies_clinic_id_clinics"
        ),
        sa.PrimaryKeyConstraint("clinic_id", name="pk_reminder_policies"),
    )
    op.create_index("ix_reminder_policies_updated_at", "reminder_policies", ["updated_at"])
    op.create_table(
        "reminders",
        sa.Column("reminder_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_TIME, nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("lease_until", UTC_TIME, nullable=True),
        sa.Column("sent_at", UTC_TIME, nullable=True),
        sa.Column("provider_ref", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("requested_by_user_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint("attempts >= 0", name="ck_reminders_attempts_not_negative"),
        sa.CheckConstraint(
            "kind IN ('standard', 'short', 'high_risk', 'extra')", name="ck_reminders_reminder_kind"
        ),
        sa.CheckConstraint("channel IN ('email', 'sms')", name="ck_reminders_reminder_channel"),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'cancelled', 'skipped')",
            name="ck_reminders_reminder_status",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.appointment_id"],
            name="fk_reminders_appointment_id_appointments",
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.clinic_id"], name="fk_reminders_clinic_id_clinics"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_user_id"],
            ["staff_users.user_id"],
            name="fk_reminders_requested_by_user_id_staff_users",
        ),
        sa.PrimaryKeyConstraint("reminder_id", name="pk_reminders"),
    )
    op.create_index("ix_reminders_appointment_id", "reminders", ["appointment_id"])
    op.create_index(
        "ix_reminders_status_next_attempt_at", "reminders", ["status", "next_attempt_at"]
    )
    op.create_index("ix_reminders_updated_at", "reminders", ["updated_at"])
    op.create_table(
        "call_tasks",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("completed_at", UTC_TIME, nullable=True),
        sa.Column("completed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'done', 'cancelled')", name="ck_call_tasks_call_task_status"
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.appointment_id"],
            name="fk_call_tasks_appointment_id_appointments",
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.clinic_id"], name="fk_call_tasks_clinic_id_clinics"
        ),
        sa.ForeignKeyConstraint(
            ["completed_by_user_id"],
            ["staff_users.user_id"],
            name="fk_call_tasks_completed_by_user_id_staff_users",
        ),
        sa.PrimaryKeyConstraint("task_id", name="pk_call_tasks"),
        sa.UniqueConstraint("appointment_id", name="uq_call_tasks_appointment_id"),
    )
    op.create_index("ix_call_tasks_clinic_id_due_date", "call_tasks", ["clinic_id", "due_date"])
    op.create_index("ix_call_tasks_updated_at", "call_tasks", ["updated_at"])


def downgrade() -> None:
    for index in ("ix_call_tasks_updated_at", "ix_call_tasks_clinic_id_due_date"):
        op.drop_index(index, table_name="call_tasks")
    op.drop_table("call_tasks")
    for index in (
        "ix_reminders_updated_at",
        "ix_reminders_status_next_attempt_at",
        "ix_reminders_appointment_id",
    ):
        op.drop_index(index, table_name="reminders")
    op.drop_table("reminders")
    op.drop_index("ix_reminder_policies_updated_at", table_name="reminder_policies")
    op.drop_table("reminder_policies")
