"""The agency a report names itself as, on titles and pages shaped like the real ones.

Each test draws a class of spellings (seeded): the year before or after the name or in a
trailing （YYYY年度）, 关于…的报告, spaces a text layer puts between characters, half- and
full-width punctuation, a first sentence run into the title line, and the signature forms
reports end with. The listing's agency is only a hint: it never wins over the report's word.
"""

from __future__ import annotations

import html
import random

import pytest

from extract.api import Hints, extract_bytes
from extract.metadata import agency_from_signature, resolve_metadata
from report.titles import agency_from_title, is_report_title

# Publishers of ../shared/reference/report-urls.tsv, as their reports name them.
AGENCIES = [
    "上海市人民政府办公厅", "沭阳县发展和改革局", "淮安市洪泽区人民政府", "武汉市硚口区卫生健康局",
    "九龙坡区二郎街道办事处", "义乌市廿三里街道办事处", "宁强县自然资源局", "长春市卫生健康委员会",
    "江苏省公安厅", "遂宁市公安局船山区分局", "兴国县良村镇人民政府", "金华市市场监督管理局",
    "汉台区教育体育局", "舟山市民政局", "利辛县教育局", "桐乡市公安局",
]
SUBJECTS = ["政府信息公开工作年度报告", "政府信息公开工作报告", "政务公开工作年度报告", "信息公开工作年度报告"]
PREFIXES = [
    "根据《中华人民共和国政府信息公开条例》（以下简称《条例》）规定，现向社会公布",
    "根据《中华人民共和国政府信息公开条例》规定,现向社会公布",
    "依据《条例》第五十条，现予公布",
    "现将",
]
SEEDS = range(60)


def title_of(agency: str, year: int, rng: random.Random) -> str:
    """One real spelling of a report title, chosen by the seed."""
    subject = rng.choice(SUBJECTS)
    forms = [
        f"{agency}{year}年{subject}",
        f"{agency}{year}年度{subject.replace('年度', '')}",
        f"{year}年{agency}{subject}",
        f"{year}年度{agency}{subject}",
        f"{agency}关于{year}年政府信息公开工作情况的报告",
        f"{agency}关于{year}年度政府信息公开工作的报告",
        f"{agency}{subject}（{year}年度）",
        f"{agency}{subject}({year}年度)",
        f"{agency}政府信息公开工作{year}年度报告",
        f"{agency}{year}年{subject}（图片版）",
    ]
    return rng.choice(forms)


def spaced(text: str, rng: random.Random) -> str:
    """Spaces (ASCII, ideographic) between some characters, as a PDF text layer prints them."""
    return "".join(ch + (rng.choice([" ", "\u3000", "  "]) if rng.random() < 0.15 else "") for ch in text)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_title_names_the_agency_wherever_the_year_stands(seed: int) -> None:
    rng = random.Random(f"title:{seed}")
    agency, year = rng.choice(AGENCIES), rng.randint(2014, 2025)
    title = spaced(title_of(agency, year, rng), rng)
    assert is_report_title(title), title
    assert agency_from_title(title) == agency, title


@pytest.mark.parametrize("seed", SEEDS)
def test_a_first_sentence_run_into_the_title_line_is_not_the_agency(seed: int) -> None:
    rng = random.Random(f"sentence:{seed}")
    agency, year = rng.choice(AGENCIES), rng.randint(2019, 2025)
    title = title_of(agency, year, rng)
    prefix = rng.choice(PREFIXES)
    line = f"{prefix}《{title}》予以公布。" if prefix == "现将" else f"{prefix}{title}。"
    meta = resolve_metadata([line, "一、总体情况"], "", meta_title=None, listing_title=None,
                            hint_agency="某个列表上的机关", hint_year=None)
    assert meta.agency == agency, line
    assert meta.title is not None and not meta.title.startswith(("根据", "依据", "现将")), meta.title


