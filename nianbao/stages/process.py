"""The process stage: every new document version → extract → validate → load.

"New" means: in the crawl index, and without an extraction attempt by the current
extractor version in the warehouse — so running it twice does nothing the second
time, and a new extractor version re-reads every document.

In Airflow the three steps are separate tasks, on any host, that hand records over through the
warehouse's `staged_records` (`plan_extraction` → `extract_batch` ×N → `validate_staged` →
`load_staged`) and exchange only the run id and batch ids; `process` runs them in one go for the CLI.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from extract.findings import Findings, ids_with_outcome
from nianbao.stages.context import StageContext, ensure_warehouse, read_crawl_index
from report.document import DocumentVersion
from report.record import ReportRecord

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
EXTRACT_TIMEOUT_SECONDS = 120
EXTRACT_MEMORY_MB = 1536
PROCESS_CHUNK = 32   # documents extracted, validated and loaded together (bounds memory)
EXTRACT_BATCH_SIZE = 8     # documents per extract task, at least
MAX_MAPPED_TASKS = 1024    # Airflow's core.max_map_length (its default): the extract task's map indexes
STAGING_CHUNK = 500        # staged records validated or loaded together
NOT_A_REPORT_RULES = ids_with_outcome("not_report")
FAILED_RULES = ids_with_outcome("failed")
# Extraction findings about the figures (absurd-value): the report is read, the record decides.
RECORD_RULES = frozenset(member.id for member in Findings if member.outcome is None)
Progress = Callable[[str, int, int], None]


class RawDocumentMissing(RuntimeError):
    """The crawl index lists a document version whose bytes the raw store does not have (a host with
    its own disk, a store lost): an error of the stage, never a silent skip or a finding."""


@dataclass
class Processed:
    document: DocumentVersion
    record: ReportRecord


@dataclass
class ProcessSummary:
    documents: int = 0
    accepted: int = 0
    quarantined: int = 0
    unchanged: int = 0
    not_report: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, other: ProcessSummary) -> None:
        for name in ("documents", "accepted", "quarantined", "unchanged", "not_report", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems.extend(other.problems)


def extractor_version() -> str:
    from extract import __version__

    return __version__


# ---------------------------------------------------------------- what is new
def pending_documents(context: StageContext, sources: Sequence[str] | None = None,
                      years: Sequence[int] | None = None) -> list[DocumentVersion]:
    """Crawl-index versions (of these sources and listing years) not yet processed by this extractor."""
    ensure_warehouse(context)
    done = _processed_versions(context)
    wanted_years = set(years or ())
    return read_crawl_index(context, lambda index: [
        v for v in index.iter_versions(sources=sources)
        if not (wanted_years and v.year is not None and v.year not in wanted_years) and (v.url, v.sha256) not in done])


def _processed_versions(context: StageContext) -> set[tuple[str, str]]:
    from warehouse.facts import processed_versions
    from warehouse.load import in_transaction
    from warehouse.session import warehouse_engine

    with warehouse_engine(context.warehouse_url) as engine:
        return in_transaction(engine, lambda session: processed_versions(session, extractor_version()))


def batches(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


# ---------------------------------------------------------------- extract
def extract_documents(context: StageContext, documents: Sequence[DocumentVersion], *, jobs: int = 2,
                      progress: Progress | None = None) -> list[Processed]:
    """Extract each document in its own worker process (time and memory limits), `jobs` at a time."""
    from crawler.store import RawStore
    from extract.readers.ocr import set_threads

    store = RawStore(context.raw_store)
    set_threads(context.settings.ocr_threads)

    def one(document: DocumentVersion) -> Processed:
        return Processed(document, _extract_one(store, document))

    done: list[Processed] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for processed in pool.map(one, documents):
            done.append(processed)
            if progress:
                progress("extract", len(done), len(documents))
    return done


def _extract_one(store: Any, document: DocumentVersion) -> ReportRecord:
    from extract import Hints, extract_isolated

    hints = Hints(url=document.url, listing_title=document.listing_title, agency=document.agency, year=document.year,
                  source_id=document.source_id, listing_date=document.listing_date, sha256=document.sha256,
                  content_type=document.content_type)
    pages = [_raw(store, document, sha256) for sha256 in document.raw_keys]
    source: bytes | list[bytes] = pages if document.parts else pages[0]
    return extract_isolated(source, hints, timeout_s=EXTRACT_TIMEOUT_SECONDS, memory_mb=EXTRACT_MEMORY_MB)


def _raw(store: Any, document: DocumentVersion, sha256: str) -> bytes:
    """The bytes of a document (or of one of its parts) from the raw store."""
    try:
        return store.get(sha256)
    except OSError as exc:   # never a finding: the document is not unreadable, our store lost it
        raise RawDocumentMissing(f"{document.url}: raw document {sha256} not in the raw store "
                                 f"{store.url}: {exc}") from exc


# ---------------------------------------------------------------- validate
def validate_all(context: StageContext, items: Sequence[Processed],
                 earlier: dict[tuple[str, int], ReportRecord] | None = None) -> list[Processed]:
    """Replace each record's validator findings, with the previous year's record of the same
    agency (from this batch or `earlier`'s, else the warehouse) for the cross-year rules. Oldest
    year first; `earlier` (source, year) → record gains this batch's records."""
    from report.validate import RULES_BY_ID, validate
    from warehouse.facts import previous_record
    from warehouse.load import in_transaction
    from warehouse.session import warehouse_engine

    ordered = sorted(items, key=lambda p: (p.document.source_id, p.record.year or 0, p.document.url))
    in_batch = earlier if earlier is not None else {}

    def validate_each(session: Session) -> None:   # run again whole after a dropped connection
        for item in ordered:
            record = item.record
            if not loadable(record):
                continue
            assert record.year is not None
            slug = filing_slug(item.document, record)
            previous = in_batch.get((slug, record.year - 1)) or previous_record(session, slug, record.year - 1)
            kept = [f for f in record.findings if f.rule not in RULES_BY_ID]
            record.findings = kept + validate(record, previous)
            in_batch[(slug, record.year)] = record

    with warehouse_engine(context.warehouse_url) as engine:
        in_transaction(engine, validate_each)
    return ordered


def outcome_of(record: ReportRecord) -> str:
    """accepted | quarantined (a report; hard findings) | not_report | failed (extraction refused or died)."""
    from report.validate import RULES_BY_ID

    rules = {f.rule for f in record.findings}
    known = RULES_BY_ID.keys() | NOT_A_REPORT_RULES | RECORD_RULES
    if rules & FAILED_RULES or any(f.is_error and f.rule not in known for f in record.findings):
        return "failed"
    if record.year is None or not record.cells or rules & NOT_A_REPORT_RULES:
        return "not_report"
    return "quarantined" if record.errors() else "accepted"


def loadable(record: ReportRecord) -> bool:
    return outcome_of(record) in ("accepted", "quarantined")


# ---------------------------------------------------------------- load
def load_all(context: StageContext, items: Iterable[Processed], progress: Progress | None = None,
             synced: set[str] | None = None) -> ProcessSummary:
    """Record each document version, load its report (if it is one) and its extraction attempt;
    one transaction per report, so one bad document never undoes the others. The documents that
    are no report are recorded together, one transaction for the lot (their bookkeeping is most
    of a night's documents); should that fail, one by one. Each transaction is run again whole
    after a dropped connection (every step is idempotent). `synced`: the sources already brought
    into the warehouse by an earlier call (it gains this call's)."""
    from nianbao.stages.registry import load_sources
    from nianbao.stages.sync import sync_sources
    from warehouse.load import in_transaction
    from warehouse.session import warehouse_engine

    items = list(items)
    summary = ProcessSummary()
    with warehouse_engine(context.warehouse_url) as engine:
        source_ids = {item.document.source_id for item in items} - (synced or set())
        if source_ids:
            registered = [s for s in load_sources(context) if s.id in source_ids]
            in_transaction(engine, lambda session: sync_sources(session, registered))
            if synced is not None:
                synced |= source_ids
        reports = [item for item in items if loadable(item.record)]
        others = [item for item in items if not loadable(item.record)]
        if not _record_unloaded(engine, others, summary):
            reports = items   # the lot failed: every document on its own, as a report is
        elif progress and others:
            progress("load", len(others), len(items))
        for position, item in enumerate(reports, len(items) - len(reports) + 1):
            _load_alone(engine, item, summary)
            if progress:
                progress("load", position, len(items))
    summary.documents = len(items)
    return summary


@dataclass(frozen=True)
class Loaded:
    """What loading one document did (counted only once its transaction committed)."""

    outcome: str
    unchanged: bool = False
    problem: str | None = None

    def count_into(self, summary: ProcessSummary) -> None:
        if self.unchanged:
            summary.unchanged += 1
        if self.outcome:
            setattr(summary, self.outcome, getattr(summary, self.outcome) + 1)
        if self.problem:
            summary.problems.append(self.problem)


def _load_alone(engine: Any, item: Processed, summary: ProcessSummary) -> None:
    from warehouse.load import LoadError, in_transaction

    try:
        loaded = in_transaction(engine, partial(_load_one, item=item))
    except LoadError as exc:
        summary.failed += 1
        summary.problems.append(f"{item.document.url}: {exc}")
        log.warning("could not load %s: %s", item.document.url, exc)
    else:
        loaded.count_into(summary)


def _record_unloaded(engine: Any, items: Sequence[Processed], summary: ProcessSummary) -> bool:
    """The documents that are no report, in one transaction (run again after a dropped
    connection); False (nothing recorded) when it fails."""
    from sqlalchemy.exc import SQLAlchemyError

    from warehouse.bookkeeping import Unloaded, record_unloaded
    from warehouse.facts import agency_ids
    from warehouse.load import LoadError, in_transaction

    if not items:
        return True

    def record(session: Session) -> tuple[list[Unloaded], set[int]]:
        agencies = agency_ids(session, {item.document.source_id for item in items})
        entries = [Unloaded(item.document, agencies.get(item.document.source_id), outcome_of(item.record),
                            _first_message(item.record), item.record.provenance,
                            item.record.provenance.extractor_version or extractor_version()) for item in items]
        return entries, {id(entry) for entry in record_unloaded(session, entries)}

    try:
        entries, fresh = in_transaction(engine, record)
    except (LoadError, SQLAlchemyError, ValueError) as exc:
        log.warning("could not record %d documents together (%s): one by one", len(items), exc)
        return False
    for entry in entries:
        if id(entry) not in fresh:   # recorded by an earlier try of the same task
            summary.unchanged += 1
            continue
        setattr(summary, entry.outcome, getattr(summary, entry.outcome) + 1)
        summary.problems.append(f"{entry.document.url}: {entry.outcome} ({entry.error})")
    return True


def _load_one(session: Session, item: Processed) -> Loaded:
    from warehouse.facts import agency_id_of, attempted
    from warehouse.load import load_report, record_document
    from warehouse.operational import record_extraction_attempt

    record, document = item.record, item.document
    slug = filing_slug(document, record)
    if slug != document.source_id:
        register_named_agency(session, document.source_id, slug, str(named_agency(document, record)))
    row = record_document(session, document, agency_id=agency_id_of(session, slug))
    version = record.provenance.extractor_version or extractor_version()
    if attempted(session, row.id, version):  # loaded by an earlier try of the same task
        return Loaded(outcome="", unchanged=True)
    outcome = outcome_of(record)
    report_id, loaded = None, Loaded(outcome, problem=f"{document.url}: {outcome} ({_first_message(record)})")
    if outcome in ("accepted", "quarantined"):
        result = load_report(session, record, agency_id=slug, document_sha256=document.sha256,
                             document_url=document.url)
        report_id, loaded = result.report_id, Loaded(outcome, unchanged=not result.changed)
        if record.year is not None:
            revalidate_next_year(session, slug, record.year)
    record_extraction_attempt(session, document_id=row.id, outcome=outcome, provenance=record.provenance,
                              report_id=report_id, error=None if report_id else _first_message(record),
                              extractor_version=version)
    return loaded


def revalidate_next_year(session: Session, slug: str, year: int) -> int:
    """Re-check the cross-year rules of the agency's year+1 reports against its current `year`
    report, so that a year arriving after the one that follows it leaves the same findings as if it
    had come first. Returns the number of year+1 versions whose findings changed."""
    from report.validate import CROSS_YEAR_RULES, validate_across_years
    from warehouse.facts import previous_record, stored_versions
    from warehouse.load import load_report

    previous = previous_record(session, slug, year)
    changed = 0
    for report, stored in stored_versions(session, slug, year + 1):
        fresh = [f for f in stored.findings if f.rule not in CROSS_YEAR_RULES] + validate_across_years(stored, previous)
        if sorted(map(_finding_key, fresh)) == sorted(map(_finding_key, stored.findings)):
            continue
        stored.findings = fresh
        load_report(session, stored, agency_id=slug, document_sha256=stored.provenance.sha256,
                    document_url=stored.provenance.url, status=report.status)
        changed += 1
    return changed


def _finding_key(finding: Any) -> tuple[Any, ...]:
    return finding.rule, finding.severity, tuple(finding.cells), finding.message, finding.message_en


# ---------------------------------------------------------------- whose report
def named_agency(document: DocumentVersion, record: ReportRecord) -> str | None:
    """The agency a report names when it is not the column owner's — a subordinate bureau's or a
    managed body's report linked from the column: the document's own title first, else the
    listing title. None for the owner's own report (or one that names nobody)."""
    from extract.metadata import agency_from_title, clean_listing_title
    from report.agencies import looks_like_agency, same_agency

    named = record.agency if agency_from_title(record.title) else \
        agency_from_title(clean_listing_title(document.listing_title))
    if not named or not document.agency or not looks_like_agency(named) or same_agency(named, document.agency):
        return None
    return named


def filing_slug(document: DocumentVersion, record: ReportRecord) -> str:
    """The slug of the agency a report is kept under: the column owner's (the source id), or for
    another agency's report `<source id>~<its name>` — never a second version of the owner's."""
    named = named_agency(document, record)
    return document.source_id if named is None else f"{document.source_id}~{named[:150]}"


def register_named_agency(session: Session, source_id: str, slug: str, name: str) -> None:
    """Another agency found in a source's column: kept in the owner's region, not expected (the
    registry does not say it must publish here, so it never has a `missing` alert)."""
    from extract.metadata import agency_kind, agency_level
    from warehouse.facts import agency_of
    from warehouse.load import upsert_agency

    owner = agency_of(session, source_id)
    if owner is None:
        return   # not registered: the load says so
    kind, level = agency_kind(name) or "department", agency_level(name) or owner.level
    if kind == "department" or level == "department":   # a government of no known level: 31 January
        kind, level = "department", "department"
    upsert_agency(session, slug=slug, name=name, region_code=owner.region_code, level=level, kind=kind,
                  expected=False, source_id=owner.source_id)


def _first_message(record: ReportRecord) -> str:
    return next((f.message_en or f.message for f in record.findings if f.is_error), "no report found")


# ---------------------------------------------------------------- staging (between DAG tasks)
def extract_batch_size(count: int) -> int:
    """Documents per extract task: EXTRACT_BATCH_SIZE, more when that would map more than MAX_MAPPED_TASKS."""
    return max(EXTRACT_BATCH_SIZE, math.ceil(count / MAX_MAPPED_TASKS))


def plan_extraction(context: StageContext, run_id: str, sources: Sequence[str] | None = None,
                    years: Sequence[int] | None = None) -> list[int]:
    """The DAG's find_new: stage the run's pending documents in the warehouse, in validation order
    (source, year, url), and return the batch ids the extract task maps over (at most
    MAX_MAPPED_TASKS). A run planned before (a retry) keeps its plan."""
    from warehouse.load import in_transaction
    from warehouse.session import warehouse_engine
    from warehouse.staging import forget_finished_runs, planned_batches, write_plan

    ensure_warehouse(context)
    with warehouse_engine(context.warehouse_url) as engine:
        existing = in_transaction(engine, lambda session: planned_batches(session, run_id))
        if existing:
            return existing
        documents = sorted(pending_documents(context, sources, years), key=lambda d: (d.source_id, d.year or 0, d.url))
        plan = [(d.key, d.as_dict()) for d in documents]

        def write(session: Session) -> list[int]:
            forget_finished_runs(session, keep=run_id)
            return write_plan(session, run_id, plan, extract_batch_size(len(documents)))

        return in_transaction(engine, write)


def extract_batch(context: StageContext, run_id: str, batch: int, jobs: int = 2) -> int:
    """The DAG's extract task: extract the batch's documents not yet extracted (an earlier try's are kept),
    saving the records a few at a time. A raw document missing from the store fails the task."""
    from warehouse.load import in_transaction
    from warehouse.session import warehouse_engine
    from warehouse.staging import batch_rows, save_records

    with warehouse_engine(context.warehouse_url) as engine:
        rows = in_transaction(engine, lambda session: [(row.document, row.stage)
                                                       for row in batch_rows(session, run_id, batch)])
        todo = [DocumentVersion.from_dict(document) for document, stage in rows if stage == "planned"]
        for chunk in batches(todo, EXTRACT_BATCH_SIZE):
            records = [(p.document.key, _record_json(p.record)) for p in extract_documents(context, chunk, jobs=jobs)]
            in_transaction(engine, partial(save_records, run_id=run_id, records=records, stage="extracted"))
    return len(rows)


def validate_staged(context: StageContext, run_id: str, planned: Sequence[int]) -> list[int]:
    """The DAG's validate task: every record of the planned batches, in plan order, a chunk at a time.
    A batch not staged, or a document not extracted, fails the task."""
    from warehouse.load import in_transaction
    from warehouse.session import warehouse_engine
    from warehouse.staging import require_stages, rows_after, save_records

    if not planned:
        return []
    earlier: dict[tuple[str, int], ReportRecord] = {}
    after = -1
    with warehouse_engine(context.warehouse_url) as engine:
        in_transaction(engine, partial(require_stages, run_id=run_id, batches=planned,
                                       allowed=("extracted", "validated", "loaded")))
        while True:
            rows = in_transaction(engine, partial(rows_after, run_id=run_id, stages=("extracted",), after=after,
                                                  limit=STAGING_CHUNK))
            if not rows:
                return list(planned)
            after = rows[-1].position
            items = validate_all(context, [_processed(row.document, row.record) for row in rows], earlier=earlier)
            records = [(p.document.key, _record_json(p.record)) for p in items]
            in_transaction(engine, partial(save_records, run_id=run_id, records=records, stage="validated"))
            current = items[-1].document.source_id
            earlier = {key: record for key, record in earlier.items() if key[0] == current}   # bounded memory


def load_staged(context: StageContext, run_id: str, planned: Sequence[int]) -> ProcessSummary:
    """The DAG's load task: load the validated records in plan order, a chunk at a time, marking each
    chunk loaded (a retry loads only the rest). A record not validated fails the task."""
    from warehouse.load import in_transaction
    from warehouse.session import warehouse_engine
    from warehouse.staging import mark_loaded, require_stages, rows_after

    summary = ProcessSummary()
    if not planned:
        return summary
    after, synced = -1, set[str]()
    with warehouse_engine(context.warehouse_url) as engine:
        in_transaction(engine, partial(require_stages, run_id=run_id, batches=planned, allowed=("validated", "loaded")))
        while True:
            rows = in_transaction(engine, partial(rows_after, run_id=run_id, stages=("validated",), after=after,
                                                  limit=STAGING_CHUNK))
            if not rows:
                return summary
            after = rows[-1].position
            items = [_processed(row.document, row.record) for row in rows]
            summary.add(load_all(context, items, synced=synced))
            in_transaction(engine, partial(mark_loaded, run_id=run_id, keys=[item.document.key for item in items]))


def _record_json(record: ReportRecord) -> dict[str, Any]:
    # decimals kept as their digits (a JSON column would carry them through a float)
    return json.loads(record.to_json(), parse_float=str)


def _processed(document: dict[str, Any], record: dict[str, Any] | None) -> Processed:
    if record is None:
        raise RuntimeError(f"staged document {document.get('url')} has no record")
    return Processed(DocumentVersion.from_dict(document), ReportRecord.model_validate(record))


# ---------------------------------------------------------------- all three, for the CLI
def process(context: StageContext, *, sources: Sequence[str] | None = None, years: Sequence[int] | None = None,
            jobs: int = 2, progress: Progress | None = None) -> ProcessSummary:
    """Extract, validate and load the pending documents, a chunk at a time (oldest year first, so
    that a chunk's previous-year records are in the warehouse or in the chunk)."""
    ensure_warehouse(context)
    documents = sorted(pending_documents(context, sources, years),
                       key=lambda d: (d.source_id, d.year or 0, d.url))
    summary = ProcessSummary()
    done = 0
    for chunk in batches(documents, PROCESS_CHUNK):
        def chunk_progress(stage: str, position: int, _total: int, offset: int = done) -> None:
            if progress:
                progress(stage, offset + position, len(documents))

        extracted = extract_documents(context, chunk, jobs=jobs, progress=chunk_progress)
        summary.add(load_all(context, validate_all(context, extracted), progress=chunk_progress))
        done += len(chunk)
    return summary
