"""indexes for the web application on a national warehouse

The SQL page's saved queries (applications by province and year, the share of 行政复议
corrected) aggregate report_facts by year: these covering indexes answer them without reading
the wide rows (on PostgreSQL an index-only scan). The coverage chart counts reports per year
and timeliness in the order of an index (on SQLite no temporary B-tree for the GROUP BY). A
source's page lists its agencies by agencies.source_id. (0003 creates report_facts from the
current model, which already carries the report_facts indexes: they are created here only if
absent.)

Revision ID: 0010_web_indexes
Revises: 0009_document_parts
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0010_web_indexes"
down_revision = "0009_document_parts"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_report_facts_year_timeliness", "report_facts", ["year", "timeliness"]),
    ("ix_report_facts_applications", "report_facts", ["year", "province_code", "province_name", "t3_new_total"]),
    ("ix_report_facts_review_outcomes", "report_facts",
     ["year", "t4_review_corrected", "t4_review_total", "t4_review_pending"]),
    ("ix_agencies_source_id", "agencies", ["source_id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, if_not_exists=True)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table, if_exists=True)
