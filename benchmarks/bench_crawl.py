"""Crawl benchmark against the sandbox portal, politeness off.

1. The nianbao crawler crawls every sandbox site (its own process, as in production), on a
   portal with many filler items (FILLERS per site) so that list pages, not process start-up,
   make up most of the work: responses per second and CPU ms per response.
2. A bare Scrapy spider fetches the same GET URLs in the same run (its own process, same
   concurrency, a callback that does nothing): the baseline CPU ms per response.
3. Start-up is measured on its own for both (a run that fetches a single page, the median of
   STARTUP_RUNS) and subtracted: the steady-state CPU per response is
   (crawl CPU − start-up CPU) / (responses − start-up responses).
   The start-up-included ratio is reported too, but start-up (imports) dominates it for both
   and hides the real cost.
4. Both spiders also measure their own CPU (time.process_time) from their first request to the
   end of the crawl: the crawl-loop CPU per response, the same steady-state cost without the
   noise of a subtraction. Target: nianbao's crawl-loop cost ≤ 1.5× the bare spider's, like for
   like — the bare spider with the engine setting nianbao changes (CONCURRENT_ITEMS). The crawl
   and that bare spider run PAIRS times, one after the other, and the figure is the median of the
   pairs' ratios: a pair shares the machine's load of its moment. The ratio to the bare spider
   with Scrapy's defaults is shown too, without a target: their CONCURRENT_ITEMS=100 makes the
   bare spider pay for 100 idle tasks per response, which flatters the ratio.
5. A second, unchanged crawl that re-validates everything (recheck interval 0): target
   0 document bytes transferred — only list pages and 304s.
CPU is the child process's user+system time (resource.getrusage).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from crawler.settings import CONCURRENT_ITEMS

ROOT = Path(__file__).resolve().parents[1]

BARE_SPIDER = '''
import json
import time
from pathlib import Path

import scrapy


class Bare(scrapy.Spider):
    name = "bare"
    custom_settings = {"ROBOTSTXT_OBEY": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "DOWNLOAD_DELAY": 0,
                       "AUTOTHROTTLE_ENABLED": False, "TELNETCONSOLE_ENABLED": False,
                       "REMOTE_CONTROL_ENABLED": False, "LOG_LEVEL": "WARNING", "RETRY_ENABLED": False}

    async def start(self):
        self.cpu_started = time.process_time()   # as the nianbao spider's summary["cpu_seconds"]
        for url in open(self.urls_file, encoding="utf-8").read().split():
            yield scrapy.Request(url, dont_filter=True)

    def parse(self, response):
        return None

    def closed(self, reason):
        figures = {"cpu": time.process_time() - self.cpu_started,
                   "responses": self.crawler.stats.get_value("downloader/response_count", 0)}
        Path(self.cpu_file).write_text(json.dumps(figures), encoding="utf-8")
'''


FILLERS = 300        # news items per sandbox site: ~760 responses, 627 of them list pages
STARTUP_RUNS = 3
PAIRS = 3            # crawl-loop pairs (nianbao, then the like-for-like bare spider)


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str], cwd: Path = ROOT,
           env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, float, float]:
    cpu, wall = _child_cpu(), time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=600)
    return result, time.perf_counter() - wall, _child_cpu() - cpu


def _crawl(portal_url: str, data: Path, sources: Path, *extra: str) -> tuple[dict, float, float]:
    command = [sys.executable, "-m", "crawler", "crawl", "--fast", "--sandbox-url", portal_url,
               "--data-dir", str(data), "--sources-dir", str(sources), *extra]
    result, wall, cpu = _timed(command)
    if not result.stdout:
        raise RuntimeError(f"crawl failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout), wall, cpu


def _bare(spider: Path, urls: Path, *settings: str) -> tuple[float, float, float]:
    """Wall seconds, process CPU seconds, and CPU seconds of the crawl loop alone.

    Run outside the repository: from its root, scrapy.cfg would load the project's settings,
    whose private-address guard refuses every request to the sandbox without fetching it.
    """
    loop_file = urls.with_suffix(".cpu")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPY_")}
    result, wall, cpu = _timed([sys.executable, "-m", "scrapy", "runspider", str(spider),
                                "-a", f"urls_file={urls}", "-a", f"cpu_file={loop_file}",
                                *(part for setting in settings for part in ("-s", setting))], cwd=spider.parent, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"bare spider failed: {result.stderr[-2000:]}")
    loop = json.loads(loop_file.read_text(encoding="utf-8"))
    expected = len(urls.read_text(encoding="utf-8").split())
    if loop["responses"] != expected:
        raise RuntimeError(f"bare spider got {loop['responses']} responses for {expected} URLs")
    return wall, cpu, loop["cpu"]


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _startup(portal_url: str, work: Path, sandbox: list[dict], bare_spider: Path) -> tuple[float, int, float]:
    """Start-up CPU of each process (median of STARTUP_RUNS runs that fetch one page): nianbao's
    seconds and responses (robots.txt and the page), the bare spider's seconds (one response)."""
    idle_entry = dict(sandbox[0], id="idle", family="generic", list_urls=["{sandbox}/hongze/"])
    (work / "idle-sources").mkdir()
    (work / "idle-sources" / "idle.yaml").write_text(yaml.safe_dump([idle_entry], allow_unicode=True),
                                                     encoding="utf-8")
    (work / "one.txt").write_text(f"{portal_url}/hongze/", encoding="utf-8")
    ours, bare, responses = [], [], 0
    for run in range(STARTUP_RUNS):
        summary, _, cpu = _crawl(portal_url, work / f"idle-{run}", work / "idle-sources")
        ours.append(cpu)
        responses = summary["responses"]
        bare.append(_bare(bare_spider, work / "one.txt")[1])
    return _median(ours), responses, _median(bare)


