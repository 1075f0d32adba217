"""The crawl index: which documents exist, their versions, what each run did.

Tables (`crawl_index_*`) in one SQL database, the warehouse's (SQLite by default, PostgreSQL in
production), so that crawl tasks on any host see one index. The crawler owns these tables
(SQLAlchemy Core, created here when missing); the warehouse's Alembic migrations leave them out.
Written in committed transactions (one per document, or one per group of documents the crawl
stored together: `batch()`) so a crawl killed at any point loses nothing and duplicates nothing:
a row is unique per (url, sha256), every write is one `INSERT … ON CONFLICT`, and the bytes are in
the raw store before the row.

The application layer reads it with:

    index = DocumentIndex(database_url)      # or a SQLite file's path
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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from report.document import DOCUMENT_FIELDS, DocumentVersion, Part, parts_to_json

__all__ = ["TABLE_PREFIX", "DocumentIndex", "DocumentVersion", "Failure", "database_url", "utcnow"]

TABLE_PREFIX = "crawl_index_"
METADATA = MetaData()
documents = Table(
    f"{TABLE_PREFIX}documents", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", String(200), nullable=False),
    Column("agency", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("listing_title", Text),
    Column("year", Integer),
    Column("listing_date", String(40)),
    Column("content_type", Text),
    Column("real_kind", String(40)),
    Column("filename", Text),
    Column("size", Integer, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("referer", Text),
    Column("storage_key", Text, nullable=False),
    Column("first_seen_at", String(40), nullable=False),
    Column("last_checked_at", String(40), nullable=False),
    Column("run_id", String(80)),
    Column("parts", Text),            # a multipart document's pages, JSON [{"url", "sha256"}] (report.document)
    UniqueConstraint("url", "sha256", name=f"uq_{TABLE_PREFIX}documents_url_sha256"),
    Index(f"ix_{TABLE_PREFIX}documents_url", "url"),
    Index(f"ix_{TABLE_PREFIX}documents_seen", "first_seen_at", "id"),
)
pages = Table(
    f"{TABLE_PREFIX}pages", METADATA,
    Column("url", Text, primary_key=True),
    Column("source_id", String(200), nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_checked_at", String(40), nullable=False),
    Column("children", Text, nullable=False, default="[]"),
)
quarantine_table = Table(
    f"{TABLE_PREFIX}quarantine", METADATA,
    Column("url", Text, primary_key=True),
    Column("source_id", String(200), nullable=False),
    Column("kind", String(80), nullable=False),
    Column("detail", Text),
    Column("sha256", String(64)),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_checked_at", String(40), nullable=False),
)
runs_table = Table(
    f"{TABLE_PREFIX}runs", METADATA,
    Column("run_id", String(80), primary_key=True),
    Column("started_at", String(40), nullable=False),
    Column("finished_at", String(40)),
    Column("finish_reason", String(80)),
    Column("summary", Text),
)
source_runs = Table(
    f"{TABLE_PREFIX}source_runs", METADATA,
    Column("run_id", String(80), primary_key=True),
    Column("source_id", String(200), primary_key=True),
    Column("reports_listed", Integer, nullable=False),
    Column("documents", Integer, nullable=False),
    Column("flags", Text, nullable=False),
)
failures_table = Table(
    f"{TABLE_PREFIX}failures", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(80), nullable=False),
    Column("source_id", String(200)),
    Column("url", Text, nullable=False),
    Column("kind", String(80), nullable=False),
    Column("detail", Text),
    Column("sha256", String(64)),
    Column("year", Integer),            # the listing's year, when the failure is of a listed document
    Column("at", String(40), nullable=False),
    Index(f"ix_{TABLE_PREFIX}failures_run", "run_id"),
)
SQLITE_BUSY_TIMEOUT_S = 30
SCHEMA_LOCK_ID = 0x6372_6177  # "craw": two processes creating the tables take turns


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def database_url(where: str | Path) -> str:
    """A database URL as given, or the SQLite URL of a file path; PostgreSQL always through psycopg 3."""
    text = str(where)
    if "://" not in text:
        return f"sqlite:///{Path(text)}"
    url = make_url(text)
    if url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


@dataclass(frozen=True)
class Failure:
    run_id: str
    source_id: str | None
    url: str
    kind: str
    detail: str | None
    sha256: str | None
    at: str
    year: int | None = None


class DocumentIndex:
    def __init__(self, where: str | Path) -> None:
        self.url = database_url(where)
        self._engine = _engine(self.url)
        self._batch: Connection | None = None
        self._batch_pages: list[dict[str, Any]] = []   # the batch's article-page rows, written at its end
        _create_tables(self._engine)

    @staticmethod
    def exists(where: str | Path) -> bool:
        """Whether the database holds a crawl index (asking creates nothing, not even a SQLite file)."""
        from sqlalchemy import inspect

        url = make_url(database_url(where))
        if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).exists()):
            return False
        engine = create_engine(url)
        try:
            return inspect(engine).has_table(documents.name)
        finally:
            engine.dispose()

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        if self._batch is not None:     # inside `batch()`: its transaction
            yield self._batch
            return
        with self._engine.begin() as conn:
            yield conn

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Every write inside it in one transaction, committed at its end, all or nothing (a group
        commit, for a writer with many small rows; one thread's, as the index is not shared). The
        article-page rows of the batch go in at its end, in one statement run over all of them."""
        with self._engine.begin() as conn:
            self._batch, self._batch_pages = conn, []
            try:
                yield
                if self._batch_pages:
                    conn.execute(_statements(conn).record_page, self._batch_pages)
            finally:
                self._batch, self._batch_pages = None, []

    def _rows(self, statement: Any, **parameters: Any) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            return _mappings(conn, statement, parameters)

    def urls(self) -> set[str]:
        """Every URL the index holds a row of: a document version, an article page, a quarantined URL."""
        with self._engine.connect() as conn:
            return {url for table in (documents, pages, quarantine_table)
                    for url in conn.scalars(select(table.c.url).distinct())}

    def known(self, url: str) -> tuple[DocumentVersion | None, dict[str, Any] | None, dict[str, Any] | None]:
        """What the index holds of `url`, read on one connection: (`latest`, `page`, `quarantined`)."""
        with self._engine.connect() as conn:
            latest, page, held = (_mappings(conn, statement, {"url": url})
                                  for statement in (_LATEST, _PAGE, _QUARANTINED))
        return (_version(latest[0]) if latest else None, _page(page[0]) if page else None, held[0] if held else None)

    # ------------------------------------------------------------------ documents
    def record(self, *, url: str, sha256: str, source_id: str, agency: str, size: int, storage_key: str,
               run_id: str, release: bool = False, first: bool = False, **fields: Any) -> str:
        """Record that `url` served `sha256` now; returns new | changed | unchanged. `release`: the URL
        may be quarantined, and now serves a real document (`release`, in the same transaction).
        `first`: the caller knows the index holds no version of `url`, so a version added is new unasked.

        `parts` (a sequence of `Part`): the pages of a multipart document, whose sha256 is theirs."""
        unknown = set(fields) - _OPTIONAL_COLUMNS
        if unknown:
            raise ValueError(f"not fields of a document version: {', '.join(sorted(unknown))}")
        if "parts" in fields:
            parts: Sequence[Part] = fields["parts"] or ()
            fields = {**fields, "parts": parts_to_json(parts)}
        now = utcnow()
        columns = {"url": url, "sha256": sha256, "source_id": source_id, "agency": agency, "size": size,
                   "storage_key": storage_key, "run_id": run_id, "first_seen_at": now, "last_checked_at": now,
                   **fields}
        with self._tx() as conn:
            if release:
                conn.execute(_RELEASE, {"url": url})
            earlier = None if first else conn.scalar(_EARLIER, {"url": url})
            added = conn.scalar(_statements(conn).add_document, columns)
            if added is not None:
                return "changed" if earlier is not None else "new"
            conn.execute(_STILL_THERE, {"at_url": url, "at_sha256": sha256, "now": now, "new_etag": fields.get("etag"),
                                        "new_last_modified": fields.get("last_modified"),
                                        "new_parts": fields.get("parts")})   # the pages' newest validators
            return "unchanged"

    def touch(self, url: str) -> None:
        """A conditional request said the current version is still current."""
        newest = select(documents.c.id).where(documents.c.url == url).order_by(
            documents.c.first_seen_at.desc(), documents.c.id.desc()).limit(1).scalar_subquery()
        with self._tx() as conn:
            conn.execute(update(documents).where(documents.c.id == newest).values(last_checked_at=utcnow()))

    def latest(self, url: str) -> DocumentVersion | None:
        rows = self._rows(_LATEST, url=url)
        return _version(rows[0]) if rows else None

    def versions(self, since: datetime | str | None = None, source_id: str | None = None,
                 url: str | None = None, after_id: int | None = None) -> list[DocumentVersion]:
        """Document versions first seen at or after `since` (all when None), oldest first.

        `after_id` gives exact incremental reads: pass the largest `id` already consumed.
        """
        return [_version(row) for row in self._rows(_versions_query(since, source_id, url, after_id))]

    def iter_versions(self, *, sources: Sequence[str] | None = None, chunk: int = 5000) -> Iterator[DocumentVersion]:
        """Every version (of these sources), oldest first, read `chunk` rows at a time (bounded memory)."""
        after = 0
        while True:
            query = select(documents).where(documents.c.id > after).order_by(documents.c.id).limit(chunk)
            if sources:
                query = query.where(documents.c.source_id.in_(list(sources)))
            rows = self._rows(query)
            yield from (_version(row) for row in rows)
            if len(rows) < chunk:
                return
            after = rows[-1]["id"]

    def current(self, source_id: str | None = None) -> list[DocumentVersion]:
        """The newest version of every URL (what each URL serves now, as far as the crawl knows)."""
        newer = documents.alias("newer")
        has_newer = select(newer.c.id).where(newer.c.url == documents.c.url).where(
            (newer.c.first_seen_at > documents.c.first_seen_at)
            | ((newer.c.first_seen_at == documents.c.first_seen_at) & (newer.c.id > documents.c.id))).exists()
        query = select(documents).where(~has_newer).order_by(documents.c.first_seen_at, documents.c.id)
        if source_id:
            query = query.where(documents.c.source_id == source_id)
        return [_version(row) for row in self._rows(query)]

    # ------------------------------------------------------------------ article pages
    def page(self, url: str) -> dict[str, Any] | None:
        rows = self._rows(_PAGE, url=url)
        return _page(rows[0]) if rows else None

    def record_page(self, url: str, source_id: str, etag: str | None, last_modified: str | None,
                    children: list[dict[str, Any]]) -> None:
        values = {"url": url, "source_id": source_id, "etag": etag, "last_modified": last_modified,
                  "last_checked_at": utcnow(), "children": json.dumps(children, ensure_ascii=False)}
        if self._batch is not None:
            self._batch_pages.append(values)
            return
        with self._tx() as conn:
            conn.execute(_statements(conn).record_page, values)

    def touch_page(self, url: str) -> None:
        with self._tx() as conn:
            conn.execute(update(pages).where(pages.c.url == url).values(last_checked_at=utcnow()))

    # ------------------------------------------------------------------ quarantine
    def quarantine(self, url: str, source_id: str, kind: str, detail: str, sha256: str | None,
                   etag: str | None, last_modified: str | None) -> None:
        """Remember a URL that answered with bytes that are not a document, with its validators,
        so that later runs ask for it conditionally instead of downloading it again."""
        values = {"url": url, "source_id": source_id, "kind": kind, "detail": detail, "sha256": sha256, "etag": etag,
                  "last_modified": last_modified, "last_checked_at": utcnow()}
        with self._tx() as conn:
            statement = _insert(conn, quarantine_table).values(values)
            conn.execute(statement.on_conflict_do_update(index_elements=["url"], set_={
                name: statement.excluded[name] for name in values if name not in ("url", "source_id")}))

    def quarantined(self, url: str) -> dict[str, Any] | None:
        rows = self._rows(_QUARANTINED, url=url)
        return rows[0] if rows else None

    def touch_quarantine(self, url: str) -> None:
        with self._tx() as conn:
            conn.execute(update(quarantine_table).where(quarantine_table.c.url == url).values(last_checked_at=utcnow()))

    def release(self, url: str) -> None:
        """The URL now serves a real document."""
        with self._tx() as conn:
            conn.execute(_RELEASE, {"url": url})

    # ------------------------------------------------------------------ runs
    def start_run(self, run_id: str) -> None:
        with self._tx() as conn:
            conn.execute(_insert(conn, runs_table).values(run_id=run_id, started_at=utcnow())
                         .on_conflict_do_nothing(index_elements=["run_id"]))

    def finish_run(self, run_id: str, finish_reason: str, summary: dict[str, Any]) -> None:
        with self._tx() as conn:
            conn.execute(update(runs_table).where(runs_table.c.run_id == run_id).values(
                finished_at=utcnow(), finish_reason=finish_reason, summary=json.dumps(summary, ensure_ascii=False)))
            for source_id, figures in summary.get("sources", {}).items():
                statement = _insert(conn, source_runs).values(
                    run_id=run_id, source_id=source_id, reports_listed=figures.get("reports_listed", 0),
                    documents=figures.get("documents", 0), flags=json.dumps(figures.get("flags", []), ensure_ascii=False))
                conn.execute(statement.on_conflict_do_update(index_elements=["run_id", "source_id"], set_={
                    name: statement.excluded[name] for name in ("reports_listed", "documents", "flags")}))

    def runs(self) -> list[dict[str, Any]]:
        rows = self._rows(select(runs_table).order_by(runs_table.c.started_at, runs_table.c.run_id))
        return [{**row, "summary": json.loads(row["summary"]) if row["summary"] else None} for row in rows]

    def previous_reports_listed(self, source_id: str, before_run: str) -> int:
        """The largest number of reports any earlier finished run listed for this source."""
        with self._engine.connect() as conn:
            found = conn.scalar(select(func.max(source_runs.c.reports_listed)).where(
                source_runs.c.source_id == source_id, source_runs.c.run_id != before_run))
        return int(found or 0)

    # ------------------------------------------------------------------ failures
    def record_failure(self, run_id: str, source_id: str | None, url: str, kind: str, detail: str = "",
                       sha256: str | None = None, year: int | None = None) -> None:
        with self._tx() as conn:
            conn.execute(insert(failures_table), {"run_id": run_id, "source_id": source_id, "url": url, "kind": kind,
                                                  "detail": detail, "sha256": sha256, "year": year, "at": utcnow()})

    def failures(self, run_id: str | None = None, kind: str | None = None) -> list[Failure]:
        query = select(*(failures_table.c[name] for name in Failure.__dataclass_fields__)).order_by(failures_table.c.id)
        if run_id:
            query = query.where(failures_table.c.run_id == run_id)
        if kind:
            query = query.where(failures_table.c.kind == kind)
        return [Failure(**row) for row in self._rows(query)]

    def latest_failures(self, kind: str) -> list[Failure]:
        """Failures of `kind` in the latest run of each source that has one (what is still true now)."""
        latest = select(source_runs.c.source_id, func.max(source_runs.c.run_id).label("run_id")).group_by(
            source_runs.c.source_id).subquery()
        query = select(*(failures_table.c[name] for name in Failure.__dataclass_fields__)).join(
            latest, (latest.c.source_id == failures_table.c.source_id) & (latest.c.run_id == failures_table.c.run_id)
        ).where(failures_table.c.kind == kind).order_by(failures_table.c.id)
        return [Failure(**row) for row in self._rows(query)]

    # ------------------------------------------------------------------ an index file of earlier versions
    def import_file(self, path: Path | str) -> int:
        """Copy the document versions, pages and quarantine of a crawl-index SQLite file written before the
        index moved into the database (`<data dir>/crawl/index.db`); returns the versions added."""
        legacy = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
        legacy.row_factory = sqlite3.Row
        try:
            rows = [dict(row) for row in legacy.execute("SELECT * FROM documents ORDER BY first_seen_at, id")]
            page_rows = [dict(row) for row in legacy.execute("SELECT * FROM pages")]
            held = [dict(row) for row in legacy.execute("SELECT * FROM quarantine")]
        finally:
            legacy.close()
        added = 0
        with self._tx() as conn:
            for row in rows:
                values = {_LEGACY_COLUMNS.get(name, name): value for name, value in row.items() if name != "id"}
                added += conn.execute(_insert(conn, documents).values(values).on_conflict_do_nothing(
                    index_elements=["url", "sha256"])).rowcount or 0
            for table, found in ((pages, page_rows), (quarantine_table, held)):
                for row in found:
                    conn.execute(_insert(conn, table).values(row).on_conflict_do_nothing(index_elements=["url"]))
        return added


