"""Sandbox sites of the shapes a generic crawler must reach (issue 11), each site's markup drawn
from a seeded random choice of spellings, with the truth of which reports are there.

    with ShapePortalServer(seed=7) as portal:            # one site per shape (copies=N: N per shape)
        portal.registry_entries()                        # sources for the crawler ({sandbox} placeholder)
        truth = portal.truth()                           # report URL → (agency, year); look-alike URLs

Shapes: trs, wcm, numbered, nextlast, jspager, aspnet (pagers); ajax, jsarray (lists built by
script); iframe (list inside a frame); years (a year index of sub-columns); scriptdocs
(documents reached by script, Content-Disposition names in GBK or %-encoding); and, apart
(`RENDERED_SHAPES`, sources with `render: true`), rendered: lists that only a running script
builds (eval'd code, an answer decoded in JS, rows bound to click handlers).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sandbox.portal.config import PortalConfig, SiteSpec
from sandbox.portal.documents import Document, filler_documents
from sandbox.portal.server import PortalServer
from sandbox.portal.shapes.families import SHAPE_FAMILIES, ShapeFamily
from sandbox.portal.site import Site

RENDERED_SHAPES = ("rendered",)      # lists only a browser can read: their sources have render: true
SHAPES = tuple(shape for shape in SHAPE_FAMILIES if shape not in RENDERED_SHAPES)   # read without a browser
ALL_SHAPES = SHAPES + RENDERED_SHAPES
PLACES = ("青禾县", "松川区", "白沙镇", "临河市", "东坪县", "云溪区", "北塘街道", "南岭县", "石桥镇", "清源市",
          "柳湾区", "金河县")
_REPORT_TITLES = ("{agency}{year}年政府信息公开工作年度报告", "{agency}{year}年度政府信息公开工作报告",
                  "{agency}关于{year}年政府信息公开工作情况的报告", "{agency}政府信息公开工作年度报告（{year}年度）")
_LOOKALIKES = ("{agency}{year}年政府信息公开工作年度报告解读", "图解：{agency}{year}年政府信息公开工作年度报告",
               "关于做好{year}年政府信息公开工作年度报告编制工作的通知")


@dataclass
class Truth:
    """What a crawl of the shape portal must find, and what it must not take."""

    reports: dict[str, tuple[str, int]] = field(default_factory=dict)   # document URL → (agency, year)
    lookalikes: set[str] = field(default_factory=set)                   # URLs that are not reports
    shapes: dict[str, str] = field(default_factory=dict)                # document URL → shape


@dataclass
class ShapeSite:
    slug: str
    shape: str
    agency: str
    region_code: str
    family: ShapeFamily
    years: list[int]


def shape_sites(seed: int, shapes: tuple[str, ...] = SHAPES, copies: int = 1) -> list[ShapeSite]:
    """The sites of a shape portal: `copies` per shape, each with its own spelling and agency."""
    sites = []
    for copy in range(copies):
        for number, shape in enumerate(shapes):
            index = copy * len(shapes) + number
            rng = random.Random(f"{seed}-{shape}-{copy}")
            place = PLACES[index % len(PLACES)] + ("" if index < len(PLACES) else str(index // len(PLACES) + 1))
            years = sorted(rng.sample(range(2019, 2025), rng.randint(3, 6)))
            sites.append(ShapeSite(f"shape-{shape}-{copy + 1}", shape, f"{place}人民政府", f"99{index:04d}",
                                   SHAPE_FAMILIES[shape](rng), years))
    return sites


def site_documents(site: ShapeSite, fillers: int) -> list[Document]:
    rng = random.Random(f"{site.slug}-documents")
    documents = []
    for year in site.years:
        title = rng.choice(_REPORT_TITLES).format(agency=site.agency, year=year)
        published = date(year + 1, rng.randint(1, 3), rng.randint(1, 28)).isoformat()
        body = f"%PDF-1.4\n% {site.slug} {year} {title}\n%%EOF\n".encode()
        documents.append(Document(title=title, content=body, site=site.slug, name=f"{site.slug}-{year}",
                                  form="word-pdf", kind="report", published=published, year=year))
    for number, template in enumerate(_LOOKALIKES):
        year = site.years[number % len(site.years)]
        title = template.format(agency=site.agency, year=year)
        published = date(year + 1, 4, 10 + number).isoformat()
        if number == 1:   # 图解 as a PDF: a file beside the reports that is still not one
            content, media = f"%PDF-1.4\n% {title}\n%%EOF\n".encode(), "application/pdf"
        else:
            content = (f"<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body><h1>{title}</h1>"
                       "<p>解读全文。</p></body></html>").encode()
            media = "text/html"
        documents.append(Document(title=title, content=content, site=site.slug, name=f"{site.slug}-lookalike-{number}",
                                  form="html", kind="not-report", media_type=media, published=published, year=year))
    documents += filler_documents(site.slug, site.agency, fillers)
    return documents


class ShapePortalServer(PortalServer):
    """The sandbox portal serving the shape sites only (127.0.0.1, a free port)."""

    def __init__(self, seed: int = 0, shapes: tuple[str, ...] = SHAPES, copies: int = 1, fillers: int = 4,
                 page_size: int = 3) -> None:
        super().__init__(PortalConfig(sites=[], documents=[], fillers=0))
        self.shape_sites = {site.slug: site for site in shape_sites(seed, shapes, copies)}
        for shape_site in self.shape_sites.values():
            spec = SiteSpec(slug=shape_site.slug, name=shape_site.agency, family="generic",
                            list_path=shape_site.family.list_path, page_size=page_size, style=shape_site.shape,
                            region_code=shape_site.region_code, level="county", kind="government")
            site = Site(spec, shape_site.family)
            for document in site_documents(shape_site, fillers):
                site.add(document)
            self.portal.sites[site.slug] = site

    def __enter__(self) -> ShapePortalServer:
        self.start()
        return self

    def truth(self) -> Truth:
        truth = Truth()
        for slug, shape_site in self.shape_sites.items():
            site = self.portal.sites[slug]
            truth.lookalikes.add(self.url + site.list_url)
            for item in site.items:
                target = self.url + (item.attachment_url or item.article_url)
                if item.document.kind == "report":
                    truth.reports[target] = (shape_site.agency, item.document.year or 0)
                    truth.shapes[target] = shape_site.shape
                else:
                    truth.lookalikes.update(self.url + u for u in (item.article_url, item.attachment_url) if u)
        return truth

    def registry_entries(self) -> list[dict[str, Any]]:
        """Sources for the crawler, one per shape site, family `generic`, `{sandbox}` for the base URL."""
        return [{"id": f"sandbox-{slug}", "agency": site.agency, "region_code": site.region_code,
                 "level": "county", "kind": "government", "family": "generic",
                 "list_urls": [f"{{sandbox}}/{slug}{site.family.list_path}"], "expected": True,
                 "first_year": min(site.years), "allow_private": True, "verified": True, "overrides": {},
                 **({"render": True} if site.shape in RENDERED_SHAPES else {})}
                for slug, site in self.shape_sites.items()]


__all__ = ["ALL_SHAPES", "RENDERED_SHAPES", "SHAPES", "ShapePortalServer", "ShapeSite", "Truth", "shape_sites", "site_documents"]
