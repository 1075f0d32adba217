"""What a notifier sends: a `Message` (a title and one line per item, errors first), rendered as
Markdown (DingTalk, Feishu, WeCom, Slack) or plain text (e-mail). Chinese, capped in length.

A missing report's delay is computed when the message is made (as of its `today`), never
taken from the stored alert, which would say how late it was when first found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from nianbao.alerts.model import Alert
from report.agencies import today_in_china

KIND_LABELS = {
    "missing": "逾期未发布", "late": "逾期发布", "early": "提前发布", "malformed": "数据不自洽",
    "image_only": "纯图片报告", "site_broken": "站点异常", "duplicate": "内容重复",
}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}
MAX_LINES = 20


@dataclass(frozen=True)
class Line:
    severity: str
    label: str
    text: str
    text_en: str = ""


@dataclass(frozen=True)
class Message:
    """One message to every notifier. `event`: alerts | test | task_failed. `alerts` and
    `resolved` are kept for the generic JSON webhook."""

    event: str
    title: str
    lines: tuple[Line, ...] = ()
    alerts: tuple[Alert, ...] = ()
    resolved: int = 0
    today: date | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return any(line.severity == "error" for line in self.lines)

    def ordered(self) -> list[Line]:
        """Errors first, then warnings, then information (stable within a severity)."""
        return sorted(self.lines, key=lambda line: SEVERITY_ORDER.get(line.severity, len(SEVERITY_ORDER)))


def shown_message(alert: Alert, today: date) -> tuple[str, str]:
    """The alert's (Chinese, English) text as of `today`."""
    return shown_text(alert.kind, alert.message, alert.details, today), \
        shown_text(alert.kind, alert.message_en, alert.details, today, english=True)


def shown_text(kind: str, message: str, details: Mapping[str, Any] | None, today: date, *,
               english: bool = False) -> str:
    """A stored alert message as of `today`: a missing report says how overdue it is now."""
    due = (details or {}).get("deadline") if kind == "missing" else None
    if not due or not message:
        return message
    overdue = (today - date.fromisoformat(str(due))).days
    if english:
        return f"{message} ({overdue} days overdue)"
    return f"{message[:-1]}，已逾期{overdue}天）" if message.endswith("）") else f"{message}，已逾期{overdue}天"


def alert_message(opened: Sequence[Alert], resolved: int = 0, today: date | None = None) -> Message:
    as_of = today or today_in_china()
    parts = [f"新增{len(opened)}条"] if opened else []
    if resolved:
        parts.append(f"解除{resolved}条")
    lines = tuple(Line(alert.severity, KIND_LABELS.get(alert.kind, alert.kind), *shown_message(alert, as_of))
                  for alert in opened)
    return Message("alerts", "年报告警：" + ("，".join(parts) or "无变化"), lines, tuple(opened), resolved, as_of)


def trial_message(notifier: str) -> Message:
    return Message("test", "年报告警：测试消息", (Line("info", "测试", f"这是 nianbao 发往 {notifier} 的测试消息，无需处理",
                                                   f"a test message from nianbao to {notifier}"),))


def task_failed_message(*, dag_id: str, task_id: str, run_id: str, try_number: int | None = None,
                        error: str = "") -> Message:
    where = f"{dag_id}.{task_id}（{run_id}{f'，第{try_number}次尝试' if try_number else ''}）"
    return Message("task_failed", f"年报采集任务失败：{task_id}",
                   (Line("error", "任务失败", f"{where}：{error or '未知错误'}",
                         f"{dag_id}.{task_id} failed in {run_id}: {error or 'unknown error'}"),),
                   extra={"dag_id": dag_id, "task_id": task_id, "run_id": run_id, "try_number": try_number})


def markdown(message: Message, bold: str = "**", mentions: str = "") -> str:
    """A heading and one line per item, errors first, at most MAX_LINES; `bold` is ** or * (Slack)."""
    ordered = message.ordered()
    lines = [f"{bold}{message.title}{bold}", ""]
    lines += [f"- {bold}{line.label}{bold} {line.text}" for line in ordered[:MAX_LINES]]
    if len(ordered) > MAX_LINES:
        lines.append(f"- ……另有{len(ordered) - MAX_LINES}条（{_hidden(ordered[MAX_LINES:])}），"
                     "见 `nianbao alerts --open`")
    if mentions:
        lines += ["", mentions]
    return "\n".join(lines)


def plain(message: Message) -> str:
    """The e-mail body: every line without Markdown, errors first, with the English text."""
    lines = [message.title, ""]
    for line in message.ordered():
        lines.append(f"[{line.label}] {line.text}")
        if line.text_en:
            lines.append(f"    {line.text_en}")
    return "\n".join(lines) + "\n"


def _hidden(lines: Sequence[Line]) -> str:
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.severity] = counts.get(line.severity, 0) + 1
    return "，".join(f"{SEVERITY_LABELS.get(severity, severity)}{n}条" for severity, n in counts.items())