_OPTIONAL_COLUMNS = {"listing_title", "year", "listing_date", "content_type", "real_kind", "filename", "etag",
                     "last_modified", "referer", "parts"}
# Columns added to a table after it was first created: (table, column, SQL type), added when missing.
_ADDED_COLUMNS = ((documents, "parts", "TEXT"),)
_LEGACY_COLUMNS = {"title": "listing_title", "listed_date": "listing_date"}


def _versions_query(since: datetime | str | None, source_id: str | None, url: str | None,
                    after_id: int | None) -> Any:
    query = select(documents).order_by(documents.c.first_seen_at, documents.c.id)
    if after_id is not None:
        query = query.where(documents.c.id > after_id)
    if since is not None:
        query = query.where(documents.c.first_seen_at
                            >= (since.isoformat(timespec="seconds") if isinstance(since, datetime) else since))
    if source_id:
        query = query.where(documents.c.source_id == source_id)
    if url:
        query = query.where(documents.c.url == url)
    return query


# the per-URL reads, built once (a crawl asks them for every link it follows)
_LATEST = select(documents).where(documents.c.url == bindparam("url")).order_by(
    documents.c.first_seen_at.desc(), documents.c.id.desc()).limit(1)
_PAGE = select(pages).where(pages.c.url == bindparam("url"))
_QUARANTINED = select(quarantine_table).where(quarantine_table.c.url == bindparam("url"))


