"""Fault injection: what can go wrong with a request, per site or per URL pattern.

A fault matches requests by site slug and/or a glob pattern on the request path
(query included, e.g. ``*/index_1.html`` or ``/hongze/*.pdf``); with ``times`` set
it fires only on the first N matching requests, then the site answers normally.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import threading
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

FAULT_KINDS = (
    "status_500",        # 500 Internal Server Error
    "status_429",        # 429 Too Many Requests with Retry-After: retry_after
    "timeout",           # hold the connection `seconds`, then close it without an answer
    "slow_drip",         # the real response, one byte every `interval` seconds
    "reset",             # headers and half the body, then a TCP reset
    "truncated",         # Content-Length of the whole body, half of it sent, connection closed
    "redirect_loop",     # 302 between two URLs forever
    "redirect_offsite",  # 302 to http://evil.example/…
    "redirect_private",  # 302 to `target`, a private or link-local address (never requested here)
    "challenge",         # a WAF JavaScript challenge page with status 200 instead of the document
)
OFFSITE = "http://evil.example"


@dataclass
class Fault:
    kind: str
    site: str | None = None
    url: str | None = None
    times: int | None = None           # fire on the first N matching requests only; None: always
    retry_after: int = 1               # status_429
    seconds: float = 30.0              # timeout
    interval: float = 0.05             # slow_drip: pause between bytes
    target: str = "http://169.254.169.254/latest/meta-data/"   # redirect_private
    hits: int = field(default=0, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if self.site is None and self.url is None:
            raise ValueError(f"fault {self.kind}: give a site, a url pattern, or both")
        for name in ("times", "retry_after", "seconds", "interval"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
                raise ValueError(f"fault {self.kind}: {name} must be a number >= 0, not {value!r}")
        if self.kind == "redirect_private":
            host = urlsplit(self.target).hostname or ""
            try:
                address = ipaddress.ip_address(host)
            except ValueError:
                raise ValueError(f"redirect_private target must be an IP address: {self.target!r}") from None
            if not (address.is_private or address.is_link_local) or address.is_loopback:
                raise ValueError(f"redirect_private target must be private or link-local: {self.target!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        if not isinstance(data, dict) or "kind" not in data:
            raise ValueError(f"a fault needs at least a kind: {data!r}")
        known = {"kind", "site", "url", "times", "retry_after", "seconds", "interval", "target"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"fault {data.get('kind')}: unknown keys {sorted(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_lock"}

    def matches(self, site: str | None, path: str) -> bool:
        if self.site is not None and self.site != site:
            return False
        if self.url is None:
            return True
        bare = path.split("?", 1)[0]
        return fnmatch.fnmatchcase(path, self.url) or fnmatch.fnmatchcase(bare, self.url)

    def fire(self) -> bool:
        """Count one matching request; False once the first `times` have passed."""
        with self._lock:
            self.hits += 1
            return self.times is None or self.hits <= self.times


class FaultSet:
    """The faults of one portal, thread-safe; the first matching live fault wins."""

    def __init__(self, faults: list[Fault] | None = None) -> None:
        self._faults: list[Fault] = list(faults or [])
        self._lock = threading.Lock()

    def add(self, fault: Fault | dict[str, Any]) -> Fault:
        fault = fault if isinstance(fault, Fault) else Fault.from_dict(fault)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def all(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def pick(self, site: str | None, path: str) -> Fault | None:
        for fault in self.all():
            if fault.matches(site, path) and fault.fire():
                return fault
        return None


CHALLENGE_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>安全验证</title>
<meta http-equiv="Cache-Control" content="no-cache"></head>
<body><noscript>请开启JavaScript并刷新该页。</noscript>
<div id="waf-check">正在进行安全检测，请稍候……</div>
<script>
var _0x4f2a=["\\x63\\x6f\\x6f\\x6b\\x69\\x65","__jsl_clearance_s="];
(function(){var t=Date.now();var v=(t%9973).toString(36);
document[_0x4f2a[0]]=_0x4f2a[1]+v+";max-age=3600;path=/";
setTimeout(function(){location.reload()},1500);})();
</script></body></html>
"""
