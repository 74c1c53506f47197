"""no-show scores and clinic risk thresholds

`no_show_scores`: the current model's probability for an upcoming appointment, its band and its
plain-word factors (written by the scoring pipeline, read by the front desk). One row per
appointment, replaced by each scoring run. `clinic_risk_thresholds`: per clinic, the
probabilities from which an appointment counts as medium and high risk (defaults apply while a
clinic has no row).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "no_show_scores",
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("risk_band", sa.String(length=20), nullable=False),
        sa.Column("factors", sa.Text(), nullable=False),
        sa.Column("model_version", sa.String(length=100), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "probability >= 0 AND probability <= 1",
            name="ck_no_show_scores_probability_in_0_1",
        ),
        sa.CheckConstraint(
            "risk_band IN ('low', 'medium', 'high')", name="ck_no_show_scores_risk_band"
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.appointment_id"],
            name="fk_no_show_scores_appointment_id_appointments",
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.clinic_id"], name="fk_no_show_scores_clinic_id_clinics"
        ),
        sa.PrimaryKeyConstraint("appointment_id", name="pk_no_show_scores"),
    )
    op.create_index("ix_no_show_scores_clinic_id", "no_show_scores", ["clinic_id"])
    op.create_index("ix_no_show_scores_updated_at", "no_show_scores", ["updated_at"])
    op.create_table(
        "clinic_risk_thresholds",
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("medium", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "0 < medium AND medium < high AND high < 1", name="ck_clinic_risk_thresholds_ordered"
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.clinic_id"],
            name="fk_clinic_risk_thresholds_clinic_id_clinics",
        ),
        sa.PrimaryKeyConstraint("clinic_id", name="pk_clinic_risk_thresholds"),
    )
    op.create_index(
        "ix_clinic_risk_thresholds_updated_at", "clinic_risk_thresholds", ["updated_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_clinic_risk_thresholds_updated_at", table_name="clinic_risk_thresholds")
    op.drop_table("clinic_risk_thresholds")
    op.drop_index("ix_no_show_scores_updated_at", table_name="no_show_scores")
    op.drop_index("ix_no_show_scores_clinic_id", table_name="no_show_scores")
    op.drop_table("no_show_scores")