# the per-document writes, built once (a crawl writes them for every item)
_EARLIER = select(documents.c.id).where(documents.c.url == bindparam("url")).limit(1)
_STILL_THERE = update(documents).where(
    documents.c.url == bindparam("at_url"), documents.c.sha256 == bindparam("at_sha256")).values(
    last_checked_at=bindparam("now"), etag=func.coalesce(bindparam("new_etag"), documents.c.etag),
    last_modified=func.coalesce(bindparam("new_last_modified"), documents.c.last_modified),
    parts=func.coalesce(bindparam("new_parts", type_=Text), documents.c.parts))
_RELEASE = quarantine_table.delete().where(quarantine_table.c.url == bindparam("url"))


@dataclass(frozen=True)
class _DialectStatements:
    """The upserts of one dialect (PostgreSQL's or SQLite's INSERT … ON CONFLICT)."""

    add_document: Any
    record_page: Any

    @classmethod
    def of(cls, dialect: Any) -> _DialectStatements:
        page = dialect.insert(pages)
        return cls(
            add_document=dialect.insert(documents).on_conflict_do_nothing(index_elements=["url", "sha256"])
            .returning(documents.c.id),
            record_page=page.on_conflict_do_update(index_elements=["url"], set_={
                name: page.excluded[name] for name in ("etag", "last_modified", "last_checked_at", "children")}))


