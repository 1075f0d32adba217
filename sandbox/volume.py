"""A national night, synthetic: a crawl index with N new document versions, spread over the
registry's sources, written straight into the crawl index's table (no crawl, no bytes).

The planning test and `benchmarks/bench_plan.py` use it to measure what a 100,000-document
night costs the bookkeeping, without extracting anything.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import create_engine

from crawler.index import DocumentIndex, database_url, documents, utcnow
from crawler.store import RawStore

ROWS_PER_INSERT = 5000
FIRST_YEAR, YEARS = 2015, 10


def synthetic_night(database: str, count: int, source_ids: Sequence[str], run_id: str = "synthetic-night") -> None:
    """`count` document versions (distinct URLs and hashes) in the crawl index at `database`."""
    index = DocumentIndex(database)
    index.close()
    engine = create_engine(database_url(database))
    now = utcnow()
    try:
        for start in range(0, count, ROWS_PER_INSERT):
            rows = [_row(n, source_ids[n % len(source_ids)], now, run_id)
                    for n in range(start, min(count, start + ROWS_PER_INSERT))]
            with engine.begin() as conn:
                conn.execute(documents.insert(), rows)
    finally:
        engine.dispose()


def _row(n: int, source_id: str, now: str, run_id: str) -> dict[str, object]:
    sha256 = f"{n:064x}"
    return {"source_id": source_id, "agency": f"{source_id} 机关", "url": f"https://{source_id}.example.gov.cn/nb/{n}.pdf",
            "sha256": sha256, "listing_title": f"{FIRST_YEAR + n % YEARS}年政府信息公开工作年度报告",
            "year": FIRST_YEAR + n % YEARS, "listing_date": None, "content_type": "application/pdf",
            "real_kind": "pdf", "filename": None, "size": 1000 + n % 997, "etag": None, "last_modified": None,
            "referer": None, "storage_key": RawStore.key(sha256), "first_seen_at": now, "last_checked_at": now,
            "run_id": run_id}
