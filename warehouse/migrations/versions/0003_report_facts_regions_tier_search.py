"""the wide table materialised (report_facts), region names, agency tier, full-text search

Creates report_facts (one row per current report, maintained by the loader) and fills it
from the current reports; re-creates report_wide as a projection of it (same columns);
adds agencies.tier (province/prefecture/county/township, from the region code); names
every region from the shipped GB/T 2260 list; creates the search index of the prose
(FTS5 on SQLite, tsvector + GIN on PostgreSQL) and fills it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warehouse import dictionary, regions, search, views, wide

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("agencies") as batch_op:
        batch_op.add_column(sa.Column("tier", sa.String(length=16), nullable=True))
    _fill_tiers(conn)
    _name_regions(conn)
    wide.report_facts.create(conn)
    for statement in search.create_statements(conn.dialect.name):
        op.execute(statement)
    wide.rebuild(conn)
    op.execute("DROP VIEW report_wide")
    op.execute(wide.wide_view_sql())


def downgrade() -> None:
    conn = op.get_bind()
    for statement in views.drop_statements():  # SQLite re-creates agencies below: no view may name it
        op.execute(statement)
    for statement in search.drop_statements():
        op.execute(statement)
    wide.report_facts.drop(conn)
    with op.batch_alter_table("agencies") as batch_op:
        batch_op.drop_column("tier")
    for statement in views.create_statements(dictionary.ordered_keys()):
        op.execute(statement)


def _fill_tiers(conn: sa.Connection) -> None:
    rows = conn.execute(sa.text("SELECT id, region_code, level FROM agencies")).all()
    updates = [{"i": agency_id, "t": regions.agency_tier(code, level)} for agency_id, code, level in rows]
    if updates:
        conn.execute(sa.text("UPDATE agencies SET tier = :t WHERE id = :i"), updates)


def _name_regions(conn: sa.Connection) -> None:
    codes = conn.scalars(sa.text("SELECT code FROM regions WHERE name IS NULL")).all()
    updates = [{"c": code, "n": regions.name(code)} for code in codes if regions.name(code)]
    if updates:
        conn.execute(sa.text("UPDATE regions SET name = :n WHERE code = :c"), updates)
