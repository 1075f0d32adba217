"""Crawl benchmark against the sandbox portal, politeness off.

1. The nianbao crawler crawls every sandbox site (its own process, as in production):
   responses per second and CPU ms per response.
2. A bare Scrapy spider fetches the same GET URLs in the same run (its own process, same
   concurrency, a callback that does nothing): the baseline CPU ms per response.
   Target: nianbao ≤ 1.5× the bare spider's CPU per response.
3. A second, unchanged crawl that re-validates everything (recheck interval 0): target
   0 document bytes transferred — only list pages and 304s.
CPU is the child process's user+system time (resource.getrusage), start-up included for both;
a second ratio leaves out each process's start-up (measured by a run of each that fetches one page).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

BARE_SPIDER = '''
import scrapy


class Bare(scrapy.Spider):
    name = "bare"
    custom_settings = {"ROBOTSTXT_OBEY": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "DOWNLOAD_DELAY": 0,
                       "AUTOTHROTTLE_ENABLED": False, "TELNETCONSOLE_ENABLED": False,
                       "REMOTE_CONTROL_ENABLED": False, "LOG_LEVEL": "WARNING", "RETRY_ENABLED": False}

    async def start(self):
        for url in open(self.urls_file, encoding="utf-8").read().split():
            yield scrapy.Request(url, dont_filter=True)

    def parse(self, response):
        return None
'''


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str]) -> tuple[subprocess.CompletedProcess, float, float]:
    cpu, wall = _child_cpu(), time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    return result, time.perf_counter() - wall, _child_cpu() - cpu


def _crawl(portal_url: str, work: Path, *extra: str) -> tuple[dict, float, float]:
    command = [sys.executable, "-m", "crawler", "crawl", "--fast", "--sandbox-url", portal_url,
               "--data-dir", str(work / "data"), "--sources-dir", str(work / "sources"), *extra]
    result, wall, cpu = _timed(command)
    if not result.stdout:
        raise RuntimeError(f"crawl failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout), wall, cpu


def run() -> list[dict]:
    from sandbox.portal import PortalConfig, PortalServer

    with tempfile.TemporaryDirectory() as scratch, PortalServer(PortalConfig()) as portal:
        work = Path(scratch)
        (work / "sources").mkdir()
        sandbox = yaml.safe_load((ROOT / "sources" / "sandbox.yaml").read_text(encoding="utf-8"))
        (work / "sources" / "sandbox.yaml").write_text(yaml.safe_dump(sandbox, allow_unicode=True), encoding="utf-8")

        first, wall, cpu = _crawl(portal.url, work)
        gets = [portal.url + r.path for r in portal.requests if r.method == "GET"]
        (work / "urls.txt").write_text("\n".join(gets), encoding="utf-8")
        (work / "bare.py").write_text(BARE_SPIDER, encoding="utf-8")
        bare_result, bare_wall, bare_cpu = _timed([sys.executable, "-m", "scrapy", "runspider", str(work / "bare.py"),
                                                   "-a", f"urls_file={work / 'urls.txt'}"])
        if bare_result.returncode != 0:
            raise RuntimeError(f"bare spider failed: {bare_result.stderr[-2000:]}")

        # start-up plus one page (imports done, nothing to collect), to tell the per-response cost from
        # the fixed one: the sandbox home page of one site, for both
        idle_entry = dict(sandbox[0], id="idle", family="generic", list_urls=["{sandbox}/hongze/"])
        (work / "idle-sources").mkdir()
        (work / "idle-sources" / "idle.yaml").write_text(yaml.safe_dump([idle_entry], allow_unicode=True),
                                                         encoding="utf-8")
        _, _, idle_cpu = _timed([sys.executable, "-m", "crawler", "crawl", "--fast", "--sandbox-url", portal.url,
                                 "--data-dir", str(work / "idle"), "--sources-dir", str(work / "idle-sources")])
        (work / "one.txt").write_text(f"{portal.url}/hongze/", encoding="utf-8")
        _, _, bare_idle_cpu = _timed([sys.executable, "-m", "scrapy", "runspider", str(work / "bare.py"),
                                      "-a", f"urls_file={work / 'one.txt'}"])

        portal.clear_requests()
        second, _, _ = _crawl(portal.url, work, "--recheck-interval", "0")
        documents = {path for item in (i for s in portal.sites for i in portal.items(s))
                     for path in ([item.attachment_url or item.article_url] + sorted(item.page_urls))}
        refetched = [r for r in portal.requests if r.path in documents and r.status not in (304, 0)]

    responses = first["responses"]
    ours = 1000 * cpu / max(responses, 1)
    bare = 1000 * bare_cpu / max(len(gets), 1)
    ours_marginal = 1000 * max(cpu - idle_cpu, 0.0) / max(responses, 1)
    bare_marginal = 1000 * max(bare_cpu - bare_idle_cpu, 0.0) / max(len(gets), 1)
    return [
        {"name": "responses per second", "value": responses / wall, "unit": "1/s",
         "note": f"{responses} responses in {wall:.1f} s, {first['documents']['new']} documents"},
        {"name": "CPU per response", "value": ours, "unit": "ms", "note": "nianbao crawler, start-up included"},
        {"name": "bare Scrapy CPU per response", "value": bare, "unit": "ms",
         "note": f"{len(gets)} GETs of the same URLs in {bare_wall:.1f} s"},
        {"name": "CPU ratio to bare Scrapy", "value": ours / bare if bare else float("nan"), "unit": "×",
         "target": "≤ 1.5"},
        {"name": "CPU ratio without start-up", "value": ours_marginal / bare_marginal if bare_marginal else float("nan"),
         "unit": "×", "note": f"start-up: nianbao {idle_cpu:.2f} s, bare Scrapy {bare_idle_cpu:.2f} s of CPU; "
                              f"per response {ours_marginal:.1f} ms vs {bare_marginal:.1f} ms"},
        {"name": "second crawl document bytes", "value": second["document_bytes"], "unit": "bytes", "target": "0",
         "note": f"{second['documents']['not_modified']} answered 304, {len(refetched)} documents re-sent"},
        {"name": "second crawl responses", "value": second["responses"], "unit": "",
         "note": f"{second['pages']['list']} list pages; response bytes {second['response_bytes']}"},
    ]


if __name__ == "__main__":
    for figure in run():
        print(figure)
