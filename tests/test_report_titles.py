"""What a title says (report/titles.py): the crawler and the extractor read one verdict."""

from __future__ import annotations

import itertools

import pytest

from crawler.recognise import recognise
from extract.metadata import resolve_metadata
from report.titles import (
    is_lookalike,
    is_report_title,
    normalise_title,
    version_of,
    year_from_title,
)

REPORTS = [
    "淮安市洪泽区人民政府2024年政府信息公开工作年度报告",
    "武汉市硚口区卫生健康局2023年度政府信息公开工作报告",
    "某局关于2022年政府信息公开工作情况的报告",
    "舟山市民政局信息公开工作年度报告(2020年度)",
    "汉台区教育体育局政府信息公开工作2022年度报告",
    "某局2023年政府信息公开工作年度报告（图片版）",
    "某區2020年政府信息公開工作年度報告",
    "某县2021年政务公开工作年度报告",
]
LOOKALIKES = [
    "图解：淮安市洪泽区人民政府2024年政府信息公开工作年度报告",
    "圖解：某區2020年政府信息公開工作年度報告",
    "一图读懂2023年政府信息公开工作年度报告",
    "《2022年政府信息公开工作年度报告》解读",
    "2024年上半年政府信息公开工作情况报告",
    "某局2024年第三季度政府信息公开工作报告",
    "某市2024年政府信息公开统计月报",
    "关于做好2024年政府信息公开工作年度报告编制和发布工作的通知",
    "关于报送2023年政府信息公开工作年度报告的函",
    "2024年政府信息公开工作年度报告模板",
    "政府信息公开工作年度报告格式说明",
    "2023年政府信息公开工作年度报告第三方评估报告",
    "关于政府信息公开工作年度报告的意见",
    "政府信息公开工作年度报告问答",
]
# Prefixes and suffixes a portal puts around the same titles.
DRESSING = [("", ""), ("  ", "  "), ("", "（超链版）"), ("【", "】")]


def crawler_says_report(title: str) -> bool:
    return recognise(title) is not None


def extractor_says_report(title: str) -> bool:
    """The extractor's verdict on a document whose only clue is its title (as the listing showed it)."""
    meta = resolve_metadata([], "", meta_title=title, listing_title=title, hint_agency=None, hint_year=None)
    return meta.lookalike is None


@pytest.mark.parametrize(("title", "report"), [(t, True) for t in REPORTS] + [(t, False) for t in LOOKALIKES])
def test_the_crawler_and_the_extractor_agree_on_a_title(title: str, report: bool) -> None:
    for before, after in DRESSING:
        dressed = f"{before}{title}{after}"
        assert (crawler_says_report(dressed), extractor_says_report(dressed)) == (report, report), dressed


def test_they_agree_on_every_look_alike_word_in_any_position() -> None:
    words = ["图解", "解读", "半年", "季度", "通知", "模板", "指南", "目录", "要点", "评估", "征求意见"]
    for word, word_first in itertools.product(words, (True, False)):
        title = f"{word}某县2024年政府信息公开工作年度报告" if word_first else f"某县2024年政府信息公开工作年度报告{word}"
        assert crawler_says_report(title) is extractor_says_report(title) is False, title


def test_title_facts() -> None:
    assert normalise_title(" 某區 2020年 年度報告 ") == "某区2020年年度报告"
    assert version_of("某局2023年政府信息公开工作年度报告（ 图片版 ）") == "图片版"
    assert version_of("某局2023年政府信息公开工作年度报告") is None
    assert year_from_title("舟山市民政局信息公开工作年度报告(２０２０年度)") == 2020
    assert year_from_title("政府信息公开工作年度报告 2019") == 2019
    assert year_from_title("政府信息公开工作年度报告") is None
    assert is_report_title("某区2020年政府信息公开工作年度报告（图片版）")
    assert not is_report_title("某区人民政府2024年法治政府建设年度报告")   # not about 信息公开
    assert not is_report_title("2024年政府工作报告")
    assert is_lookalike("关于印发2024年政务公开工作要点的通知")
    assert not is_lookalike("某局关于2022年政府信息公开工作情况的报告")