def _loop_pairs(portal_url: str, work: Path, first: dict, bare_spider: Path) -> list[tuple[float, float]]:
    """(nianbao, bare) crawl-loop CPU ms per response of PAIRS pairs run back to back, the first
    crawl's being the first pair's; the bare spider with nianbao's CONCURRENT_ITEMS."""
    urls = work / "urls.txt"
    count = len(urls.read_text(encoding="utf-8").split())
    pairs = []
    for number in range(PAIRS):
        summary = first if number == 0 else _crawl(portal_url, work / f"data-pair-{number}", work / "sources")[0]
        _, _, bare_loop = _bare(bare_spider, urls, f"CONCURRENT_ITEMS={CONCURRENT_ITEMS}")
        pairs.append((1000 * summary["cpu_seconds"] / max(summary["responses"], 1), 1000 * bare_loop / max(count, 1)))
    return pairs


def run() -> list[dict]:
    from sandbox.portal import PortalConfig, PortalServer

    with tempfile.TemporaryDirectory() as scratch, PortalServer(PortalConfig(fillers=FILLERS)) as portal:
        work = Path(scratch)
        (work / "sources").mkdir()
        sandbox = yaml.safe_load((ROOT / "sources" / "sandbox.yaml").read_text(encoding="utf-8"))
        (work / "sources" / "sandbox.yaml").write_text(yaml.safe_dump(sandbox, allow_unicode=True), encoding="utf-8")

        first, wall, cpu = _crawl(portal.url, work / "data", work / "sources")
        gets = [portal.url + r.path for r in portal.requests if r.method == "GET"]
        (work / "urls.txt").write_text("\n".join(gets), encoding="utf-8")
        bare_spider = work / "bare.py"
        bare_spider.write_text(BARE_SPIDER, encoding="utf-8")
        bare_wall, bare_cpu, bare_loop_cpu = _bare(bare_spider, work / "urls.txt")
        pairs = _loop_pairs(portal.url, work, first, bare_spider)
        idle_cpu, idle_responses, bare_idle_cpu = _startup(portal.url, work, sandbox, bare_spider)

        portal.clear_requests()
        second, _, _ = _crawl(portal.url, work / "data", work / "sources", "--recheck-interval", "0")
        documents = {path for item in (i for s in portal.sites for i in portal.items(s))
                     for path in ([item.attachment_url or item.article_url] + sorted(item.page_urls))}
        refetched = [r for r in portal.requests if r.path in documents and r.status not in (304, 0)]

    responses = first["responses"]
    ours = 1000 * cpu / max(responses, 1)
    bare = 1000 * bare_cpu / max(len(gets), 1)
    ours_loop = _median([ours for ours, _ in pairs])
    bare_loop = 1000 * bare_loop_cpu / max(len(gets), 1)
    tuned_loop = _median([tuned for _, tuned in pairs])
    ratios = sorted(ours / tuned for ours, tuned in pairs if tuned)
    ours_steady = 1000 * max(cpu - idle_cpu, 0.0) / max(responses - idle_responses, 1)
    bare_steady = 1000 * max(bare_cpu - bare_idle_cpu, 0.0) / max(len(gets) - 1, 1)
    return [
        {"name": "responses per second", "value": responses / wall, "unit": "1/s",
         "note": f"{responses} responses in {wall:.1f} s ({first['pages']['list']} list pages, "
                 f"{FILLERS} fillers per site), {first['documents']['new']} documents"},
        {"name": "CPU per response, start-up included", "value": ours, "unit": "ms",
         "note": f"nianbao crawler, {cpu:.2f} s of CPU"},
        {"name": "bare Scrapy CPU per response, start-up included", "value": bare, "unit": "ms",
         "note": f"{len(gets)} GETs of the same URLs in {bare_wall:.1f} s, {bare_cpu:.2f} s of CPU"},
        {"name": "CPU ratio to bare Scrapy, start-up included", "value": ours / bare if bare else float("nan"),
         "unit": "×"},
        {"name": "start-up CPU", "value": idle_cpu, "unit": "s",
         "note": f"nianbao, median of {STARTUP_RUNS} runs of {idle_responses} responses; "
                 f"bare Scrapy {bare_idle_cpu:.2f} s"},
        {"name": "steady-state CPU per response", "value": ours_steady, "unit": "ms",
         "note": "nianbao, start-up subtracted"},
        {"name": "bare Scrapy steady-state CPU per response", "value": bare_steady, "unit": "ms",
         "note": "start-up subtracted"},
        {"name": "steady-state CPU ratio to bare Scrapy",
         "value": ours_steady / bare_steady if bare_steady else float("nan"), "unit": "×",
         "note": "by subtraction: noisy, the bare spider's steady-state CPU is a small difference of two large ones"},
        {"name": "crawl-loop CPU per response", "value": ours_loop, "unit": "ms",
         "note": f"nianbao, measured in the process from the first request to the end; median of {PAIRS} crawls"},
        {"name": f"bare Scrapy crawl-loop CPU per response, CONCURRENT_ITEMS={CONCURRENT_ITEMS}", "value": tuned_loop,
         "unit": "ms", "note": f"the bare spider with the engine setting nianbao uses; median of {PAIRS} runs"},
        {"name": "crawl-loop CPU ratio to bare Scrapy", "value": _median(ratios) if ratios else float("nan"),
         "unit": "×", "target": "≤ 1.5",
         "note": f"like for like (same CONCURRENT_ITEMS): what the nianbao code adds to Scrapy; median of {PAIRS} "
                 f"pairs run back to back, " + ", ".join(f"{ratio:.2f}" for ratio in ratios)},
        {"name": "bare Scrapy crawl-loop CPU per response, Scrapy's defaults", "value": bare_loop, "unit": "ms",
         "note": "CONCURRENT_ITEMS=100: 100 worker tasks per response, even for a callback that yields nothing"},
        {"name": "crawl-loop CPU ratio to bare Scrapy with Scrapy's defaults",
         "value": ours_loop / bare_loop if bare_loop else float("nan"), "unit": "×",
         "note": "no target: the defaults' idle tasks inflate the baseline"},
        {"name": "second crawl document bytes", "value": second["document_bytes"], "unit": "bytes", "target": "0",
         "note": f"{second['documents']['not_modified']} answered 304, {len(refetched)} documents re-sent"},
        {"name": "second crawl responses", "value": second["responses"], "unit": "",
         "note": f"{second['pages']['list']} list pages; response bytes {second['response_bytes']}"},
    ]


if __name__ == "__main__":
    for figure in run():
        print(figure)
