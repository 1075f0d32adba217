"""The spider's collaborators on their own: the raw-store pipeline (storage on its worker thread,
in the order the spider yielded, the items yielded together in one transaction), the challenge middleware and the run summary's schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response

from crawler.middlewares import ChallengeDetector, ChallengePage
from crawler.summary import STORE_CPU_STAT, CrawlSummary, SourceSummary, count_key

ROOT = Path(__file__).resolve().parents[1]

# Run in a child process: a Twisted reactor cannot be restarted, and the test process must not own one.
PIPELINE_RUN = """
import json, sys, threading
from twisted.internet import defer, task
from scrapy.settings import Settings
from crawler.index import DocumentIndex
from crawler.items import ArticlePage, Document, Failed, Listed, Quarantined
from crawler.pipelines import RawStorePipeline
from crawler.spiders.reports import ReportsSpider
from crawler.store import RawStore

data = sys.argv[1]
threads = []
put = RawStore.put
record = DocumentIndex.record

def recorded_put(self, body):
    threads.append(("put", threading.current_thread().name))
    return put(self, body)

def recorded_record(self, **fields):
    threads.append(("record", threading.current_thread().name))
    if fields["url"].endswith("poisoned.pdf"):
        raise RuntimeError("a row the database refuses")
    return record(self, **fields)

groups = []
keep_group = RawStorePipeline._keep_group

def recorded_group(self, items):
    groups.append([item.url for item in items])
    return keep_group(self, items)

RawStore.put, DocumentIndex.record = recorded_put, recorded_record
RawStorePipeline._keep_group = recorded_group

class Stats(dict):
    def inc_value(self, key, count=1):
        self[key] = self.get(key, 0) + count

class Crawler:
    settings = Settings({"NIANBAO_DATA_DIR": data, "NIANBAO_SOURCES_DIR": "sources"})
    stats = Stats()
    spider = ReportsSpider()

async def run():
    pipeline = RawStorePipeline(Crawler)
    await pipeline.open_spider()
    report = Document("s1", "某机关", "http://x.gov.cn/a.pdf", b"%PDF-1.7 report", "pdf", Listed("报告", 2024))
    article = Document("s1", "某机关", "http://x.gov.cn/b.html", b"<html>body</html>", "html", Listed("报告", 2024))
    page = ArticlePage("s1", "http://x.gov.cn/b.html", [{"url": "http://x.gov.cn/c.pdf", "title": "c", "kind": "file"}])
    held = Quarantined("s1", "http://x.gov.cn/c.pdf", "challenge", "a WAF page", body=b"<html>waf</html>")
    done = await defer.gatherResults([defer.Deferred.fromCoroutine(pipeline.process_item(item))
                                      for item in (report, article, page, held, Failed(None, "http://y/", "dns", "no"))])
    first_groups = list(groups)
    # a group whose transaction fails is stored again item by item: the poisoned row fails alone
    later = [Document("s1", "某机关", f"http://x.gov.cn/{name}.pdf", f"%PDF-1.7 {name}".encode(), "pdf",
                      Listed("报告", 2024)) for name in ("d1", "d2", "poisoned", "d3")]
    outcomes = await defer.DeferredList([defer.Deferred.fromCoroutine(pipeline.process_item(item)) for item in later],
                                        consumeErrors=True)
    await pipeline.close_spider()
    index = DocumentIndex(f"{data}/warehouse.db")
    print(json.dumps({"threads": threads, "main": threading.current_thread().name, "stats": Crawler.stats,
                      "groups": first_groups, "later_groups": groups[len(first_groups):],
                      "later": [type(o).__name__ if ok else o.getErrorMessage() for ok, o in outcomes],
                      "returned": [type(item).__name__ for item in done], "held_sha256": held.sha256,
                      "documents": [v.url for v in index.versions()], "page": index.page("http://x.gov.cn/b.html"),
                      "failures": [(f.url, f.kind, f.sha256) for f in index.failures()]}))

task.react(lambda reactor: defer.Deferred.fromCoroutine(run()))
"""


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory) -> dict:
    data = tmp_path_factory.mktemp("pipeline")
    finished = subprocess.run([sys.executable, "-c", PIPELINE_RUN, str(data)], capture_output=True, text=True,
                              cwd=ROOT, timeout=120)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return json.loads(finished.stdout.splitlines()[-1])


def test_storage_runs_on_the_pipeline_thread_not_the_reactor_thread(pipeline_run: dict) -> None:
    assert pipeline_run["threads"] and {name for _, name in pipeline_run["threads"]} == {
        "PoolThread-nianbao-raw-store-0"}                # one thread, Twisted's pool of one
    assert pipeline_run["main"] == "MainThread"


def test_every_item_is_kept_and_passed_on(pipeline_run: dict) -> None:
    assert pipeline_run["returned"] == ["Document", "Document", "ArticlePage", "Quarantined", "Failed"]
    assert pipeline_run["documents"][:2] == ["http://x.gov.cn/a.pdf", "http://x.gov.cn/b.html"]
    assert pipeline_run["page"]["children"][0]["url"] == "http://x.gov.cn/c.pdf"
    assert pipeline_run["held_sha256"] and pipeline_run["failures"] == [
        ["http://x.gov.cn/c.pdf", "challenge", pipeline_run["held_sha256"]], ["http://y/", "dns", None]]
    stats = pipeline_run["stats"]
    later = len(b"%PDF-1.7 d1") * 3                     # and the later group's three stored documents
    assert stats[count_key("s1", "new")] == 2 + 3 and stats[count_key("s1", "documents")] == 2 + 3
    assert stats[count_key("s1", "document_bytes")] == len(b"%PDF-1.7 report") + len(b"<html>body</html>") + later


def test_the_storage_threads_cpu_is_counted(pipeline_run: dict) -> None:
    assert pipeline_run["stats"][STORE_CPU_STAT] > 0


def test_items_are_stored_in_the_order_yielded(pipeline_run: dict) -> None:
    # bytes first, then the row, document after document
    assert [step for step, _ in pipeline_run["threads"][:5]] == ["put", "record", "put", "record", "put"]


def test_items_yielded_within_the_group_window_are_stored_as_one_group(pipeline_run: dict) -> None:
    # the first item waits GROUP_WINDOW for more: the four yielded with it share its transaction
    assert pipeline_run["groups"] == [["http://x.gov.cn/a.pdf", "http://x.gov.cn/b.html", "http://x.gov.cn/b.html",
                                       "http://x.gov.cn/c.pdf", "http://y/"]]


def test_a_group_whose_transaction_fails_is_stored_item_by_item(pipeline_run: dict) -> None:
    assert [len(group) for group in pipeline_run["later_groups"]] == [4]
    assert pipeline_run["later"] == ["Document", "Document", "a row the database refuses", "Document"]
    assert [url.rsplit("/", 1)[1] for url in pipeline_run["documents"]] == ["a.pdf", "b.html", "d1.pdf", "d2.pdf",
                                                                           "d3.pdf"]


CHALLENGE = "<html><title>安全验证</title><script>document.cookie='__jsl_clearance_s=1'</script></html>".encode()


def answer(body: bytes, status: int = 200, role: str | None = "target") -> tuple[Request, Response]:
    request = Request("http://x.gov.cn/a.html", meta={"role": role} if role else {})
    return request, HtmlResponse(request.url, status=status, body=body, request=request,
                                 headers={"Content-Type": "text/html"})


def test_a_challenge_page_becomes_a_failure_with_its_response() -> None:
    request, response = answer(CHALLENGE)
    with pytest.raises(ChallengePage) as raised:
        ChallengeDetector().process_response(request, response)
    assert raised.value.response is response


@pytest.mark.parametrize(("body", "status", "role"), [
    (b"<html><body>2023\xe5\xb9\xb4\xe5\xb9\xb4\xe5\xba\xa6\xe6\x8a\xa5\xe5\x91\x8a</body></html>", 200, "target"),
    (CHALLENGE, 503, "target"),       # an error status stays an HTTP error (retried, then http_503)
    (CHALLENGE, 200, None),           # robots.txt and other requests of Scrapy's own are not looked at
    (b"%PDF-1.7 waf captcha", 200, "attachment"),
])
def test_other_answers_pass(body: bytes, status: int, role: str | None) -> None:
    request, response = answer(body, status, role)
    assert ChallengeDetector().process_response(request, response) is response


def test_the_summary_schema_reads_what_older_runs_wrote() -> None:
    # the warehouse keeps each source's figures as they were written: counts absent when zero
    assert SourceSummary.model_validate({"run_id": "r", "reports_listed": 3, "errors": {"timeout": 1},
                                         "flags": ["challenge"]}).list_pages == 0
    summary = CrawlSummary.model_validate({"run_id": "r", "mode": "incremental", "finish_reason": "finished",
                                           "documents": {"new": 2, "changed": 1}})
    assert summary.new_documents == 3 and summary.sources == {} and summary.candidates == []
    with pytest.raises(ValueError, match="flags"):
        SourceSummary.model_validate({"flags": ["not_a_flag"]})
    with pytest.raises(KeyError):
        count_key("s1", "documnets")
