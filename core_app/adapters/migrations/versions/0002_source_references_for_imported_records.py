"""source references for imported records

Patients, appointments and payments loaded from another system keep that system's key in
`source_ref` (unique when present), so that re-importing the same files changes nothing and a
changed row updates its record. Plain ADD COLUMN and CREATE INDEX: no table is rebuilt.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:07:41.971732
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("patients", "appointments", "payments")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("source_ref", sa.String(length=100), nullable=True))
        op.create_index(f"ix_{table}_source_ref", table, ["source_ref"], unique=True)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_source_ref", table_name=table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("source_ref")
