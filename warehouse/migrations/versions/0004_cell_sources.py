"""cell_sources: where each cell was printed (page, box, unit, the text read, OCR confidence)

Keyed like cells (report_id, key). Reports loaded before this revision have no rows here;
re-extracting their documents fills them.

Revision ID: 0004_cell_sources
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_cell_sources"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cell_sources",
        sa.Column("report_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("x0", sa.Float(), nullable=True),
        sa.Column("y0", sa.Float(), nullable=True),
        sa.Column("x1", sa.Float(), nullable=True),
        sa.Column("y1", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=8), nullable=True),
        sa.Column("grid_table", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("corrected", sa.Boolean(), nullable=False),
        sa.CheckConstraint("unit IS NULL OR unit IN ('pt', 'px', 'grid')", name=op.f("ck_cell_sources_unit")),
        sa.PrimaryKeyConstraint("report_id", "key", name=op.f("pk_cell_sources")),
    )


def downgrade() -> None:
    op.drop_table("cell_sources")
