"""The crawl index: which documents exist, their versions, what each run did.

A SQLite file (default `<data dir>/crawl/index.db`), written one committed transaction
per document so a crawl killed at any point loses nothing and duplicates nothing:
a row is unique per (url, sha256), and the bytes are in the raw store before the row.

The application layer reads it with:

    index = DocumentIndex(path, readonly=True)
    for version in index.versions(since=datetime(...)):   # DocumentVersion rows, oldest first
        data = RawStore(store_url).get(version.sha256)
    index.current()          # the newest version of every URL
    index.latest(url)        # the newest version of one URL
    index.failures(run_id)   # what went wrong, with its cause
    index.runs()             # every run with its summary
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from report.document import DOCUMENT_FIELDS, DocumentVersion

__all__ = ["DocumentIndex", "DocumentVersion", "Failure", "utcnow"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    source_id TEXT NOT NULL,
    agency TEXT NOT NULL,
    url TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    listing_title TEXT,
    year INTEGER,
    listing_date TEXT,
    content_type TEXT,
    real_kind TEXT,
    filename TEXT,
    size INTEGER NOT NULL,
    etag TEXT,
    last_modified TEXT,
    referer TEXT,
    storage_key TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_checked_at TEXT NOT NULL,
    run_id TEXT,
    UNIQUE (url, sha256)
);
CREATE INDEX IF NOT EXISTS documents_url ON documents (url);
CREATE INDEX IF NOT EXISTS documents_seen ON documents (first_seen_at);
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    source_id TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_checked_at TEXT NOT NULL,
    children TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS quarantine (
    url TEXT PRIMARY KEY,
    source_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT,
    sha256 TEXT,
    etag TEXT,
    last_modified TEXT,
    last_checked_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    finish_reason TEXT,
    summary TEXT
);
CREATE TABLE IF NOT EXISTS source_runs (
    run_id TEXT NOT NULL,
    source_id TEXT NOT NULL,
    reports_listed INTEGER NOT NULL,
    documents INTEGER NOT NULL,
    flags TEXT NOT NULL,
    PRIMARY KEY (run_id, source_id)
);
CREATE TABLE IF NOT EXISTS failures (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    source_id TEXT,
    url TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT,
    sha256 TEXT,
    at TEXT NOT NULL
);
"""


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Failure:
    run_id: str
    source_id: str | None
    url: str
    kind: str
    detail: str | None
    sha256: str | None
    at: str


