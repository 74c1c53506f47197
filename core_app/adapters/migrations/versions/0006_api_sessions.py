"""API sign-in: sessions, TOTP secrets, sign-in attempts; card processor events

`api_sessions`: opaque session tokens (only their sha256 is stored) with the last use and the
absolute expiry. `totp_secrets`: each user's TOTP secret, encrypted like patient data, and the
last accepted 30 s step. `sign_in_attempts`: successes and failures per username, for the lock
after repeated failures. `processor_events`: card processor webhook events already handled.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_sessions",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("last_seen_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("revoked_at", UTC_TIME, nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.user_id"], name="fk_api_sessions_user_id_staff_users"
        ),
        sa.PrimaryKeyConstraint("session_id", name="pk_api_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_api_sessions_token_hash"),
    )
    op.create_index("ix_api_sessions_user_id", "api_sessions", ["user_id"])
    op.create_index("ix_api_sessions_updated_at", "api_sessions", ["updated_at"])

    op.create_table(
        "totp_secrets",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("confirmed_at", UTC_TIME, nullable=True),
        sa.Column("last_used_step", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.user_id"], name="fk_totp_secrets_user_id_staff_users"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_totp_secrets"),
    )
    op.create_index("ix_totp_secrets_updated_at", "totp_secrets", ["updated_at"])

    op.create_table(
        "sign_in_attempts",
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", UTC_TIME, nullable=False),
        sa.Column("is_success", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("attempt_id", name="pk_sign_in_attempts"),
    )
    op.create_index(
        "ix_sign_in_attempts_username_occurred_at",
        "sign_in_attempts",
        ["username", "occurred_at"],
    )
    op.create_index("ix_sign_in_attempts_updated_at", "sign_in_attempts", ["updated_at"])

    op.create_table(
        "processor_events",
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("processor", sa.String(length=20), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.payment_id"], name="fk_processor_events_payment_id_payments"
        ),
        sa.PrimaryKeyConstraint("event_id", name="pk_processor_events"),
    )
    op.create_index("ix_processor_events_updated_at", "processor_events", ["updated_at"])


def downgrade() -> None:
    op.drop_table("processor_events")
    op.drop_table("sign_in_attempts")
    op.drop_table("totp_secrets")
    op.drop_table("api_sessions")
