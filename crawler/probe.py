"""`sources probe`: what each list page gave, and what to do when it gave nothing.

Per list page: the items read (titled links and records), the report titles among them (the
documents a crawl would fetch), the pagers recognised, the further list requests made, and
whether the page looks like it needs a browser — it has scripts, but nothing discovery can read
and nowhere further to go — with a verdict that says which registry field to change.
"""

from __future__ import annotations

from collections import Counter

from scrapy import Request
from scrapy.http import TextResponse

from crawler.discovery.pagers import pager_kinds
from crawler.families.base import ListPage
from crawler.families.generic import FOLLOW_META, is_html
from crawler.items import ListPageProbe

START_META = "first_list_page"


def probe_list_page(source_id: str, response: TextResponse, page: ListPage, reports: int,
                    rendered: bool) -> ListPageProbe:
    follows = Counter(_kind(request) for request in page.next_pages)
    html = is_html(response)
    scripts = len(response.xpath("//script")) if html else 0
    rows = sum(1 for listing in page.listings if listing.listed)
    needs_browser = not rendered and html and scripts > 0 and reports == 0 and rows == 0 and not follows
    probe = ListPageProbe(source_id, response.url, _via(response), rendered, len(page.listings), rows, reports,
                          pager_kinds(response.selector.root, response.url) if html else [], dict(follows),
                          scripts, needs_browser, "")
    probe.verdict = page_verdict(probe)
    return probe


def page_verdict(probe: ListPageProbe) -> str:
    further = sum(probe.follows.values())
    if probe.reports:
        return f"ok: {probe.reports} report(s)" + (f", {further} further request(s)" if further else "")
    if further:
        return f"ok: no report here, {further} further list request(s) ({_kinds(probe.follows)})"
    if probe.needs_browser:
        return "needs a browser: scripts, but no dated row or report; set render: true"
    if probe.rendered:
        return "broken: nothing even in the rendered page; check list_urls"
    if probe.rows:
        return f"no report: {probe.rows} dated row(s), none titled as a report; check title_pattern"
    return "broken: no rows; check list_urls or set overrides.list_selector"


def source_verdict(pages: list[ListPageProbe], errors: dict[str, int]) -> str:
    """One line for a source from its list pages and its failures."""
    reports = sum(page.reports for page in pages)
    if reports:
        return f"ok: {reports} report(s) on {len(pages)} list page(s)"
    if "needs_browser" in errors:
        return "broken: needs a browser (render: true), and none is installed here"
    if any(page.needs_browser for page in pages):
        return "broken: the list is built by script; set render: true"
    if errors:
        return "broken: " + ", ".join(f"{kind}×{count}" for kind, count in sorted(errors.items()))
    if not pages:
        return "broken: no list page read"
    return "broken: no report on " + ", ".join(sorted({page.verdict for page in pages}))


def _kind(request: Request) -> str:
    return (request.meta.get(FOLLOW_META) or {}).get("kind", "page")


def _via(response: TextResponse) -> str:
    if response.meta.get(START_META):
        return "start"
    return (response.meta.get(FOLLOW_META) or {}).get("kind", "page")


def _kinds(follows: dict[str, int]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in sorted(follows.items()))
