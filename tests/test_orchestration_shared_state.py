"""Hosts that share no disk: the harvest's stages on two "hosts" (two data directories) with one
PostgreSQL database (warehouse, crawl index, staged records) and one S3-compatible object store
(the raw store, moto's server on 127.0.0.1) give the warehouse one host gives; a raw document
or a staged record that is not there fails the task, never a silent skip."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from crawler.store import RawStore
from nianbao.stages import (
    RawDocumentMissing,
    StageContext,
    check,
    extract_batch,
    harvest,
    load_staged,
    plan_extraction,
    run_crawl,
    validate_staged,
)
from warehouse.db import make_engine
from warehouse.snapshot import snapshot
from warehouse.staging import StagingError

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TODAY = date(2025, 4, 15)
SITES = ["hongze", "huaian"]
SOURCES = [f"sandbox-{site}" for site in SITES]
HELD_BACK = ["huaian-2024-word-pdf", "huaian-2024-xxe"]   # a missing-report alert to compare too
RUN = "manual__2025-04-15T02:00:00+00:00"
# What both harvests must agree on, by natural keys (row ids and timestamps differ between databases).
COMPARED = ("documents", "extraction_attempts", "reports", "cells", "findings", "open_alerts")


def test_two_hosts_with_one_database_and_one_object_store_harvest_as_one(
        sandbox_portal_factory, postgres_url, s3_raw_store, tmp_path) -> None:
    portal = sandbox_portal_factory(sites=SITES, hold_back=HELD_BACK)
    single = StageContext(data_dir=tmp_path / "single", warehouse_url=f"sqlite:///{tmp_path / 'single' / 'w.db'}",
                          raw_store=str(tmp_path / "single" / "raw"), sources_dir=Path("sources"), sandbox_url=portal.url)
    harvest(single, today=TODAY, sources=SOURCES, fast=True, notifiers=[])

    a, b = (StageContext(data_dir=tmp_path / f"host-{name}", warehouse_url=postgres_url, raw_store=s3_raw_store,
                         sources_dir=Path("sources"), sandbox_url=portal.url) for name in "ab")
    run_crawl(a, SOURCES[:1], fast=True)                 # each host crawls one source
    run_crawl(b, SOURCES[1:], fast=True)
    planned = plan_extraction(b, RUN, SOURCES)
    assert len(planned) >= 2 and plan_extraction(a, RUN, SOURCES) == planned   # a retry keeps the plan

    store = RawStore(s3_raw_store)
    sha256 = _first_of_batch(postgres_url, planned[0])
    kept = store.get(sha256)
    store.fs.rm_file(store.location(sha256))
    with pytest.raises(RawDocumentMissing, match=sha256):
        extract_batch(a, RUN, planned[0], jobs=1)
    with pytest.raises(StagingError, match="planned"):   # the batch was never extracted: validate refuses
        validate_staged(b, RUN, planned)
    with pytest.raises(StagingError, match="not staged"):
        validate_staged(b, RUN, [*planned, 999])
    assert store.put(kept) == sha256

    for position, batch in enumerate(planned):           # the batches alternate between the hosts
        extract_batch((a, b)[position % 2], RUN, batch, jobs=1)
    with pytest.raises(StagingError, match="validated"):  # loading before validating: refused
        load_staged(a, RUN, planned)
    validate_staged(a, RUN, planned)
    loaded = load_staged(b, RUN, planned)
    assert loaded.documents > 0 and load_staged(a, RUN, planned).documents == 0   # a retried load: nothing twice
    check(a, today=TODAY, sources=SOURCES, notifiers=[])

    shared, alone = snapshot(postgres_url, COMPARED), snapshot(single.warehouse_url, COMPARED)
    assert shared["reports"] and any(row.startswith("('missing',") for row in shared["open_alerts"])
    assert shared == alone
    for host in (a, b):                                  # a host keeps nothing of its own
        assert not host.data_dir.exists() or not [p for p in host.data_dir.rglob("*") if p.is_file()]


def _first_of_batch(url: str, batch: int) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            document = conn.execute(text("SELECT document FROM staged_records WHERE run_id = :r AND batch = :b "
                                         "ORDER BY position LIMIT 1"), {"r": RUN, "b": batch}).scalar_one()
    finally:
        engine.dispose()
    return str(document["sha256"])
