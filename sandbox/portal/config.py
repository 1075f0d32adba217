"""How a portal is set up: which sites, which documents, which faults."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sandbox.agencies import AGENCIES, PUBLICATIONS, Agency
from sandbox.corpus import CorpusEntry
from sandbox.portal.documents import Document
from sandbox.portal.families import FAMILY_CLASSES
from sandbox.portal.faults import Fault

# Per-site details the agency table does not carry.
GKMLPT_COLUMNS = {"lg-health": 3123, "guangdong": 2847}
GENERIC_STYLES = {"changchun-health": "viewer", "mingshan-health": "downfile"}
TRS_STYLES = {"jlp-erlang": "variables"}
# generic sites whose pager is onclick="goPage(N)" (no URL in the link): the crawler reads it with a
# site adapter of its own (crawler/sites/), named in the site's registry entry
GO_PAGE_SITES = {"mingshan-health": "crawler.sites.mingshan_health:Adapter"}


@dataclass
class SiteSpec:
    """One site: its slug (the path prefix), CMS family and report column."""

    slug: str
    name: str
    family: str
    list_path: str
    page_size: int = 5
    column_id: int | None = None       # gkmlpt: the column id in /gkmlpt/api/all/<id>
    style: str | None = None           # generic: viewer (pdf.js iframe) | downfile (downfile.jsp?fileid=);
    #                                    trs: literal | variables (createPageHTML(countPage, currentPage, …))
    legacy_charset: str = "gb2312"     # charset declared for GBK pages ("" = none, the page's meta decides)
    go_page: bool = False              # generic: a goPage(N) pager instead of links
    region_code: str = ""
    level: str = ""
    kind: str = ""

    def __post_init__(self) -> None:
        if self.family not in FAMILY_CLASSES:
            raise ValueError(f"site {self.slug!r}: unknown family {self.family!r}; use one of {tuple(FAMILY_CLASSES)}")
        if not self.list_path.startswith("/"):
            raise ValueError(f"site {self.slug!r}: list_path must start with '/': {self.list_path!r}")
        if "/" in self.slug or not self.slug:
            raise ValueError(f"bad site slug {self.slug!r}")
        if self.family == "gkmlpt" and self.column_id is None:
            self.column_id = GKMLPT_COLUMNS.get(self.slug, 1000 + sum(map(ord, self.slug)))
        if self.family == "generic" and self.style is None:
            self.style = GENERIC_STYLES.get(self.slug, "downfile")
            self.go_page = self.go_page or self.slug in GO_PAGE_SITES
        if self.family == "trs" and self.style is None:
            self.style = TRS_STYLES.get(self.slug, "literal")
        if self.page_size < 1:
            raise ValueError(f"site {self.slug!r}: page_size must be at least 1")

    @classmethod
    def from_agency(cls, agency: Agency, page_size: int = 5) -> SiteSpec:
        return cls(slug=agency.slug, name=agency.name, family=agency.family, list_path=agency.list_path,
                   page_size=page_size, legacy_charset="" if agency.family == "jcms" else "gb2312",
                   region_code=agency.region_code, level=agency.level, kind=agency.kind)


@dataclass
class PortalConfig:
    """Everything a PortalServer needs; every field has a usable default."""

    host: str = "127.0.0.1"
    port: int = 0                                           # 0: a free port
    sites: list[str | SiteSpec] | None = None               # None: every agency of sandbox/agencies.py
    corpus_root: Path | None = None                         # None: sandbox/corpus
    documents: list[CorpusEntry | Document] | None = None   # given: used instead of the corpus
    hold_back: list[str] = field(default_factory=list)      # corpus names to publish later
    fillers: int = 6                                        # news/notices per site
    page_size: int = 5
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_loopback(self.host)
        if self.corpus_root is not None and not Path(self.corpus_root).is_dir():
            raise ValueError(f"corpus directory not found: {self.corpus_root}")

    def site_specs(self) -> list[SiteSpec]:
        by_slug = {a.slug: a for a in AGENCIES}
        specs = []
        for site in self.sites if self.sites is not None else list(by_slug):
            if isinstance(site, SiteSpec):
                specs.append(site)
            elif site in by_slug:
                specs.append(SiteSpec.from_agency(by_slug[site], self.page_size))
            else:
                raise ValueError(f"unknown site {site!r}; known: {', '.join(by_slug)}")
        return specs


def check_loopback(host: str) -> None:
    """The sandbox serves 127.0.0.1 only: refuse any other address."""
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"refusing to bind to {host!r}: the sandbox portal listens on 127.0.0.1 only") from None
    if address.version != 4 or not address.is_loopback:
        raise ValueError(f"refusing to bind to {host!r}: the sandbox portal listens on 127.0.0.1 only")


def load_faults(path: Path) -> list[Fault]:
    """Faults from a YAML or JSON file: a list of faults, or {faults: [...]}."""
    text = path.read_text(encoding="utf-8")
    try:
        data: Any = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {error}") from None
    if isinstance(data, dict):
        data = data.get("faults", [])
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of faults")
    try:
        return [Fault.from_dict(item) for item in data]
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None


def first_year(slug: str) -> int | None:
    years = [p.year for p in PUBLICATIONS if p.slug == slug]
    return min(years) if years else None
