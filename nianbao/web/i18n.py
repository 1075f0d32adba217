"""The interface's words in Chinese (first) and English; `translate(lang)` gives the page its `t`."""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("zh", "en")
DEFAULT = "zh"

WORDS: dict[str, tuple[str, str]] = {
    "app": ("政府信息公开年报数据库", "Government information disclosure annual reports"),
    "coverage": ("覆盖情况", "Coverage"),
    "search": ("检索", "Search"),
    "compare": ("对比", "Compare"),
    "sql": ("数据查询", "Data (SQL)"),
    "dictionary": ("数据字典", "Data dictionary"),
    "ops": ("运行监控", "Operations"),
    "api": ("接口文档", "API docs"),
    "year": ("年度", "Year"),
    "region": ("地区", "Region"),
    "all_regions": ("全国", "All of China"),
    "level": ("机关层级", "Level"),
    "kind": ("机关类别", "Kind"),
    "tier": ("行政层级", "Tier"),
    "any": ("全部", "any"),
    "filter": ("筛选", "Filter"),
    "expected": ("应发布", "Expected"),
    "on_time": ("按时发布", "On time"),
    "late": ("逾期发布", "Late"),
    "unknown": ("发布日期不详", "Date unknown"),
    "not_due": ("未到期限", "Not yet due"),
    "missing": ("逾期未发布", "Missing"),
    "site_broken": ("站点异常", "Site broken"),
    "quarantined": ("待核查", "Quarantined"),
    "accepted": ("已接受", "Accepted"),
    "total": ("合计", "Total"),
    "agencies": ("机关", "Agencies"),
    "agency": ("机关", "Agency"),
    "reports": ("年报", "Reports"),
    "report": ("年报", "Report"),
    "status": ("状态", "Status"),
    "published": ("发布日期", "Published"),
    "deadline": ("法定期限", "Deadline"),
    "findings": ("核查发现", "Findings"),
    "errors": ("错误", "Errors"),
    "warnings": ("警告", "Warnings"),
    "trend": ("主要数据趋势", "Main figures over the years"),
    "checks": ("跨年度核对", "Cross-year checks"),
    "carry_over": ("结转：上年结转 = 上年报告结转下年度", "Carry-over: carried over = last year's carried forward"),
    "stock_rules": ("存量：规章现行有效件数", "Stock: rules in force"),
    "stock_normative_docs": ("存量：行政规范性文件现行有效件数", "Stock: normative documents in force"),
    "previous": ("上年", "Last year"),
    "printed": ("本年印", "Printed"),
    "expected_value": ("应为", "Expected"),
    "ok": ("一致", "consistent"),
    "mismatch": ("不一致", "mismatch"),
    "no_data": ("无数据", "no data"),
    "versions": ("版本", "Versions"),
    "changes": ("变化", "Changes"),
    "current": ("当前版本", "current"),
    "superseded": ("已被取代", "superseded"),
    "original": ("原始文件", "Original document"),
    "open_original": ("打开原始文件", "Open the original"),
    "click_cell": ("点击表格中的数字，查看其在原文中的位置。", "Click a figure to see it on the page."),
    "page": ("页", "page"),
    "box_unknown": ("此单元格尚无位置信息，显示原文页面。", "This cell has no position yet: the page is shown."),
    "not_pdf": ("原始文件不是PDF，无页面图像。", "The original is not a PDF: no page image."),
    "in_table": ("原文表格（第 {table} 张表）中的位置：", "Where it is in the original's table {table}:"),
    "read_text": ("读取的文字", "Text read"),
    "confidence": ("识别置信度", "OCR confidence"),
    "corrected": ("已按报告自身的合计关系重新识别", "re-read because the report's own totals disagreed"),
    "no_raw": ("原始文件不在存储中。", "The original is not in the raw store."),
    "value": ("数值", "Value"),
    "raw": ("原文", "As printed"),
    "key": ("字段", "Key"),
    "sections": ("正文", "Prose"),
    "query": ("关键词", "Words"),
    "results": ("结果", "Results"),
    "no_results": ("没有结果。", "No results."),
    "run": ("运行", "Run"),
    "saved_queries": ("常用查询", "Saved queries"),
    "download": ("下载", "Download"),
    "rows": ("行", "rows"),
    "cut": ("结果已截断，仅显示前 {n} 行。", "Cut: only the first {n} rows are shown."),
    "read_only": ("只读：每次一条查询语句，限时限行。", "Read-only: one statement, with a time and row limit."),
    "label_path": ("标签（完整层级）", "Label (full group path)"),
    "unit": ("单位", "Unit"),
    "formats": ("格式版本", "Formats"),
    "converted": ("元→万元转换", "Converted 元→万元"),
    "column": ("列名", "Column"),
    "open_alerts": ("未解除告警", "Open alerts"),
    "alerts_cut": ("仅列出前 {n} 条（按类型，最新在前）。", "Only the first {n} are listed (by kind, newest first)."),
    "by_kind": ("按类型", "By kind"),
    "by_source": ("按来源", "By source"),
    "last_runs": ("最近抓取", "Last runs"),
    "source": ("来源", "Source"),
    "started": ("开始", "Started"),
    "finished": ("结束", "Finished"),
    "reason": ("结束原因", "Finish reason"),
    "documents": ("文件数", "Documents"),
    "healthy": ("正常", "healthy"),
    "broken": ("异常", "broken"),
    "health": ("健康状况", "Health"),
    "message": ("内容", "Message"),
    "left": ("左", "Left"),
    "right": ("右", "Right"),
    "differences": ("处不同", "differences"),
    "choose": ("选择", "Choose"),
    "not_found": ("未找到", "Not found"),
    "language": ("English", "中文"),
    "name": ("名称", "Name"),
    "code": ("代码", "Code"),
    "format": ("格式", "Format"),
    "title": ("标题", "Title"),
    "ocr": ("OCR识别", "OCR"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "chart": ("图表", "Chart"),
    "cell_detail": ("单元格", "Cell"),
    "no_form": ("此格式没有标准表格，按字段列出。", "This format has no standard form: cells listed by key."),
}


def translate(lang: str) -> Callable[..., str]:
    index = 1 if lang == "en" else 0

    def t(word: str, **values: object) -> str:
        pair = WORDS.get(word)
        phrase = pair[index] if pair else word
        return phrase.format(**values) if values else phrase

    return t


def choose(requested: str | None, cookie: str | None) -> str:
    for candidate in (requested, cookie):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT
