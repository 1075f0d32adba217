"""the pages of a multipart document (a flipbook, a report paginated over several HTML pages)

Adds documents.parts: JSON [{"url", "sha256"}] of the pages in reading order, NULL for a
document of one file. The document's own sha256 is the digest over its parts
(report.document.parts_digest); each part's bytes are in the raw store under its sha256.

Revision ID: 0009_document_parts
Revises: 0008_alert_delivery
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_document_parts"
down_revision = "0008_alert_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("parts", sa.Text(), nullable=True))


def downgrade() -> None:
    # SQLite (3.35+) drops the column in place: a batch copy of the table would break the views on it
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE documents DROP COLUMN parts")
    else:
        op.drop_column("documents", "parts")
