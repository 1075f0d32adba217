"""A failed request's cause, named: the kinds the crawl index's failures and the summaries count.

`SOURCE_BROKEN` names the kinds that say the source itself cannot be read (not one URL of it):
wherever one happens, the site-health alert gives its cause in these words.
"""

from __future__ import annotations

from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.middlewares import ChallengePage, OffsiteRedirect, PrivateAddressRefused, RedirectLoop

# kind → (Chinese, English) cause, as the site-health alert prints it
SOURCE_BROKEN: dict[str, tuple[str, str]] = {
    "needs_browser": ("列表需要浏览器渲染，本机没有可用的浏览器", "needs a browser"),
    "pager_unfollowed": ("列表页显示分页，但无法翻到其他页", "a visible pager could not be followed"),
    "unparsable": ("列表页无法解析", "a list page could not be parsed"),
    "challenge": ("遇到反爬验证页面", "challenge pages"),
}


def classify_failure(failure: Failure) -> tuple[str, str]:
    """(kind, detail) of an errback's failure: http_<status>, challenge, timeout, dns, offsite, …"""
    error = failure.value
    if isinstance(error, HttpError):
        return f"http_{error.response.status}", str(error)
    if failure.check(ChallengePage):
        return "challenge", str(error)
    if failure.check(PrivateAddressRefused):
        return "private_address", str(error)
    if failure.check(OffsiteRedirect):
        return "offsite", str(error)
    if failure.check(RedirectLoop):
        return "redirect_loop", str(error)
    name = type(error).__name__
    text = str(error)
    if type(error).__module__.startswith("playwright"):   # a rendered request (crawler.render)
        if "launch" in text.lower():
            return "needs_browser", f"needs a browser: the browser did not start: {text}"
        return "render_failed", text
    if "max redirections" in text.lower():
        return "redirect_loop", text
    if "DataLoss" in name or "dataloss" in text.lower():
        return "truncated", text
    if "robots.txt" in text:
        return "robots", text
    if "offsite" in text.lower():
        return "offsite", text
    if "maxsize" in text.lower() or "larger than download max size" in text.lower() or (
            name == "CancelledError" and "size" in text):
        return "too_large", text
    if "Timeout" in name or "timed out" in text.lower():
        return "timeout", text
    if "DNS" in name or "Resolve" in name:
        return "dns", text   # also a second lookup the resolver refused as non-public (GuardedResolver)
    if "Connection" in name or "ResponseNeverReceived" in name or "ResponseFailed" in name:
        return "connection", f"{name}: {text}"
    return name.lower(), text
