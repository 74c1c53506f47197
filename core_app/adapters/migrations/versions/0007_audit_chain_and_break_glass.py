"""audit hash chain and break-glass grants

`audit_entries` gain `seq` (unique) and `chain_hash` (HMAC-SHA-256 chain, see
`core_app.domain.audit`); entries already present are chained here, in `audit_id` order, with
the installed key ring's audit key (the append-only triggers are lifted for that and put back).
`break_glass_grants`: time-limited emergency grants of actions a user's role lacks.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 15:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core_app.adapters.crypto import installed_keyring
from core_app.domain.audit import GENESIS, canonical, link

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("audit_entries", sa.Column("seq", sa.Integer(), nullable=True))
    op.add_column("audit_entries", sa.Column("chain_hash", sa.String(length=64), nullable=True))
    op.create_index("uq_audit_entries_seq", "audit_entries", ["seq"], unique=True)
    _chain_existing_entries()
    op.create_table(
        "break_glass_grants",
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("actions", sa.String(length=500), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("reviewed_at", UTC_TIME, nullable=True),
        sa.Column("reviewed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "opened_at < expires_at", name="ck_break_glass_grants_opens_before_expiry"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.user_id"], name="fk_break_glass_grants_user_id_staff_users"
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.clinic_id"], name="fk_break_glass_grants_clinic_id_clinics"
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_user_id"],
            ["staff_users.user_id"],
            name="fk_break_glass_grants_reviewed_by_user_id_staff_users",
        ),
        sa.PrimaryKeyConstraint("grant_id", name="pk_break_glass_grants"),
    )
    op.create_index(
        "ix_break_glass_grants_user_id", "break_glass_grants", ["user_id"], unique=False
    )
    op.create_index(
        "ix_break_glass_grants_updated_at", "break_glass_grants", ["updated_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_break_glass_grants_updated_at", table_name="break_glass_grants")
    op.drop_index("ix_break_glass_grants_user_id", table_name="break_glass_grants")
    op.drop_table("break_glass_grants")
    op.drop_index("uq_audit_entries_seq", table_name="audit_entries")
    with op.batch_alter_table("audit_entries") as batch_op:
        batch_op.drop_column("chain_hash")
        batch_op.drop_column("seq")
    if op.get_bind().dialect.name == "sqlite":  # the batch copy of the table lost its triggers
        _create_sqlite_triggers()


def _chain_existing_entries() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT audit_id, occurred_at, actor_user_id, actor_username, action, entity_type, "
            "entity_id, outcome, detail FROM audit_entries ORDER BY audit_id"
        )
    ).all()
    if not rows:
        return
    from datetime import UTC, datetime

    key = installed_keyring().audit_key  # the caller (bootstrap) installed the key ring
    _lift_triggers(bind.dialect.name)
    previous = GENESIS
    for seq, row in enumerate(rows, start=1):
        occurred_at = row[1]
        if isinstance(occurred_at, str):
            occurred_at = datetime.fromisoformat(occurred_at)
        occurred_at = occurred_at.replace(tzinfo=UTC) if occurred_at.tzinfo is None else occurred_at
        content = canonical(
            seq=seq,
            occurred_at=occurred_at,
            actor_user_id=row[2],
            actor_username=row[3],
            action=row[4],
            entity_type=row[5],
            entity_id=row[6],
            outcome=row[7],
            detail=row[8],
        )
        previous = link(key, previous, content)
        bind.execute(
            sa.text("UPDATE audit_entries SET seq = :seq, chain_hash = :h WHERE audit_id = :id"),
            {"seq": seq, "h": previous, "id": row[0]},
        )
    _restore_triggers(bind.dialect.name)


def _lift_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_entries_no_{verb}")


def _restore_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only")
    else:
        _create_sqlite_triggers()


def _create_sqlite_triggers() -> None:
    for verb in ("update", "delete"):
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS audit_entries_no_{verb} BEFORE {verb.upper()} "
            "ON audit_entries BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"
        )
