"""The sandbox's agencies, the CMS family that renders each portal, and what each publishes.

This table is the single plan behind the corpus (which documents exist and with
which figures) and the portal (which site shows them, and how). Agencies are
modelled on real ones in shared/reference/report-urls.tsv; the figures are not theirs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache

from report.agencies import Kind, Level, deadline
from report.record import ReportFormat
from sandbox.figures import Figures, generate, printed


@dataclass(frozen=True)
class Agency:
    slug: str
    name: str
    region_code: str
    level: Level
    kind: Kind
    family: str         # a CMS family (crawler.families.ADAPTERS) the portal renders
    list_path: str      # the report column's first list page, below the site prefix /<slug>
    busy: float = 1.0


AGENCIES: tuple[Agency, ...] = (
    Agency("hongze", "淮安市洪泽区人民政府", "320813", "county", "government", "trs", "/xxgk/xxgknb/index.html", 3.0),
    Agency("qiaokou-health", "武汉市硚口区卫生健康局", "420104", "department", "department", "trs",
           "/xxgk/zfxxgknb/bmjdhz/qwjj/index.html", 0.5),
    Agency("jlp-erlang", "重庆市九龙坡区二郎街道办事处", "500107", "township", "government", "trs",
           "/bmjz/zfxxgknb_97478/index.html", 0.3),
    Agency("huaian", "淮安市人民政府", "320800", "prefecture", "government", "jcms", "/col/col16813/index.html", 6.0),
    Agency("yw-ershisanli", "义乌市廿三里街道办事处", "330782", "township", "government", "jcms",
           "/col/col1229134232/index.html", 0.3),
    Agency("weishan-liangcheng", "微山县两城镇人民政府", "370826", "township", "government", "jcms",
           "/col/col24536/index.html", 0.2),
    Agency("lg-health", "深圳市龙岗区卫生健康局", "440307", "department", "department", "gkmlpt",
           "/gkmlpt/index", 1.0),
    Agency("guangdong", "广东省人民政府", "440000", "province", "government", "gkmlpt", "/gkmlpt/index", 8.0),
    Agency("chanhe-industry", "洛阳市瀍河回族区工业和信息化局", "410304", "department", "department", "plain",
           "/zfxxgk/xxgknb/1.html", 0.1),
    Agency("lueyang-land", "略阳县自然资源局", "610727", "department", "department", "plain",
           "/lyxzf/lyzwgk/xxgknb/list?page=1", 0.4),
    Agency("changchun-health", "长春市卫生健康委员会", "220100", "department", "department", "generic",
           "/zcbm/swjw/ndbg/", 1.5),
    Agency("mingshan-health", "本溪市明山区卫生健康局", "210504", "department", "department", "generic",
           "/publicity/zfxxgknb/msqzfbmxxgkgzndbg", 0.3),
)
YEARS: tuple[int, ...] = (2020, 2021, 2022, 2023, 2024)


def agency(slug: str) -> Agency:
    for candidate in AGENCIES:
        if candidate.slug == slug:
            return candidate
    raise KeyError(slug)


def format_for(year: int) -> ReportFormat:
    return "2019" if year <= 2020 else "2021"


def seed_for(slug: str, year: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{slug}:{year}".encode()).digest()[:4], "big")


@cache
def figures_for(slug: str, year: int) -> Figures:
    """The true figures of one agency-year; the same whichever form publishes them.

    Years chain: this year's carried_over is last year's carried_forward, so the
    cross-year rules hold on clean documents.
    """
    who = agency(slug)
    figures = generate(seed_for(slug, year), agency=who.name, year=year, format=format_for(year),
                       busy=who.busy, level=who.level, agency_kind=who.kind)
    if year - 1 in YEARS:
        _chain(figures, figures_for(slug, year - 1))
    return figures


def _chain(figures: Figures, previous: Figures) -> None:
    """Make carried_over(Y) = carried_forward(Y−1) and re-balance, keeping every identity."""
    cells = figures.record.cells
    for key, value in previous.record.cells.items():
        if not key.startswith("t3.carried_forward."):
            continue
        column = key.rsplit(".", 1)[1]
        over_key = f"t3.carried_over.{column}"
        delta = int(value or 0) - int(cells[over_key] or 0)
        cells[over_key] = int(value or 0)
        disclosed = int(cells[f"t3.disclosed.{column}"] or 0) + delta
        result_total = int(cells[f"t3.result_total.{column}"] or 0) + delta
        if disclosed < 0:  # fewer carried over than before: take the shortfall from new
            shortfall = -disclosed
            disclosed = 0
            result_total += shortfall
            cells[f"t3.new.{column}"] = int(cells[f"t3.new.{column}"] or 0) + shortfall
        cells[f"t3.disclosed.{column}"] = disclosed
        cells[f"t3.result_total.{column}"] = result_total
    _retotal(cells)
    sections = figures.record.sections
    sections["overview"] = re.sub(r"受理政府信息公开申请\d+件", f"受理政府信息公开申请{cells['t3.new.total']}件",
                                  sections.get("overview", ""))
    figures.record.raw = {k: printed(v) for k, v in cells.items()}


def _retotal(cells: dict) -> None:
    from report.catalogue import T3_APPLICANT_COLUMNS

    rows = {key.split(".")[1] if key.count(".") == 2 else ".".join(key.split(".")[1:3])
            for key in cells if key.startswith("t3.")}
    for row in rows:
        if f"t3.{row}.total" in cells:
            cells[f"t3.{row}.total"] = sum(int(cells.get(f"t3.{row}.{c}") or 0) for c in T3_APPLICANT_COLUMNS)


# ---------------------------------------------------------------- what each site publishes
@dataclass(frozen=True)
class Publication:
    """One document an agency publishes: which year, in which form, with which defect."""

    slug: str
    year: int
    form: str                 # word-pdf | reportlab-pdf | cid-pdf | scanned-pdf | html | docx | xlsx | flipbook |
    #                           paged-html (an article paginated over several pages)
    variant: str = "clean"    # clean | single-other | wrong-t4-total | text-in-cell | empty-shell |
    #                           2019-format-late | mixed-formats | landscape | gbk
    published: str = ""       # ISO date; default: before the legal deadline

    @property
    def name(self) -> str:
        suffix = "" if self.variant == "clean" else f"-{self.variant}"
        return f"{self.slug}-{self.year}-{self.form}{suffix}"


_PLAN = """
hongze 2020 reportlab-pdf | 2021 word-pdf | 2022 word-pdf single-other | 2023 word-pdf wrong-t4-total | 2024 word-pdf | 2024 html
qiaokou-health 2020 paged-html | 2021 html gbk | 2022 docx | 2023 word-pdf | 2024 html
jlp-erlang 2020 html gbk | 2021 scanned-pdf | 2022 paged-html | 2023 reportlab-pdf | 2024 word-pdf
huaian 2020 reportlab-pdf | 2021 word-pdf | 2022 word-pdf | 2023 html | 2024 word-pdf
yw-ershisanli 2020 html | 2021 html mixed-formats | 2022 docx | 2023 xlsx | 2024 paged-html
weishan-liangcheng 2020 html gbk | 2021 scanned-pdf | 2022 reportlab-pdf | 2023 word-pdf empty-shell | 2024 docx
lg-health 2020 html | 2021 paged-html | 2022 html text-in-cell | 2023 word-pdf | 2024 reportlab-pdf
guangdong 2020 reportlab-pdf | 2021 flipbook | 2022 word-pdf | 2023 word-pdf | 2024 html
chanhe-industry 2020 docx | 2021 reportlab-pdf | 2022 cid-pdf | 2023 html | 2024 reportlab-pdf
lueyang-land 2020 html | 2021 html 2019-format-late | 2022 xlsx | 2023 scanned-pdf | 2024 word-pdf
changchun-health 2020 reportlab-pdf | 2021 word-pdf | 2022 docx | 2023 reportlab-pdf landscape | 2024 word-pdf
mingshan-health 2020 docx | 2021 xlsx | 2022 scanned-pdf | 2023 word-pdf | 2024 docx
"""
# Publication dates that break the rules on purpose (for the late / early alerts).
_DATES = {("mingshan-health", 2023): "2024-06-12", ("weishan-liangcheng", 2024): "2024-12-20",
          ("huaian", 2022): "2023-05-08"}


def _parse_plan() -> tuple[Publication, ...]:
    publications = []
    for line in _PLAN.strip().splitlines():
        slug, rest = line.split(" ", 1)
        for item in rest.split("|"):
            year, form, *variant = item.split()
            publications.append(Publication(slug, int(year), form, variant[0] if variant else "clean",
                                            _DATES.get((slug, int(year)), default_published(slug, int(year)))))
    return tuple(publications)


def default_published(slug: str, year: int) -> str:
    """A day between the 10th and the 24th of the deadline's month: on time for departments
    (31 January) and county-or-above governments (31 March). Township governments publish in
    March like the county above them — late, since their deadline is 31 January, as many real
    townships are (and the dates are printed in the corpus's documents)."""
    day = 10 + seed_for(slug, year) % 15
    who = agency(slug)
    month = 3 if who.kind == "government" else deadline(year, who.kind, who.level).month
    return f"{year + 1}-{month:02d}-{day:02d}"


PUBLICATIONS: tuple[Publication, ...] = _parse_plan()


def publications(form: str | None = None) -> tuple[Publication, ...]:
    return tuple(p for p in PUBLICATIONS if form is None or p.form == form)


def publication_figures(publication: Publication) -> Figures:
    """The figures the document prints, with its variant's defect applied."""
    from sandbox import figures as defects

    base = figures_for(publication.slug, publication.year)
    who = agency(publication.slug)
    match publication.variant:
        case "wrong-t4-total":
            return defects.wrong_t4_total(base)
        case "text-in-cell":
            return defects.text_in_cell(base)
        case "empty-shell":
            return defects.empty_shell(base)
        case "single-other":
            return _single_other(base)
        case "2019-format-late":
            late = generate(seed_for(publication.slug, publication.year), agency=who.name, year=publication.year,
                            format="2019", busy=who.busy, level=who.level, agency_kind=who.kind)
            late.expected_rules.append("FORMAT-YEAR")
            late.variant = publication.variant
            return late
        case "mixed-formats":
            old = generate(seed_for(publication.slug, publication.year), agency=who.name, year=publication.year,
                           format="2019", busy=who.busy, level=who.level, agency_kind=who.kind)
            mixed = base.record.model_copy(deep=True)
            mixed.cells = {k: v for k, v in mixed.cells.items() if not k.startswith("t2.")}
            mixed.cells.update({k: v for k, v in old.record.cells.items() if k.startswith("t2.")})
            mixed.raw = {k: printed(v) for k, v in mixed.cells.items()}
            return Figures(mixed, ["CELLS", "FORMAT-YEAR"], publication.variant)   # its 2021 表二 is not printed
    return base


def _single_other(figures: Figures) -> Figures:
    """（六）其他处理 printed as one row, as in the real 洪泽区 2024 report."""
    from report.catalogue import T3_COLUMNS

    record = figures.record.model_copy(deep=True)
    for column in (c.key for c in T3_COLUMNS):
        split = [f"t3.other.{part}.{column}" for part in ("no_correction", "fee_unpaid", "other")]
        record.cells[f"t3.other.{column}"] = sum(int(record.cells.pop(key) or 0) for key in split)
        for key in split:
            record.raw.pop(key, None)
        record.raw[f"t3.other.{column}"] = str(record.cells[f"t3.other.{column}"])
    return Figures(record, list(figures.expected_rules), "single-other")
