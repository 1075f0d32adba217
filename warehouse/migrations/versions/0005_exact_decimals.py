"""exact figures: cells.value and the wide table's columns keep every value exactly

cells.value becomes ExactNumber (NUMERIC on PostgreSQL, as before; the decimal's text on
SQLite, whose NUMERIC rounds through a double past 15 digits). In report_facts the count
columns become BIGINT and the decimal and amount columns ExactNumber. The views that read
these tables are dropped first and re-created after (SQLite re-creates the tables).

Revision ID: 0005_exact_decimals
Revises: 0004_cell_sources
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warehouse import dictionary, views, wide
from warehouse.dictionary import column_name
from warehouse.models import ExactNumber

revision = "0005_exact_decimals"
down_revision = "0004_cell_sources"
branch_labels = None
depends_on = None

_WHOLE = ("count", "signed")


def upgrade() -> None:
    _without_views(lambda: _retype(exact=True))


def downgrade() -> None:
    _without_views(lambda: _retype(exact=False))


def _retype(*, exact: bool) -> None:
    numeric = sa.Numeric()
    with op.batch_alter_table("cells") as batch_op:
        batch_op.alter_column("value", type_=ExactNumber() if exact else numeric,
                              existing_type=numeric if exact else ExactNumber(), existing_nullable=True)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_retype_facts_statement(exact))
        return
    with op.batch_alter_table("report_facts") as batch_op:   # SQLite: the table is copied once
        for entry in dictionary.entries():
            batch_op.alter_column(column_name(entry.key), type_=_wanted(entry.kind, exact), existing_nullable=True)


def _wanted(kind: str, exact: bool) -> sa.types.TypeEngine:
    return (sa.BigInteger() if kind in _WHOLE else ExactNumber()) if exact else sa.Numeric()


def _retype_facts_statement(exact: bool) -> str:
    """Every column of report_facts retyped in one ALTER TABLE: PostgreSQL then rewrites the table
    once, where a statement per column rewrote it once per column (a minute on an empty table)."""
    dialect = op.get_bind().dialect
    clauses = []
    for entry in dictionary.entries():
        column = column_name(entry.key)
        using = _using(entry.kind, exact, column)
        clauses.append(f"ALTER COLUMN {column} TYPE {_wanted(entry.kind, exact).compile(dialect=dialect)}"
                       + (f" USING {using}" if using else ""))
    return "ALTER TABLE report_facts " + ", ".join(clauses)


def _using(kind: str, exact: bool, column: str) -> str | None:
    """PostgreSQL's cast of a count column from NUMERIC (a fraction, which DOM flags, is kept out)."""
    if not exact or kind not in _WHOLE:
        return None
    return f"CASE WHEN {column} = trunc({column}) THEN {column}::bigint END"


def _without_views(change) -> None:  # type: ignore[no-untyped-def]
    for statement in views.drop_statements():
        op.execute(statement)
    change()
    for statement in views.create_statements(dictionary.ordered_keys()):
        op.execute(statement)
    op.execute("DROP VIEW report_wide")
    op.execute(wide.wide_view_sql())
