"""List pages loaded in a real browser, for sources with `render: true`: headless Chromium driven
by scrapy-playwright, for lists that only a running script builds (rows computed by obfuscated or
eval'd code, an answer decoded in JS, rows bound to click handlers).

The spider reads what the page holds once its scripts are done — the rendered DOM, and every
JSON or JS answer the page fetched — through the same `crawler.discovery` readers as a page
fetched plainly. The browser fetches only from the source's own hosts and skips images, fonts
and media. Without a browser on the machine a rendered source is a recorded failure
(`needs_browser`), never a silent miss.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request

from crawler.discovery.lists import discover_text
from crawler.discovery.model import Follow
from crawler.families.base import Listing

logger = logging.getLogger(__name__)

BROWSER_FLAGS = ("--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run")
HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
RECORDER_META = "nianbao_render"
NEEDS_BROWSER = "needs_browser"
_SKIPPED_RESOURCES = frozenset({"image", "media", "font"})
_ANSWER_RESOURCES = frozenset({"xhr", "fetch"})
_SETTLE_MS = 15_000        # the longest wait for the page's requests to end (then the DOM is read as it is)
_MAX_ANSWER_BYTES = 8 * 1024 * 1024


def missing_browser(executable: str) -> str | None:
    """Why a rendered source cannot be loaded on this machine, or None when it can."""
    path = Path(executable)
    if not (path.is_file() and os.access(path, os.X_OK)):
        return (f"needs a browser: no Chromium at {executable} (install Debian's chromium, "
                "or set NIANBAO_BROWSER to its path)")
    if importlib.util.find_spec("scrapy_playwright") is None:
        return "needs a browser: scrapy-playwright is not installed"
    return None


def browser_settings(executable: str) -> dict[str, object]:
    """The Scrapy settings that load rendered requests in Chromium (other requests are fetched as before)."""
    return {
        "DOWNLOAD_HANDLERS": {"http": HANDLER, "https": HANDLER},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": executable, "headless": True, "args": list(BROWSER_FLAGS)},
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 4,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": 30_000,
    }


def handler_installed(settings: Any) -> bool:
    handlers = settings.getdict("DOWNLOAD_HANDLERS")
    return handlers.get("http") == HANDLER and handlers.get("https") == HANDLER


@dataclass(frozen=True)
class Answer:
    """One response the page fetched while it ran (an XHR or fetch call)."""

    url: str
    content_type: str
    text: str


@dataclass
class PageRecorder:
    """One rendered request: confines the browser to the source's hosts and keeps what it fetched."""

    hosts: frozenset[str]
    answers: list[Answer] = field(default_factory=list)
    _seen: list[Any] = field(default_factory=list)
    _opened: bool = False

    def allows(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        return any(host == allowed or host.endswith("." + allowed) for allowed in self.hosts)

    async def open(self, page: Any, request: Request) -> None:
        """Before navigation (scrapy-playwright's page init callback)."""
        await page.route("**", self._guard)
        page.on("response", self._keep)
        self._opened = True

    def _keep(self, response: Any) -> None:
        self._seen.append(response)

    async def _guard(self, route: Any, request: Any) -> None:
        if request.resource_type in _SKIPPED_RESOURCES or not self.allows(request.url):
            await route.abort()
        else:
            await route.fallback()   # to scrapy-playwright's own route

    async def settle(self, page: Any) -> None:
        """After the load: wait for the page's requests to end, then read the answers they got."""
        if not self._opened:   # scrapy-playwright only logs a failed init callback: the page ran unguarded
            raise RuntimeError(f"the browser page for {page.url} was not set up (see the log)")
        try:
            await page.wait_for_load_state("networkidle", timeout=_SETTLE_MS)
        except Exception as exc:   # a page that keeps polling: read what is there
            logger.info("rendered page %s still busy after %d ms: %s", page.url, _SETTLE_MS, exc)
        for response in self._seen:
            answer = await _answer(response)
            if answer is not None:
                self.answers.append(answer)
        self._seen.clear()


async def _answer(response: Any) -> Answer | None:
    if response.request.resource_type not in _ANSWER_RESOURCES or not 200 <= response.status < 300:
        return None
    try:
        body = await response.body()
    except Exception:   # a body the browser no longer holds (redirect, aborted): nothing to read
        return None
    if len(body) > _MAX_ANSWER_BYTES:
        return None
    content_type = response.headers.get("content-type", "")
    return Answer(response.url, content_type, body.decode("utf-8", "replace"))


def rendered(request: Request, hosts: set[str]) -> Request:
    """`request` to be loaded in the browser, with a recorder of what the page fetches."""
    from scrapy_playwright.page import PageMethod

    recorder = PageRecorder(frozenset(hosts))
    return request.replace(meta={**request.meta, "playwright": True, RECORDER_META: recorder,
                                 "playwright_page_init_callback": recorder.open,
                                 "playwright_page_methods": [PageMethod(recorder.settle)]})


def recorder_of(meta: dict[str, Any]) -> PageRecorder | None:
    recorder = meta.get(RECORDER_META)
    return recorder if isinstance(recorder, PageRecorder) else None


def answer_listings(recorder: PageRecorder, page_url: str) -> list[Listing]:
    """The records in the JSON/JS answers a rendered page fetched (relative URLs against the page's, as
    the page's script would resolve them)."""
    listings = []
    for answer in recorder.answers:
        for record in discover_text(answer.text, answer.url, Follow(answer.url, "data", base=page_url)).records:
            listings.append(Listing(record.url, record.title, record.date))
    return listings
