"""End-to-end crawls of the sandbox portal, each in its own process as in production.

Politeness is off (--fast) so a crawl of the whole sandbox takes seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from crawler.families import ADAPTERS
from crawler.index import DocumentIndex
from crawler.store import RawStore
from nianbao.stages.context import StageContext
from nianbao.stages.crawl import launch_crawler
from report.document import parts_digest
from sandbox.portal import FAULT_KINDS, Document

ROOT = Path(__file__).resolve().parents[1]
SANDBOX_SOURCES = yaml.safe_load((ROOT / "sources" / "sandbox.yaml").read_text(encoding="utf-8"))
ALL_SITES = [entry["id"].removeprefix("sandbox-") for entry in SANDBOX_SOURCES]


def write_sources(directory: Path, sites: list[str] | None = None, **changes: object) -> Path:
    chosen = [dict(entry, **changes) for entry in SANDBOX_SOURCES
              if sites is None or entry["id"].removeprefix("sandbox-") in sites]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sandbox.yaml").write_text(yaml.safe_dump(chosen, allow_unicode=True), encoding="utf-8")
    return directory


def crawl_command(portal_url: str, work: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "crawler", "crawl", "--fast", "--sandbox-url", portal_url,
            "--data-dir", str(work / "data"), "--sources-dir", str(work / "sources"), *extra]


def crawl(portal_url: str, work: Path, *extra: str, timeout: float = 120) -> dict:
    result = subprocess.run(crawl_command(portal_url, work, *extra), capture_output=True, text=True,
                            cwd=ROOT, timeout=timeout)
    assert result.stdout, result.stderr[-3000:]
    return json.loads(result.stdout)


def report_urls(portal, sites: list[str]) -> dict[str, str]:
    """URL → document name of every report the portal serves on these sites (what a crawl must find)."""
    urls = {}
    for site in sites:
        for item in portal.items(site):
            if item.document.kind != "report":
                continue
            # a report over several pages (a flipbook, an article paginated in place) is one
            # multipart document, at its article's URL
            urls[portal.url + (item.attachment_url or item.article_url)] = item.document.name
    return urls


def index_of(work: Path) -> DocumentIndex:
    return DocumentIndex(work / "data" / "warehouse.db")


@pytest.mark.slow
def test_crawl_finds_every_report_of_every_family_and_keeps_exact_bytes(sandbox_portal, tmp_path: Path) -> None:
    write_sources(tmp_path / "sources")
    summary = crawl(sandbox_portal.url, tmp_path)
    assert summary["finish_reason"] == "finished"
    expected = report_urls(sandbox_portal, ALL_SITES)
    index = index_of(tmp_path)
    versions = index.versions()
    found = {v.url for v in versions}
    assert expected.keys() <= found, sorted(expected.keys() - found)
    # nothing that is not a report: no filler, no look-alike, no hostile file stored as a document
    served = {sandbox_portal.url + (i.attachment_url or i.article_url): i.document for s in ALL_SITES
              for i in sandbox_portal.items(s)}
    for url in found - expected.keys():
        document = served.get(url)
        assert document is None or document.kind == "broken", (url, document and document.kind)
    store = RawStore(str(tmp_path / "data" / "raw"))
    for version in versions:
        stored = [store.get(sha256) for sha256 in version.raw_keys]
        digest = parts_digest(version.parts) if version.parts else hashlib.sha256(stored[0]).hexdigest()
        assert digest == version.sha256 and sum(map(len, stored)) == version.size
        assert version.year is not None and version.listing_title
    by_family = {entry["family"] for entry in SANDBOX_SOURCES
                 if summary["sources"][entry["id"]].get("documents", 0) > 0}
    assert by_family == set(ADAPTERS)
    # hostile files served where a report should be are failures with a cause, never documents
    failures = {f.url: f.kind for f in index.failures(summary["run_id"])}
    for url, document in served.items():
        if document.kind == "broken" and url not in found:
            assert url in failures, url
    assert summary["documents"]["new"] == len(versions)


@pytest.mark.slow
def test_second_crawl_transfers_no_document_bytes_then_finds_new_and_replaced(sandbox_portal_factory,
                                                                               tmp_path: Path) -> None:
    sites = ["hongze", "huaian", "lg-health", "chanhe-industry", "changchun-health"]
    portal = sandbox_portal_factory(sites=sites)
    write_sources(tmp_path / "sources", sites)
    first = crawl(portal.url, tmp_path)
    assert first["documents"]["new"] > 0 and first["documents"]["changed"] == 0
    assert 0 < first["store_cpu_seconds"] < first["cpu_seconds"]   # the storage thread's share of the CPU

    portal.clear_requests()
    second = crawl(portal.url, tmp_path, "--recheck-interval", "0")
    assert second["documents"]["new"] == 0 and second["documents"]["changed"] == 0
    assert second["document_bytes"] == 0
    assert second["documents"]["unchanged"] == first["documents"]["new"]
    document_paths = {u.removeprefix(portal.url) for u in report_urls(portal, sites)}
    asked = [r for r in portal.requests if r.path in document_paths]
    assert len(asked) == len(document_paths) and all(r.status == 304 for r in asked)   # a 304 has no body
    item_paths = {p for s in sites for i in portal.items(s) for p in (i.article_url, i.attachment_url, *i.page_urls)}
    assert [r for r in portal.requests if r.path in item_paths and r.status != 304] == []   # hostile ones too

    within_interval = crawl(portal.url, tmp_path)   # default interval: nothing is due again
    assert within_interval["documents"]["not_due"] > 0 and within_interval["document_bytes"] == 0

    target = next(i for i in portal.items("hongze") if i.attachment_url and i.document.kind == "report")
    corrected = "%PDF-1.7\n% corrected version (更正版)\n%%EOF\n".encode()
    portal.replace(target.attachment_url, corrected)
    new_pdf = b"%PDF-1.4\n% a report published between crawls\n%%EOF\n"
    published = portal.publish("huaian", Document(title="淮安市人民政府2025年政府信息公开工作年度报告",
                                                  content=new_pdf, site="huaian", name="huaian-2025-new",
                                                  published="2026-03-20"))
    third = crawl(portal.url, tmp_path, "--recheck-interval", "0")
    assert third["documents"]["new"] == 1 and third["documents"]["changed"] == 1
    index = index_of(tmp_path)
    old_and_new = index.versions(url=portal.url + target.attachment_url)
    assert len(old_and_new) == 2 and old_and_new[-1].sha256 == hashlib.sha256(corrected).hexdigest()
    added = index.versions(url=portal.url + published.attachment_url)
    assert [(v.year, v.sha256) for v in added] == [(2025, hashlib.sha256(new_pdf).hexdigest())]
    full = crawl(portal.url, tmp_path, "--full")
    assert full["mode"] == "full" and full["documents"]["not_due"] == 0 and full["documents"]["new"] == 0


@pytest.mark.slow
def test_every_fault_kind_is_survived_and_recorded_with_its_cause(sandbox_portal_factory, tmp_path: Path) -> None:
    sites = ["hongze", "qiaokou-health", "jlp-erlang", "huaian", "yw-ershisanli", "weishan-liangcheng",
             "lg-health", "guangdong", "chanhe-industry", "lueyang-land"]
    portal = sandbox_portal_factory(sites=sites)

    def first_attachment(site: str) -> str:
        return next(i.attachment_url for i in portal.items(site) if i.attachment_url and i.document.kind == "report")

    def first_article(site: str) -> str:
        return next(i.article_url for i in portal.items(site) if i.document.kind == "report")

    faulty = {
        "status_500": first_attachment("hongze"),
        "timeout": first_attachment("qiaokou-health"),
        "reset": first_attachment("yw-ershisanli"),
        "truncated": first_attachment("weishan-liangcheng"),
        "redirect_loop": first_article("lg-health"),
        "redirect_offsite": first_article("guangdong"),
        "redirect_private": first_article("chanhe-industry"),
        "challenge": first_attachment("lueyang-land"),
    }
    assert set(faulty) | {"status_429", "slow_drip"} == set(FAULT_KINDS)   # every kind the portal knows
    for kind, path in faulty.items():
        portal.add_fault(kind=kind, url=path, seconds=7)
    portal.add_fault(kind="status_429", site="huaian", url="*/col/*", times=1, retry_after=1)
    slow_list = portal.list_url("jlp-erlang").removeprefix(portal.url)
    portal.add_fault(kind="slow_drip", url=slow_list, interval=0.0001)
    write_sources(tmp_path / "sources", sites)
    summary = crawl(portal.url, tmp_path, "--set", "DOWNLOAD_TIMEOUT=3", "--set", "RETRY_TIMES=1")
    assert summary["finish_reason"] == "finished"
    failures = {f.url.removeprefix(portal.url): f.kind for f in index_of(tmp_path).failures(summary["run_id"])}
    expected_cause = {"status_500": {"http_500"}, "timeout": {"timeout"},
                      "reset": {"connection", "truncated"},  # half the declared body, then RST: data loss
                      "truncated": {"truncated"}, "redirect_loop": {"redirect_loop"},
                      "redirect_offsite": {"offsite"}, "redirect_private": {"private_address"},
                      "challenge": {"challenge"}}
    for kind, path in faulty.items():
        assert failures.get(path) in expected_cause[kind], (kind, path, failures.get(path))
    assert "challenge" in summary["sources"]["sandbox-lueyang-land"]["flags"]
    found = {v.url.removeprefix(portal.url) for v in index_of(tmp_path).versions()}
    assert first_attachment("jlp-erlang") in found                      # its list page came slowly
    huaian = {u for u in report_urls(portal, ["huaian"])}
    assert {u.removeprefix(portal.url) for u in huaian} <= found       # 429 retried after Retry-After
    assert summary["retry_wait_ms"] >= 500   # Retry-After: 1, capped at 0.5 s in --fast (backoff alone: 50 ms)
    assert not any(r.path.startswith("/latest/meta-data") or "evil.example" in r.path for r in portal.requests)


@pytest.mark.slow
def test_private_addresses_are_refused_unless_the_source_allows_them(sandbox_portal, tmp_path: Path) -> None:
    write_sources(tmp_path / "sources", ["hongze"], allow_private=False)
    summary = crawl(sandbox_portal.url, tmp_path)
    assert summary["errors"].get("private_address", 0) >= 1
    assert summary["documents"]["new"] == 0
    assert sandbox_portal.requests == []          # not even robots.txt was asked for
    # second line of defence: with the guard middleware switched off, the resolver still refuses
    without_guard = json.dumps({"crawler.middlewares.PrivateAddressGuard": None,
                                "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
                                "crawler.middlewares.BackoffRetryMiddleware": 550,
                                "crawler.middlewares.RedirectGuard": 620})
    by_name = sandbox_portal.url.replace("127.0.0.1", "localhost")
    summary = crawl(by_name, tmp_path, "--set", f"DOWNLOADER_MIDDLEWARES={without_guard}", "--set", "RETRY_TIMES=0")
    assert summary["errors"] == {"dns": 1} and sandbox_portal.requests == []


@pytest.mark.slow
def test_probe_lists_what_a_crawl_would_collect_and_changes_nothing(sandbox_portal, tmp_path: Path) -> None:
    write_sources(tmp_path / "sources", ["hongze", "huaian"])
    context = StageContext(data_dir=tmp_path / "data", warehouse_url="sqlite://", raw_store=str(tmp_path / "data" / "raw"),
                           sources_dir=tmp_path / "sources", sandbox_url=sandbox_portal.url)
    summary = launch_crawler(context, [], command="probe", fast=True, timeout=120).summary
    assert summary["mode"] == "probe"
    years = sorted((c["source_id"], c["year"]) for c in summary["candidates"])
    # reports, and hostile files titled as reports (only their bytes tell), never look-alikes or news
    reports = [i for s in ("hongze", "huaian") for i in sandbox_portal.items(s) if i.document.kind in ("report", "broken")]
    assert len(years) == len(reports)
    assert not (tmp_path / "data" / "warehouse.db").exists() and not (tmp_path / "data" / "raw").exists()
    article_paths = {i.article_url for i in reports} | {i.attachment_url for i in reports}
    assert not any(r.path in article_paths for r in sandbox_portal.requests)
    env = {**os.environ, "NIANBAO_SOURCES_DIR": str(tmp_path / "sources"), "NIANBAO_DATA_DIR": str(tmp_path / "data")}
    shown = subprocess.run([sys.executable, "-m", "nianbao", "sources", "probe", "sandbox-huaian", "--fast",
                            "--sandbox-url", sandbox_portal.url], capture_output=True, text=True, cwd=ROOT, env=env,
                           timeout=120)
    lines = [line for line in shown.stdout.splitlines() if line.startswith("sandbox-huaian ")]
    assert shown.returncode == 0 and len(lines) == sum(1 for i in reports if "/huaian/" in i.article_url)
    assert all(" new " in line for line in lines)


@pytest.mark.slow
def test_a_killed_crawl_resumes_without_losing_or_duplicating(sandbox_portal, tmp_path: Path) -> None:
    write_sources(tmp_path / "sources")
    database = tmp_path / "data" / "warehouse.db"
    slow = crawl_command(sandbox_portal.url, tmp_path, "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                         "--set", "DOWNLOAD_DELAY=0.1")
    process = subprocess.Popen(slow, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None and _documents_in(database) < 8:
            time.sleep(0.05)
        assert process.poll() is None, f"the crawl ended before it could be killed: {process.returncode}"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    killed_at = _documents_in(database)
    assert killed_at >= 8
    summary = crawl(sandbox_portal.url, tmp_path)
    assert summary["finish_reason"] == "finished"
    versions = index_of(tmp_path).versions()
    urls = [v.url for v in versions]
    assert len(urls) == len(set(urls))                                  # nothing twice
    assert report_urls(sandbox_portal, ALL_SITES).keys() <= set(urls)   # nothing lost
    store = RawStore(str(tmp_path / "data" / "raw"))
    assert all(store.exists(sha256) for v in versions for sha256 in v.raw_keys)


def _documents_in(database: Path) -> int:
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT count(*) FROM crawl_index_documents").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_a_column_that_moved_is_flagged_as_broken_through_the_cli(sandbox_portal_factory, tmp_path: Path) -> None:
    portal = sandbox_portal_factory(sites=["chanhe-industry"])
    write_sources(tmp_path / "sources", ["chanhe-industry"])
    env = {**os.environ, "NIANBAO_SOURCES_DIR": str(tmp_path / "sources"), "NIANBAO_DATA_DIR": str(tmp_path / "data"),
           "NIANBAO_RAW_STORE": str(tmp_path / "data" / "raw")}
    command = [sys.executable, "-m", "nianbao", "crawl", "--fast", "--sandbox-url", portal.url]
    first = subprocess.run([*command, "--json"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert first.returncode == 0, first.stderr[-2000:]
    assert json.loads(first.stdout)["sources"]["sandbox-chanhe-industry"]["reports_listed"] > 0
    portal.move_column("chanhe-industry", "/zfxxgk/nb/1.html")     # the old list page now answers 404
    second = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "broken?" in second.stdout and "zero_reports" in second.stdout and "list_page_error" in second.stdout
    assert "http_404" in second.stdout


@pytest.mark.slow
def test_files_over_the_size_cap_are_refused_with_their_cause(sandbox_portal_factory, tmp_path: Path) -> None:
    portal = sandbox_portal_factory(sites=["hongze"])
    write_sources(tmp_path / "sources", ["hongze"])
    summary = crawl(portal.url, tmp_path, "--set", "DOWNLOAD_MAXSIZE=100000")
    sizes = {portal.url + i.attachment_url: len(i.body()) for i in portal.items("hongze")
             if i.attachment_url and i.document.kind == "report"}
    failures = {f.url: f.kind for f in index_of(tmp_path).failures(summary["run_id"])}
    kept = {v.url for v in index_of(tmp_path).versions()}
    assert any(size > 100000 for size in sizes.values()) and any(size <= 100000 for size in sizes.values())
    for url, size in sizes.items():
        assert (failures.get(url) == "too_large") if size > 100000 else (url in kept), (url, size)


@pytest.mark.slow
def test_robots_txt_is_obeyed(sandbox_portal, tmp_path: Path) -> None:
    entry = next(e for e in SANDBOX_SOURCES if e["id"] == "sandbox-hongze")
    forbidden = dict(entry, list_urls=["{sandbox}/hongze/search/?q=%E5%B9%B4%E5%BA%A6%E6%8A%A5%E5%91%8A"])
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "s.yaml").write_text(yaml.safe_dump([forbidden], allow_unicode=True), encoding="utf-8")
    summary = crawl(sandbox_portal.url, tmp_path)
    assert summary["errors"] == {"robots": 1}
    assert [r.path for r in sandbox_portal.requests] == ["/robots.txt"]


@pytest.mark.slow
def test_a_list_page_the_adapter_cannot_read_is_flagged(sandbox_portal, tmp_path: Path) -> None:
    write_sources(tmp_path / "sources", ["hongze"], family="gkmlpt")    # a TRS page read as gkmlpt
    summary = crawl(sandbox_portal.url, tmp_path)
    flags = summary["flags"]["sandbox-hongze"]
    assert "unparsable_page" in flags and "no_reports_found" in flags
    assert summary["errors"] == {"unparsable": 1}


@pytest.mark.slow
def test_a_picture_report_keeps_its_page_and_its_images(sandbox_portal_factory, tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
    title = "淮安市洪泽区人民政府2024年政府信息公开工作年度报告（图片版）"
    portal = sandbox_portal_factory(sites=["hongze"], fillers=0, documents=[
        Document(title=title, content=b"<html></html>", site="hongze", name="picture-report", form="html",
                 media_type="text/html", published="2025-03-20"),
        Document(title="封面", content=png, site="hongze", name="picture-page", form="image",
                 media_type="image/png", published="2025-03-19")])
    report, image = (next(i for i in portal.items("hongze") if i.document.name == name)
                     for name in ("picture-report", "picture-page"))
    page = (f'<html><head><meta charset="utf-8"><title>{title}</title></head><body><h1>{title}</h1>'
            f'<p><img src="{image.attachment_url}" alt="第1页"></p></body></html>')
    portal.replace(report.article_url, page.encode("utf-8"))
    write_sources(tmp_path / "sources", ["hongze"])
    summary = crawl(portal.url, tmp_path)
    kept = {v.url.removeprefix(portal.url): v for v in index_of(tmp_path).versions()}
    assert set(kept) == {report.article_url, image.attachment_url}, summary["errors"]
    assert kept[image.attachment_url].real_kind == "image" and kept[image.attachment_url].referer.endswith(
        report.article_url)
    assert kept[report.article_url].real_kind == "html"
