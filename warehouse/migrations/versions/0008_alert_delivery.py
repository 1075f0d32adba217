"""delivery state per notifier, crawl runs keyed by their run id, alert cause keys by agency id

Creates alert_deliveries (one row per alert and notifier: delivered, or the last failed
attempt); an alert notified before (alerts.notified_at) stays told, to every notifier. Adds crawl_runs.run_id, filled from the stats every row kept it in,
with duplicates of (run_id, source_id) removed, and makes the pair unique (ON CONFLICT
needs it). Re-keys the open missing/late alerts by agency id instead of agency name.

Revision ID: 0008_alert_delivery
Revises: 0006_shared_state
Create Date: 2026-12-02
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0008_alert_delivery"
down_revision = "0006_shared_state"
branch_labels = None
depends_on = None

REKEYED_KINDS = ("missing", "late")


def upgrade() -> None:
    op.create_table(
        "alert_deliveries",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("notifier", sa.String(length=120), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_alert_deliveries_alert_id_alerts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("alert_id", "notifier", name=op.f("pk_alert_deliveries")),
    )
    conn = op.get_bind()
    with op.batch_alter_table("crawl_runs") as batch_op:
        batch_op.add_column(sa.Column("run_id", sa.String(length=64), nullable=True))
    _fill_run_ids(conn)
    with op.batch_alter_table("crawl_runs") as batch_op:
        batch_op.create_unique_constraint(op.f("uq_crawl_runs_run_id_source_id"), ["run_id", "source_id"])
    _rekey_alerts(conn, by_id=True)


def downgrade() -> None:
    conn = op.get_bind()
    _rekey_alerts(conn, by_id=False)
    with op.batch_alter_table("crawl_runs") as batch_op:
        batch_op.drop_constraint(op.f("uq_crawl_runs_run_id_source_id"), type_="unique")
        batch_op.drop_column("run_id")
    op.drop_table("alert_deliveries")


def _fill_run_ids(conn: sa.Connection) -> None:
    """run_id from each row's stats; a second row of the same run and source is a duplicate of an
    earlier race: its documents move to the first row, and it goes."""
    first: dict[tuple[str, str | None], int] = {}
    for row_id, source_id, stats in conn.execute(sa.text("SELECT id, source_id, stats FROM crawl_runs ORDER BY id")):
        data = json.loads(stats) if isinstance(stats, str) else (stats or {})
        run_id = data.get("run_id")
        if not run_id:
            continue
        kept = first.setdefault((str(run_id), source_id), row_id)
        if kept == row_id:
            conn.execute(sa.text("UPDATE crawl_runs SET run_id = :r WHERE id = :i"), {"r": str(run_id), "i": row_id})
            continue
        conn.execute(sa.text("UPDATE documents SET crawl_run_id = :k WHERE crawl_run_id = :i"), {"k": kept, "i": row_id})
        conn.execute(sa.text("DELETE FROM crawl_runs WHERE id = :i"), {"i": row_id})


def _rekey_alerts(conn: sa.Connection, *, by_id: bool) -> None:
    rows = conn.execute(sa.text(
        "SELECT al.id, al.kind, al.year, a.id AS agency_id, a.name FROM alerts al JOIN agencies a ON a.id = al.agency_id "
        "WHERE al.resolved_at IS NULL AND al.year IS NOT NULL")).all()
    for alert_id, kind, year, agency_id, name in rows:
        if kind in REKEYED_KINDS:
            conn.execute(sa.text("UPDATE alerts SET cause_key = :k WHERE id = :i"),
                         {"k": f"{kind}:{agency_id if by_id else name}:{year}", "i": alert_id})
