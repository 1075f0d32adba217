"""labels, the report-year dimension, and the researchers' views

Seeds cell_dictionary from report.catalogue, rule_labels from report.validate and
report_years, then creates report_wide, cells_labelled, coverage and
findings_labelled. A change of the catalogue's keys needs a new migration that
re-creates report_wide (tests/test_warehouse_schema.py notices).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warehouse import dictionary, views

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FIRST_YEAR, LAST_YEAR = 2008, 2050


def upgrade() -> None:
    entries = dictionary.entries()
    cell_dictionary = sa.table("cell_dictionary", *(sa.column(name) for name in entries[0].as_row()))
    op.bulk_insert(cell_dictionary, [entry.as_row() for entry in entries])
    rule_labels = sa.table("rule_labels", sa.column("rule"), sa.column("label_zh"), sa.column("label_en"))
    op.bulk_insert(rule_labels, [{"rule": rule, "label_zh": zh, "label_en": en}
                                 for rule, zh, en in dictionary.rule_labels()])
    report_years = sa.table("report_years", sa.column("year"), sa.column("format"))
    op.bulk_insert(report_years, [{"year": year, "format": dictionary.format_for_year(year)}
                                  for year in range(FIRST_YEAR, LAST_YEAR + 1)])
    for statement in views.create_statements(entry.key for entry in entries):
        op.execute(statement)


def downgrade() -> None:
    for statement in views.drop_statements():
        op.execute(statement)
    for table in ("report_years", "rule_labels", "cell_dictionary"):
        op.execute(f"DELETE FROM {table}")
