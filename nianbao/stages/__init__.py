"""The stage functions: crawl, process (extract → validate → load), check (alerts), harvest.

Each stage is idempotent and runs from the CLI (`nianbao harvest|process|check`) or
as Airflow tasks (dags/), which only wire these functions together.
"""

from crawler.registry import split_ids
from nianbao.stages.check import CheckSummary, check
from nianbao.stages.context import StageContext
from nianbao.stages.crawl import CrawlFailed, CrawlOutcome, launch_crawler, run_crawl
from nianbao.stages.harvest import HarvestSummary, harvest
from nianbao.stages.process import (
    ProcessSummary,
    RawDocumentMissing,
    extract_batch,
    load_staged,
    pending_documents,
    plan_extraction,
    process,
    validate_staged,
)
from nianbao.stages.registry import crawl_batches, families, pool_name, pools
from report.document import DocumentVersion

__all__ = [
    "CheckSummary", "CrawlFailed", "CrawlOutcome", "HarvestSummary", "DocumentVersion",
    "ProcessSummary", "RawDocumentMissing", "StageContext", "check", "crawl_batches", "extract_batch", "families",
    "harvest", "launch_crawler", "load_staged", "pending_documents", "plan_extraction", "pool_name", "pools",
    "process", "run_crawl", "split_ids", "validate_staged",
]
