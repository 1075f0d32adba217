"""The process stage: every new document version → extract → validate → load.

"New" means: in the crawl index, and without an extraction attempt by the current
extractor version in the warehouse — so running it twice does nothing the second
time, and a new extractor version re-reads every document.

In Airflow the three steps are separate tasks that hand records over through
`<data dir>/staging/` (`extract_to_staging`, `validate_staging`, `load_staging`);
`process` runs them in one go for the CLI.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extract.findings import ids_with_outcome
from nianbao.stages.context import StageContext, ensure_warehouse
from report.document import DocumentVersion
from report.record import ReportRecord

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
EXTRACT_TIMEOUT_SECONDS = 120
EXTRACT_MEMORY_MB = 1536
PROCESS_CHUNK = 32   # documents extracted, validated and loaded together (bounds memory)
NOT_A_REPORT_RULES = ids_with_outcome("not_report")
FAILED_RULES = ids_with_outcome("failed")
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
    from warehouse.load import in_transaction
    from warehouse.session import warehouse_engine

    ordered = sorted(items, key=lambda p: (p.document.source_id, p.record.year or 0, p.document.url))
    in_batch: dict[tuple[str, int], ReportRecord] = {}

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
    if rules & FAILED_RULES or any(f.is_error and f.rule not in RULES_BY_ID and f.rule not in NOT_A_REPORT_RULES
                                   for f in record.findings):
        return "failed"
    if record.year is None or not record.cells or rules & NOT_A_REPORT_RULES:
        return "not_report"
    return "quarantined" if record.errors() else "accepted"


def loadable(record: ReportRecord) -> bool:
    return outcome_of(record) in ("accepted", "quarantined")


# ---------------------------------------------------------------- load
def load_all(context: StageContext, items: Iterable[Processed], progress: Progress | None = None) -> ProcessSummary:
    """Record each document version, load its report (if it is one) and its extraction attempt;
    one transaction per document, so one bad document never undoes the others, run again whole
    after a dropped connection (every step is idempotent)."""
    from nianbao.stages.registry import load_sources
    from nianbao.stages.sync import sync_sources
    from warehouse.load import LoadError, in_transaction
    from warehouse.session import warehouse_engine

    items = list(items)
    summary = ProcessSummary()
    with warehouse_engine(context.warehouse_url) as engine:
        source_ids = sorted({item.document.source_id for item in items})
        registered = [s for s in load_sources(context) if s.id in source_ids]
        in_transaction(engine, lambda session: sync_sources(session, registered))
        for position, item in enumerate(items, 1):
            try:
                loaded = in_transaction(engine, partial(_load_one, item=item))
            except LoadError as exc:
                summary.failed += 1
                summary.problems.append(f"{item.document.url}: {exc}")
                log.warning("could not load %s: %s", item.document.url, exc)
            else:
                loaded.count_into(summary)
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
def stage_path(context: StageContext, key: str) -> Path:
    return context.staging_dir / f"{key}.json"


def write_staged(context: StageContext, item: Processed) -> str:
    context.staging_dir.mkdir(parents=True, exist_ok=True)
    path = stage_path(context, item.document.key)
    payload = {"document": item.document.as_dict(), "record": json.loads(item.record.to_json())}
    temporary = path.with_suffix(".part")
    temporary.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    temporary.replace(path)
    return item.document.key


def read_staged(context: StageContext, keys: Iterable[str]) -> list[Processed]:
    items = []
    for key in keys:
        path = stage_path(context, key)
        if not path.exists():  # loaded and cleared by an earlier try of the same run
            continue
        payload = json.loads(path.read_text(encoding="utf-8"))
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
