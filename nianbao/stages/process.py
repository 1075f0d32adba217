"""The process stage: every new document version → extract → validate → load.

"New" means: in the crawl index, and without an extraction attempt by the current
extractor version in the warehouse — so running it twice does nothing the second
time, and a new extractor version re-reads every document.

In Airflow the three steps are separate tasks that hand records over through
`<data dir>/staging/` (`extract_to_staging`, `validate_staging`, `load_staging`);
`process` runs them in one go for the CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extract.findings import Findings, ids_with_outcome
from nianbao.stages.context import StageContext, ensure_warehouse
from report.document import DocumentVersion
from report.record import ReportRecord, dumps_exact, loads_exact

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
EXTRACT_TIMEOUT_SECONDS = 120
EXTRACT_MEMORY_MB = 1536
PROCESS_CHUNK = 32   # documents extracted, validated and loaded together (bounds memory)
NOT_A_REPORT_RULES = ids_with_outcome("not_report")
FAILED_RULES = ids_with_outcome("failed")
# Extraction findings about the figures (absurd-value): the report is read, the record decides.
RECORD_RULES = frozenset(member.id for member in Findings if member.outcome is None)
Progress = Callable[[str, int, int], None]


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
    from crawler.index import DocumentIndex

    if not context.crawl_index.exists():
        return []
    index = DocumentIndex(context.crawl_index, readonly=True)
    try:
        versions = index.versions()
    finally:
        index.close()
    wanted_sources, wanted_years = set(sources or ()), set(years or ())
    ensure_warehouse(context)
    done = _processed_versions(context)
    pending = []
    for v in versions:
        if wanted_sources and v.source_id not in wanted_sources:
            continue
        if wanted_years and v.year is not None and v.year not in wanted_years:
            continue
        if (v.url, v.sha256) in done:
            continue
        pending.append(v)
    return pending


def _processed_versions(context: StageContext) -> set[tuple[str, str]]:
    from warehouse.facts import processed_versions
    from warehouse.session import warehouse_session

    with warehouse_session(context.warehouse_url) as session:
        return processed_versions(session, extractor_version())


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
    from extract.findings import Findings
    from extract.model import finding

    hints = Hints(url=document.url, listing_title=document.listing_title, agency=document.agency, year=document.year,
                  source_id=document.source_id, listing_date=document.listing_date, sha256=document.sha256,
                  content_type=document.content_type)
    try:
        data = store.get(document.sha256)
    except (OSError, FileNotFoundError) as exc:
        record = ReportRecord(findings=[finding(Findings.UNREADABLE, f"原始文件缺失：{exc}", f"raw bytes missing: {exc}")])
        record.provenance.sha256, record.provenance.url = document.sha256, document.url
        return record
    return extract_isolated(data, hints, timeout_s=EXTRACT_TIMEOUT_SECONDS, memory_mb=EXTRACT_MEMORY_MB)


# ---------------------------------------------------------------- validate
def validate_all(context: StageContext, items: Sequence[Processed]) -> list[Processed]:
    """Replace each record's validator findings, with the previous year's record of the same
    agency (from this batch, else the warehouse) for the cross-year rules. Oldest year first."""
    from report.validate import RULES_BY_ID, validate
    from warehouse.facts import previous_record
    from warehouse.session import warehouse_session

    ordered = sorted(items, key=lambda p: (p.document.source_id, p.record.year or 0, p.document.url))
    in_batch: dict[tuple[str, int], ReportRecord] = {}
    with warehouse_session(context.warehouse_url) as session:
        for item in ordered:
            record = item.record
            if not loadable(record):
                continue
            assert record.year is not None
            slug = item.document.source_id
            previous = in_batch.get((slug, record.year - 1)) or previous_record(session, slug, record.year - 1)
            kept = [f for f in record.findings if f.rule not in RULES_BY_ID]
            record.findings = kept + validate(record, previous)
            in_batch[(slug, record.year)] = record
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
def load_all(context: StageContext, items: Iterable[Processed], progress: Progress | None = None) -> ProcessSummary:
    """Record each document version, load its report (if it is one) and its extraction attempt;
    one transaction per document, so one bad document never undoes the others."""
    from nianbao.stages.registry import load_sources
    from nianbao.stages.sync import sync_sources
    from warehouse.db import session_scope
    from warehouse.load import LoadError
    from warehouse.session import warehouse_engine

    items = list(items)
    summary = ProcessSummary()
    with warehouse_engine(context.warehouse_url) as engine:
        source_ids = sorted({item.document.source_id for item in items})
        with session_scope(engine) as session:
            sync_sources(session, [s for s in load_sources(context) if s.id in source_ids])
        for position, item in enumerate(items, 1):
            try:
                with session_scope(engine) as session:
                    _load_one(session, item, summary)
            except LoadError as exc:
                summary.failed += 1
                summary.problems.append(f"{item.document.url}: {exc}")
                log.warning("could not load %s: %s", item.document.url, exc)
            if progress:
                progress("load", position, len(items))
    summary.documents = len(items)
    return summary


def _load_one(session: Session, item: Processed, summary: ProcessSummary) -> None:
    from warehouse.facts import agency_id_of, attempted
    from warehouse.load import load_report, record_document
    from warehouse.operational import record_extraction_attempt

    record, document = item.record, item.document
    row = record_document(session, document, agency_id=agency_id_of(session, document.source_id))
    version = record.provenance.extractor_version or extractor_version()
    if attempted(session, row.id, version):  # loaded by an earlier try of the same task
        summary.unchanged += 1
        return
    outcome = outcome_of(record)
    report_id = None
    if outcome in ("accepted", "quarantined"):
        result = load_report(session, record, agency_id=document.source_id, document_sha256=document.sha256,
                             document_url=document.url)
        report_id = result.report_id
        if not result.changed:
            summary.unchanged += 1
        setattr(summary, outcome, getattr(summary, outcome) + 1)
    else:
        setattr(summary, outcome, getattr(summary, outcome) + 1)
        summary.problems.append(f"{document.url}: {outcome} ({_first_message(record)})")
    record_extraction_attempt(session, document_id=row.id, outcome=outcome, provenance=record.provenance,
                              report_id=report_id, error=None if report_id else _first_message(record),
                              extractor_version=version)


def _first_message(record: ReportRecord) -> str:
    return next((f.message_en or f.message for f in record.findings if f.is_error), "no report found")


# ---------------------------------------------------------------- staging (between DAG tasks)
def stage_path(context: StageContext, key: str) -> Path:
    return context.staging_dir / f"{key}.json"


def write_staged(context: StageContext, item: Processed) -> str:
    context.staging_dir.mkdir(parents=True, exist_ok=True)
    path = stage_path(context, item.document.key)
    payload = {"document": item.document.as_dict(), "record": item.record.to_jsonable()}
    temporary = path.with_suffix(".part")
    temporary.write_text(dumps_exact(payload), encoding="utf-8")
    temporary.replace(path)
    return item.document.key


def read_staged(context: StageContext, keys: Iterable[str]) -> list[Processed]:
    items = []
    for key in keys:
        path = stage_path(context, key)
        if not path.exists():  # loaded and cleared by an earlier try of the same run
            continue
        payload = loads_exact(path.read_text(encoding="utf-8"))
        items.append(Processed(DocumentVersion.from_dict(payload["document"]),
                               ReportRecord.model_validate(payload["record"])))
    return items


def extract_to_staging(context: StageContext, documents: Sequence[DocumentVersion | dict], jobs: int = 2) -> list[str]:
    """The DAG's extract task: documents already staged (an earlier try) are not extracted again."""
    pending = [d if isinstance(d, DocumentVersion) else DocumentVersion.from_dict(d) for d in documents]
    todo = [d for d in pending if not stage_path(context, d.key).exists()]
    for item in extract_documents(context, todo, jobs=jobs):
        write_staged(context, item)
    return [d.key for d in pending]


def validate_staging(context: StageContext, keys: Iterable[str]) -> list[str]:
    items = validate_all(context, read_staged(context, keys))
    return [write_staged(context, item) for item in items]


def load_staging(context: StageContext, keys: Iterable[str]) -> ProcessSummary:
    keys = list(keys)
    summary = load_all(context, read_staged(context, keys))
    for key in keys:
        stage_path(context, key).unlink(missing_ok=True)
    return summary


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
