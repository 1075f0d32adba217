"""How alerts read in a message: one Markdown text (Chinese), capped in length."""

from __future__ import annotations

from collections.abc import Sequence

from nianbao.alerts.model import Alert

KIND_LABELS = {
    "missing": "逾期未发布", "late": "逾期发布", "early": "提前发布", "malformed": "数据不自洽",
    "image_only": "纯图片报告", "site_broken": "站点异常", "duplicate": "内容重复",
}
MAX_LINES = 20


def title(opened: Sequence[Alert], resolved: int = 0) -> str:
    parts = [f"新增{len(opened)}条"] if opened else []
    if resolved:
        parts.append(f"解除{resolved}条")
    return "年报告警：" + ("，".join(parts) or "无变化")


def markdown(opened: Sequence[Alert], resolved: int = 0, bold: str = "**") -> str:
    """A heading and one line per alert; `bold` is ** (DingTalk, WeCom) or * (Slack)."""
    lines = [f"{bold}{title(opened, resolved)}{bold}", ""]
    for alert in opened[:MAX_LINES]:
        lines.append(f"- {bold}{KIND_LABELS.get(alert.kind, alert.kind)}{bold} {alert.message}")
    if len(opened) > MAX_LINES:
        lines.append(f"- ……另有{len(opened) - MAX_LINES}条，见 `nianbao alerts --open`")
    return "\n".join(lines)


def plain(opened: Sequence[Alert], resolved: int = 0) -> str:
    """The e-mail body: the same lines without Markdown, plus the English message."""
    lines = [title(opened, resolved), ""]
    for alert in opened:
        lines.append(f"[{KIND_LABELS.get(alert.kind, alert.kind)}] {alert.message}")
        if alert.message_en:
            lines.append(f"    {alert.message_en}")
    return "\n".join(lines) + "\n"
