"""Safety and politeness plumbing: the private-address guard (a middleware and a resolver), the
redirect guard, a retry that backs off and honours Retry-After, the challenge-page detector, and
the Referer middleware that works out a page's referrer once."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.resolver import CachingThreadedResolver
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.referer import (
    NoReferrerWhenDowngradePolicy,
    RefererMiddleware,
    ReferrerPolicy,
)
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from crawler.sniff import is_challenge, real_kind

logger = logging.getLogger(__name__)


class PrivateAddressRefused(IgnoreRequest):
    """A request to a private, loopback, link-local or otherwise non-public address."""


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    # is_global excludes private, loopback, link-local, shared (100.64/10), reserved and unspecified
    return ip.is_global and not ip.is_multicast


class PrivateAddressGuard:
    """Resolve each host before any request and refuse non-public addresses.

    Hosts of sources marked `allow_private` (the sandbox) are exempt: the spider lists
    them in `private_hosts` as `host:port`. Redirects and robots.txt requests pass
    through here too, so a redirect into a private network is refused as well.

    Every request is checked, but a host's verdict is resolved once and kept for the crawl
    (one lookup per host, not per request). DNS rebinding cannot slip past that cache: the
    address actually connected to comes from a fresh resolution that `GuardedResolver` checks.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._verdicts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressGuard:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        parts = urlparse_cached(request)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        allowed: set[str] = getattr(self.crawler.spider, "private_hosts", set())
        if f"{host}:{port}" in allowed:
            return None
        key = f"{host}:{port}"
        if key not in self._verdicts:
            self._verdicts[key] = await _refusal(host, port)
        reason = self._verdicts[key]
        if reason:
            self.crawler.stats.inc_value("nianbao/private_address_refused")
            raise PrivateAddressRefused(f"refused {request.url}: {reason}")
        return None


async def _refusal(host: str, port: int) -> str | None:
    try:
        addresses = [host] if _is_ip(host) else await _resolve(host, port)
    except OSError as exc:
        return None if isinstance(exc, socket.gaierror) else f"cannot resolve {host}: {exc}"
    for address in addresses:
        if not is_public(address):
            return f"{host} resolves to non-public address {address}"
    return None


