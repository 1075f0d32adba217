"""shared state: the records staged between the DAG's extract, validate and load tasks

Creates staged_records, so that the hosts running a harvest's tasks share them through the
database instead of a local folder. (The crawl index's tables, `crawl_index_*`, are the
crawler's own: it creates them in the same database, and these migrations leave them out.)

Revision ID: 0006_shared_state
Revises: 0005_exact_decimals
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006_shared_state"
down_revision = "0005_exact_decimals"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "staged_records",
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("record", JSON, nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stage IN ('planned', 'extracted', 'validated', 'loaded')",
                           name=op.f("ck_staged_records_stage")),
        sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_staged_records")),
    )
    op.create_index(op.f("ix_staged_records_run_id_batch"), "staged_records", ["run_id", "batch"])
    op.create_index(op.f("ix_staged_records_run_id_position"), "staged_records", ["run_id", "position"])


def downgrade() -> None:
    op.drop_index(op.f("ix_staged_records_run_id_position"), table_name="staged_records")
    op.drop_index(op.f("ix_staged_records_run_id_batch"), table_name="staged_records")
    op.drop_table("staged_records")