SIGNATURES = [
    lambda a, d: [a, d],
    lambda a, d: [f"{a}  {d}"],
    lambda a, d: [d, a],
    lambda a, d: [f"发布单位：{a}", d],
    lambda a, d: [f"（{a}）", d],
    lambda a, d: [a, "二〇二五年一月二十日"],
]


@pytest.mark.parametrize(("seed", "form"), [(s, f) for s in range(12) for f in range(len(SIGNATURES))])
def test_the_signature_names_the_agency(seed: int, form: int) -> None:
    rng = random.Random(f"signature:{seed}:{form}")
    agency = rng.choice(AGENCIES)
    date = f"{rng.randint(2015, 2026)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"
    lines = ["本机关将进一步加强政府信息公开工作。", *SIGNATURES[form](spaced(agency, rng), date)]
    assert agency_from_signature(lines) == agency, lines


def test_no_signature_names_no_agency() -> None:
    assert agency_from_signature(["本机关将进一步加强政府信息公开工作。", "2025年1月20日"]) is None
    assert agency_from_signature(["如有疑问请咨询县发展和改革局", "2025年1月20日"]) is None
    assert agency_from_signature([]) is None


# ------------------------------------------------------------------ whole pages
def page(*, h1: str, source: str, lead: str, signature: list[str]) -> bytes:
    """An article page as TRS and jcms portals print one: a title, an info line with the source,
    the body (#zoom) with the report's prose and its signature."""
    body = [f"<p>{html.escape(lead)}</p>", "<p>一、总体情况</p>",
            "<p>本年度，本机关认真贯彻落实《中华人民共和国政府信息公开条例》。</p>",
            "<p>六、其他需要报告的事项</p><p>本年度未收取信息处理费。</p>"]
    body += [f'<p style="text-align:right">{html.escape(line)}</p>' for line in signature]
    return ("<html><head><meta charset='utf-8'><title>门户网站</title></head><body>"
            f"<h1>{html.escape(h1)}</h1>"
            f"<div class='info'>发布时间：2025-01-20 09:30　来源：{html.escape(source)}　浏览次数：12</div>"
            f"<div id='zoom'>{''.join(body)}</div></body></html>").encode()


@pytest.mark.parametrize("seed", range(16))
def test_on_a_page_the_report_names_itself_the_listing_only_hints(seed: int) -> None:
    rng = random.Random(f"page:{seed}")
    agency, year = rng.choice(AGENCIES), rng.randint(2019, 2025)
    others = [a for a in AGENCIES if a != agency]
    listing, source = rng.sample(others, 2)
    lead = f"{rng.choice(PREFIXES[:2])}{title_of(agency, year, rng)}。"
    data = page(h1="信息公开年报", source=source, lead=lead, signature=[rng.choice(others), f"{year + 1}年1月20日"])
    record = extract_bytes(data, hints=Hints(agency=listing, listing_title="年度报告"), ocr=False)
    assert record.agency == agency   # the title, over the signature, the source line and the listing


@pytest.mark.parametrize("seed", range(8))
def test_without_a_named_title_the_signature_then_the_source_line_name_the_agency(seed: int) -> None:
    rng = random.Random(f"fallback:{seed}")
    signer, source, listing = rng.sample(AGENCIES, 3)
    year = rng.randint(2019, 2025)
    title = f"{year}年政府信息公开工作年度报告"
    signed = page(h1=title, source=source, lead="本报告根据《条例》编制。", signature=[signer, f"{year + 1}年1月20日"])
    unsigned = page(h1=title, source=source, lead="本报告根据《条例》编制。", signature=[f"{year + 1}年1月20日"])
    from_site = page(h1=title, source="本站", lead="本报告根据《条例》编制。", signature=[f"{year + 1}年1月20日"])
    hints = Hints(agency=listing, listing_title=title)
    assert extract_bytes(signed, hints=hints, ocr=False).agency == signer
    assert extract_bytes(unsigned, hints=hints, ocr=False).agency == source
    assert extract_bytes(from_site, hints=hints, ocr=False).agency == listing   # 本站 names nobody