async def _resolve(host: str, port: int) -> list[str]:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    else:
        infos = await loop.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, waiting between tries: Retry-After when the server sends it (capped),
    else exponential backoff (RETRY_BACKOFF_BASE × 2^n, capped at RETRY_BACKOFF_MAX)."""

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", 120.0)

    async def process_response(  # type: ignore[override]  # Scrapy awaits coroutine middlewares
            self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        retries = request.meta.get("retry_times", 0)
        if retries >= request.meta.get("max_retry_times", self.max_retry_times):
            return self._retry(request, f"HTTP {response.status}") or response
        delay = self._delay(retries, response.headers.get(b"Retry-After"))
        if delay > 0:
            self.crawler.stats.inc_value("nianbao/retry_wait_ms", int(delay * 1000))
            await asyncio.sleep(delay)
        return self._retry(request, f"HTTP {response.status}") or response

    async def process_exception(  # type: ignore[override]
            self, request: Request, exception: Exception) -> Request | Response | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry"):
            return None
        retries = request.meta.get("retry_times", 0)
        if retries < request.meta.get("max_retry_times", self.max_retry_times):
            delay = self._delay(retries, None)
            if delay > 0:
                await asyncio.sleep(delay)
        return self._retry(request, exception)

    def _delay(self, retries: int, retry_after: bytes | None) -> float:
        if retry_after:
            seconds = retry_after_seconds(retry_after.decode("latin-1"))
            if seconds is not None:
                return min(seconds, self.retry_after_max)
        return min(self.backoff_base * (2 ** retries), self.backoff_max) if self.backoff_base > 0 else 0.0


def retry_after_seconds(value: str) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class OffsiteRedirect(IgnoreRequest):
    """A redirect to a host outside the registry's domains."""


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL already visited in the same chain."""


class RedirectGuard:
    """Check a redirect's target before the redirect middleware follows it.

    Scrapy's offsite filter drops an offsite redirect silently when it is scheduled, and its
    duplicate filter drops a redirect loop silently; refusing them here instead makes the
    failure reach the spider with its cause (offsite, private address, redirect loop).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectGuard:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if response.status not in (301, 302, 303, 307, 308) or not location:
            return response
        target = urljoin(request.url, location.decode("latin-1"))
        if target in {request.url, *request.meta.get("redirect_urls", [])}:
            raise RedirectLoop(f"redirect loop: {request.url} → {target}")
        parts = urlsplit(target)
        host = parts.hostname or ""
        spider = self.crawler.spider
        allowed = getattr(spider, "allowed_domains", None) or []
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if _is_ip(host) and not is_public(host) and f"{host}:{port}" not in getattr(spider, "private_hosts", set()):
            raise PrivateAddressRefused(f"redirect from {request.url} to non-public address {target}")
        if allowed and not any(host == d or host.endswith("." + d) for d in allowed):
            raise OffsiteRedirect(f"redirect from {request.url} to offsite {target}")
        return response


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's resolver, refusing non-public answers when the connection is made.

    The guard middleware resolves a host before the request; the download resolves it
    again, and a hostile DNS server could answer differently the second time (DNS
    rebinding). Host names of `allow_private` sources are exempt (`allowed_private`,
    set by the spider for its one crawl per process).
    """

    allowed_private: ClassVar[set[str]] = set()

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:  # noqa: N802 - Twisted's name
        return super().getHostByName(name, timeout).addCallback(self.checked, name)

    @classmethod
    def checked(cls, address: str, name: str) -> str:
        if name not in cls.allowed_private and _is_ip(address) and not is_public(address):
            raise DNSLookupError(f"{name} resolved to non-public address {address}: refused")
        return address


class ChallengePage(IgnoreRequest):
    """A WAF/anti-bot challenge page answered instead of the list page, article or file asked for."""

    def __init__(self, response: Response) -> None:
        super().__init__("a WAF/anti-bot challenge page, not the page or file asked for")
        self.response = response


class ChallengeDetector:
    """Turn a challenge page into a failure before any callback reads it as content.

    Only the spider's own requests (they carry a `role`: list, target, attachment) and only
    successful HTML or text answers are looked at; the errback gets the response, so the
    spider can keep its bytes in quarantine.
    """

    def process_response(self, request: Request, response: Response) -> Response:
        if ("role" in request.meta and 200 <= response.status < 300
                and real_kind(response.body) in ("html", "text") and is_challenge(response.body)):
            raise ChallengePage(response)
        return response


class PageReferer(RefererMiddleware):
    """Scrapy's Referer spider middleware, the page's referrer policy worked out once per page.

    A list page yields dozens of requests, and Scrapy's middleware resolved the policy (the
    request's meta, the page's Referrer-Policy header) and parsed the page's URL again for each.
    Under a policy of the no-referrer-when-downgrade family (Scrapy's default among them) the
    referrer depends on the request only through its scheme, so it is kept per page and scheme;
    any other policy, or a request naming its own, is asked per request as before.
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self._page: Response | None = None
        self._page_policy: ReferrerPolicy | None = None
        self._referrers: dict[bool, str | None] = {}   # request is https → the referrer sent

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if response is None or "referrer_policy" in request.meta:
            return super().get_processed_request(request, response)
        if response is not self._page:
            self._page, self._page_policy, self._referrers = response, self.policy(response, request), {}
        assert self._page_policy is not None
        if not isinstance(self._page_policy, NoReferrerWhenDowngradePolicy):
            referrer = self._page_policy.referrer(response.url, request.url)
        else:
            secure = request.url.startswith("https:")
            if secure not in self._referrers:
                self._referrers[secure] = self._page_policy.referrer(response.url, request.url)
            referrer = self._referrers[secure]
        if referrer is not None:
            request.headers.setdefault("Referer", referrer)
        return request
