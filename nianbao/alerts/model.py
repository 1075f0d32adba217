"""The plain data the alert rules work on, and the alerts they produce.

Rules never touch a database: the stage that runs them (`nianbao.stages.check`)
reads these facts from the warehouse and the crawl runs, and stores the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

AlertKind = Literal["missing", "late", "early", "malformed", "image_only", "site_broken", "duplicate"]
ALERT_KINDS: tuple[str, ...] = ("missing", "late", "early", "malformed", "image_only", "site_broken", "duplicate")
AlertSeverity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Alert:
    """One cause worth telling someone about. `key` identifies the cause: while the cause
    lasts, every check produces the same key, so there is one open alert per cause."""

    kind: AlertKind
    key: str
    severity: AlertSeverity
    message: str
    message_en: str
    agency: str | None = None
    year: int | None = None
    source_id: str | None = None
    sha256: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    agency_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "key": self.key, "severity": self.severity,
            "message": self.message, "message_en": self.message_en,
            "agency": self.agency, "year": self.year, "source_id": self.source_id,
            "sha256": self.sha256, "details": dict(self.details), "agency_id": self.agency_id,
        }


@dataclass(frozen=True)
class AgencyExpectation:
    """An agency that must publish a report every year from `since` on.

    Its deadline (`report.agencies.deadline`) follows its kind and level: 31 March for a
    government of a province, prefecture or county, 31 January for every other body.
    """

    agency: str
    kind: str
    source_id: str | None = None
    since: int | None = None
    level: str = "department"

    agency_id: int | None = None

    @property
    def agency_key(self) -> str:
        """What names the agency in a cause key: its warehouse id (two agencies may share a name)."""
        return agency_key(self.agency_id, self.agency)


@dataclass(frozen=True)
class ReportFacts:
    """What the warehouse knows about one document version that carries a report."""

    agency: str
    year: int
    sha256: str
    kind: str = "department"
    level: str = "department"
    source_id: str | None = None
    url: str | None = None
    published: date | None = None
    hard_findings: tuple[str, ...] = ()
    image_only: bool = False
    text: str = ""
    figures: Mapping[str, float | int | None] = field(default_factory=dict)
    agency_id: int | None = None

    @property
    def agency_key(self) -> str:
        return agency_key(self.agency_id, self.agency)


def agency_key(agency_id: int | None, name: str) -> str:
    """The agency's id in a cause key; its name only where no warehouse id exists (plain facts)."""
    return str(agency_id) if agency_id is not None else name


@dataclass(frozen=True)
class SiteFacts:
    """One source's latest crawl, with what the crawls before it listed."""

    source_id: str
    reports_found: int
    previous_reports_found: int | None = None   # the last crawl before this one
    requests: int = 0
    errors: int = 0
    parse_failures: int = 0
    challenge_pages: int = 0
    failed: bool = False
    flags: tuple[str, ...] = ()   # the crawler's own: zero_reports, no_reports_found, list_page_error, …
    failures: Mapping[str, int] = field(default_factory=dict)   # the crawl's failures by kind
    list_failures: Mapping[str, int] = field(default_factory=dict)   # …of its list pages
    earlier_reports_found: int | None = None    # the most any earlier crawl listed