_DIALECT_STATEMENTS = {name: _DialectStatements.of(dialect) for name, dialect in (("postgresql", postgresql),
                                                                                 ("sqlite", sqlite))}


def _statements(conn: Connection) -> _DialectStatements:
    return _DIALECT_STATEMENTS["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]


def _mappings(conn: Connection, statement: Any, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(statement, parameters)]


def _page(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "children": json.loads(row["children"])}


def _version(row: dict[str, Any]) -> DocumentVersion:
    return DocumentVersion.from_dict({name: row.get(name) for name in DOCUMENT_FIELDS})


def _insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT, which has `on_conflict_do_update|nothing` (PostgreSQL and SQLite)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _engine(url: str) -> Engine:
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _add_missing_columns(conn: Connection) -> None:
    """Columns of a newer index on the tables an older one created (create_all adds no columns)."""
    from sqlalchemy import inspect

    inspector = inspect(conn)
    for table, column, sql_type in _ADDED_COLUMNS:
        if column not in {c["name"] for c in inspector.get_columns(table.name)}:
            conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {column} {sql_type}")


def _create_tables(engine: Engine) -> None:
    """Create the missing tables; two processes doing it at once take turns (PostgreSQL: an advisory
    lock; SQLite: the second, finding a table the first just made, checks again)."""
    for attempt in range(3):
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_ID})")
                METADATA.create_all(conn, checkfirst=True)
                _add_missing_columns(conn)
            return
        except DBAPIError:
            if attempt == 2:
                raise
