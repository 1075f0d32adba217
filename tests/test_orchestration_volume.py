"""A national night: 100,000 new document versions (a synthetic crawl index on PostgreSQL) are
planned into at most Airflow's core.max_map_length extract tasks, and what the tasks hand each
other through XCom is ids, never documents."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from crawler.registry import SHIPPED_SOURCES
from nianbao.stages import StageContext, plan_extraction
from nianbao.stages.process import EXTRACT_BATCH_SIZE, MAX_MAPPED_TASKS, extract_batch_size
from nianbao.stages.registry import load_sources
from sandbox.volume import synthetic_night
from warehouse.db import make_engine

NIGHT = 100_000


def airflow_default_max_map_length() -> int:
    """From Airflow's own configuration reference (reading it configures nothing)."""
    spec = importlib.util.find_spec("airflow")
    assert spec is not None and spec.origin is not None
    reference = yaml.safe_load((Path(spec.origin).parent / "config_templates" / "config.yml").read_text("utf-8"))
    return int(reference["core"]["options"]["max_map_length"]["default"])


def test_the_batch_size_grows_so_that_the_map_never_exceeds_airflows_limit() -> None:
    assert airflow_default_max_map_length() == MAX_MAPPED_TASKS
    assert extract_batch_size(0) == extract_batch_size(EXTRACT_BATCH_SIZE * MAX_MAPPED_TASKS) == EXTRACT_BATCH_SIZE
    for count in (EXTRACT_BATCH_SIZE * MAX_MAPPED_TASKS + 1, NIGHT, 10 * NIGHT):
        assert -(-count // extract_batch_size(count)) <= MAX_MAPPED_TASKS, count


@pytest.mark.slow
@pytest.mark.postgres
def test_a_night_of_100k_documents_maps_within_the_limit_and_hands_over_ids(postgres_url, tmp_path) -> None:
    context = StageContext(data_dir=tmp_path / "host", warehouse_url=postgres_url, raw_store=str(tmp_path / "raw"),
                           sources_dir=SHIPPED_SOURCES)
    synthetic_night(postgres_url, NIGHT, [source.id for source in load_sources(context)])
    run = "scheduled__2026-01-01T18:00:00+00:00"

    planned = plan_extraction(context, run)
    assert 0 < len(planned) <= MAX_MAPPED_TASKS and planned == list(range(len(planned)))
    assert len(json.dumps(planned)) < 8 * MAX_MAPPED_TASKS          # the XCom: batch ids, a few KB
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            sizes = [n for (n,) in conn.execute(text(
                "SELECT count(*) FROM staged_records WHERE run_id = :r GROUP BY batch"), {"r": run})]
            first = [tuple(row) for row in conn.execute(text(
                "SELECT document->>'source_id', (document->>'year')::int, document->>'url' FROM staged_records "
                "WHERE run_id = :r ORDER BY position LIMIT 500"), {"r": run})]
    finally:
        engine.dispose()
    assert sum(sizes) == NIGHT and max(sizes) == extract_batch_size(NIGHT)
    assert first == sorted(first)                                    # validation order: source, year, url
    assert plan_extraction(context, run) == planned                  # a retried find_new changes nothing