class DocumentIndex:
    def __init__(self, path: Path | str, readonly: bool = False) -> None:
        self.path = Path(path)
        if readonly:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._rename_legacy_columns()
        self._db.row_factory = sqlite3.Row

    def _rename_legacy_columns(self) -> None:
        """Index files written before the document contract had one set of names."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(documents)")}
        with self._db:
            for old, new in _LEGACY_COLUMNS.items():
                if old in columns:
                    self._db.execute(f"ALTER TABLE documents RENAME COLUMN {old} TO {new}")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._db:
            yield self._db

    # ------------------------------------------------------------------ documents
    def record(self, *, url: str, sha256: str, source_id: str, agency: str, size: int, storage_key: str,
               run_id: str, **fields: Any) -> str:
        """Record that `url` served `sha256` now; returns new | changed | unchanged."""
        unknown = set(fields) - _OPTIONAL_COLUMNS
        if unknown:
            raise ValueError(f"not fields of a document version: {', '.join(sorted(unknown))}")
        now = utcnow()
        with self._tx() as db:
            existing = db.execute("SELECT id FROM documents WHERE url=? AND sha256=?", (url, sha256)).fetchone()
            if existing:
                db.execute("UPDATE documents SET last_checked_at=?, etag=coalesce(?, etag), "
                           "last_modified=coalesce(?, last_modified) WHERE id=?",
                           (now, fields.get("etag"), fields.get("last_modified"), existing["id"]))
                return "unchanged"
            earlier = db.execute("SELECT 1 FROM documents WHERE url=?", (url,)).fetchone()
            columns = {"url": url, "sha256": sha256, "source_id": source_id, "agency": agency, "size": size,
                       "storage_key": storage_key, "run_id": run_id, "first_seen_at": now, "last_checked_at": now,
                       **fields}
            names = ", ".join(columns)
            db.execute(f"INSERT INTO documents ({names}) VALUES ({', '.join('?' * len(columns))})",
                       tuple(columns.values()))
            return "changed" if earlier else "new"

    def touch(self, url: str) -> None:
        """A conditional request said the current version is still current."""
        with self._tx() as db:
            db.execute("UPDATE documents SET last_checked_at=? WHERE id=(SELECT id FROM documents WHERE url=? "
                       "ORDER BY first_seen_at DESC, id DESC LIMIT 1)", (utcnow(), url))

    def latest(self, url: str) -> DocumentVersion | None:
        row = self._db.execute("SELECT * FROM documents WHERE url=? ORDER BY first_seen_at DESC, id DESC LIMIT 1",
                               (url,)).fetchone()
        return _version(row) if row else None

    def versions(self, since: datetime | str | None = None, source_id: str | None = None,
                 url: str | None = None, after_id: int | None = None) -> list[DocumentVersion]:
        """Document versions first seen at or after `since` (all when None), oldest first.

        `after_id` gives exact incremental reads: pass the largest `id` already consumed.
        """
        clauses: list[str] = []
        params: list[object] = []
        if after_id is not None:
            clauses.append("id > ?")
            params.append(after_id)
        if since is not None:
            clauses.append("first_seen_at >= ?")
            params.append(since.isoformat(timespec="seconds") if isinstance(since, datetime) else since)
        if source_id:
            clauses.append("source_id = ?")
            params.append(source_id)
        if url:
            clauses.append("url = ?")
            params.append(url)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.execute(f"SELECT * FROM documents {where} ORDER BY first_seen_at, id", params)
        return [_version(row) for row in rows]

    def current(self, source_id: str | None = None) -> list[DocumentVersion]:
        """The newest version of every URL (what each URL serves now, as far as the crawl knows)."""
        where, params = ("WHERE source_id = ?", [source_id]) if source_id else ("", [])
        rows = self._db.execute(
            f"SELECT * FROM documents d {where} {'AND' if where else 'WHERE'} d.id = (SELECT id FROM documents "
            "WHERE url = d.url ORDER BY first_seen_at DESC, id DESC LIMIT 1) ORDER BY d.first_seen_at, d.id", params)
        return [_version(row) for row in rows]

    # ------------------------------------------------------------------ article pages
    def page(self, url: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM pages WHERE url=?", (url,)).fetchone()
        if not row:
            return None
        page = dict(row)
        page["children"] = json.loads(page["children"])
        return page

    def record_page(self, url: str, source_id: str, etag: str | None, last_modified: str | None,
                    children: list[dict[str, Any]]) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO pages (url, source_id, etag, last_modified, last_checked_at, children) "
                       "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET etag=excluded.etag, "
                       "last_modified=excluded.last_modified, last_checked_at=excluded.last_checked_at, "
                       "children=excluded.children",
                       (url, source_id, etag, last_modified, utcnow(), json.dumps(children, ensure_ascii=False)))

    def touch_page(self, url: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE pages SET last_checked_at=? WHERE url=?", (utcnow(), url))

    # ------------------------------------------------------------------ quarantine
    def quarantine(self, url: str, source_id: str, kind: str, detail: str, sha256: str | None,
                   etag: str | None, last_modified: str | None) -> None:
        """Remember a URL that answered with bytes that are not a document, with its validators,
        so that later runs ask for it conditionally instead of downloading it again."""
        with self._tx() as db:
            db.execute("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET "
                       "kind=excluded.kind, detail=excluded.detail, sha256=excluded.sha256, etag=excluded.etag, "
                       "last_modified=excluded.last_modified, last_checked_at=excluded.last_checked_at",
                       (url, source_id, kind, detail, sha256, etag, last_modified, utcnow()))

    def quarantined(self, url: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM quarantine WHERE url=?", (url,)).fetchone()
        return dict(row) if row else None

    def touch_quarantine(self, url: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE quarantine SET last_checked_at=? WHERE url=?", (utcnow(), url))

    def release(self, url: str) -> None:
        """The URL now serves a real document."""
        with self._tx() as db:
            db.execute("DELETE FROM quarantine WHERE url=?", (url,))

    # ------------------------------------------------------------------ runs
    def start_run(self, run_id: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO runs (run_id, started_at) VALUES (?, ?)", (run_id, utcnow()))

    def finish_run(self, run_id: str, finish_reason: str, summary: dict[str, Any]) -> None:
        with self._tx() as db:
            db.execute("UPDATE runs SET finished_at=?, finish_reason=?, summary=? WHERE run_id=?",
                       (utcnow(), finish_reason, json.dumps(summary, ensure_ascii=False), run_id))
            for source_id, figures in summary.get("sources", {}).items():
                db.execute("INSERT OR REPLACE INTO source_runs VALUES (?, ?, ?, ?, ?)",
                           (run_id, source_id, figures.get("reports_listed", 0), figures.get("documents", 0),
                            json.dumps(figures.get("flags", []), ensure_ascii=False)))

    def runs(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM runs ORDER BY started_at, rowid").fetchall()
        return [{**dict(r), "summary": json.loads(r["summary"]) if r["summary"] else None} for r in rows]

    def previous_reports_listed(self, source_id: str, before_run: str) -> int:
        """The largest number of reports any earlier finished run listed for this source."""
        row = self._db.execute("SELECT max(reports_listed) FROM source_runs WHERE source_id=? AND run_id<>?",
                               (source_id, before_run)).fetchone()
        return int(row[0] or 0)

    # ------------------------------------------------------------------ failures
    def record_failure(self, run_id: str, source_id: str | None, url: str, kind: str, detail: str = "",
                       sha256: str | None = None) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO failures (run_id, source_id, url, kind, detail, sha256, at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", (run_id, source_id, url, kind, detail, sha256, utcnow()))

    def failures(self, run_id: str | None = None) -> list[Failure]:
        query, params = "SELECT run_id, source_id, url, kind, detail, sha256, at FROM failures", []
        if run_id:
            query, params = query + " WHERE run_id=?", [run_id]
        return [Failure(**dict(row)) for row in self._db.execute(query + " ORDER BY id", params)]


_OPTIONAL_COLUMNS = {"listing_title", "year", "listing_date", "content_type", "real_kind", "filename", "etag",
                     "last_modified", "referer"}
_LEGACY_COLUMNS = {"title": "listing_title", "listed_date": "listing_date"}


def _version(row: sqlite3.Row) -> DocumentVersion:
    values = {_LEGACY_COLUMNS.get(name, name): row[name] for name in row.keys()}  # noqa: SIM118 - a Row
    return DocumentVersion.from_dict({name: values.get(name) for name in DOCUMENT_FIELDS})
