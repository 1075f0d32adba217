"""Are the bytes what they claim to be? Real type from magic bytes; challenge pages spotted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

OFFICE_ZIP = {"docx", "xlsx", "pptx", "ofd", "zip"}
OFFICE_OLE = {"doc", "xls", "ppt", "wps", "et"}
HTML_EXT = {"html", "htm", "shtml", "xhtml", "jsp", "php", "asp", "aspx", ""}
DOCUMENT_EXT = {"pdf", "txt", "rtf"} | OFFICE_ZIP | OFFICE_OLE
IMAGE_EXT = {"jpg", "jpeg", "png", "gif", "tif", "tiff"}

_CHALLENGE = re.compile(
    r"acw_sc__v2|__jsl_clearance|_waf_|yunsuo_session_verify|safedog|\bwaf\b|安全验证|人机验证|访问验证|滑动验证|"
    r"请完成验证|防火墙|访问被拦截|访问已被拦截|请开启\s*JavaScript|enable\s+JavaScript|security\s+check|"
    r"checking\s+your\s+browser|captcha",
    re.IGNORECASE,
)
# One of these (case-folded) is in every text _CHALLENGE matches: a cheap test before the
# regex, whose case-insensitive alternation costs ~0.3 ms on an ordinary 3 KB list page.
# ("javascript" itself is on most pages, so its alternatives are keyed on 请开启 and enable.)
_CHALLENGE_WORDS = ("acw_sc__v2", "__jsl_clearance", "waf", "yunsuo_session_verify", "safedog", "安全验证",
                    "人机验证", "访问验证", "滑动验证", "请完成验证", "防火墙", "访问被拦截", "访问已被拦截", "请开启",
                    "enable", "security", "checking", "captcha")
_REPORT_MARKERS = ("总体情况", "主动公开政府信息情况", "收到和处理政府信息公开申请情况",
                   "政府信息公开行政复议", "存在的主要问题", "其他需要报告的事项")


@dataclass(frozen=True)
class Verdict:
    kind: str                 # the real type: pdf, zip, ole, html, image, text, empty, unknown
    problem: str | None       # None, or: empty, challenge, type_mismatch
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


def real_kind(body: bytes) -> str:
    head = body[:1024]
    if not body.strip():
        return "empty"
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")):
        return "image"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<script", b"<div")):
        return "html"
    if b"<html" in body[:4096].lower():
        return "html"
    return "text" if _is_text(head) else "unknown"


def _is_text(head: bytes) -> bool:
    return b"\x00" not in head


def extension(url: str, filename: str | None = None) -> str:
    """The lower-case extension a file claims, from its download name or else its URL path."""
    name = filename or unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def claimed_kind(url: str, content_type: str = "", filename: str | None = None) -> str | None:
    ext = extension(url, filename)
    if ext == "pdf" or (not ext and "pdf" in content_type):
        return "pdf"
    if ext in OFFICE_ZIP or ext in OFFICE_OLE:
        return "office"
    if ext in IMAGE_EXT:
        return "image"
    if ext in HTML_EXT and "html" in content_type:
        return "html"
    return None


def check(body: bytes, url: str, content_type: str = "", filename: str | None = None) -> Verdict:
    kind = real_kind(body)
    if kind == "empty":
        return Verdict(kind, "empty", "zero bytes" if not body else "only whitespace")
    if kind in ("html", "text") and is_challenge(body):
        return Verdict(kind, "challenge", "a WAF/anti-bot challenge page, not a report")
    claimed = claimed_kind(url, content_type, filename)
    if claimed == "pdf" and kind != "pdf":
        return Verdict(kind, "type_mismatch", f"claims PDF, bytes are {kind}")
    if claimed == "office" and kind not in ("zip", "ole", "rtf", "html", "text"):
        return Verdict(kind, "type_mismatch", f"claims an office file, bytes are {kind}")
    if claimed == "office" and kind in ("html", "text") and extension(url, filename) not in ("doc", "wps"):
        return Verdict(kind, "type_mismatch", f"claims {extension(url, filename)}, bytes are {kind}")
    return Verdict(kind, None)


def decode_html(body: bytes, declared: str | None = None) -> str:
    for encoding in filter(None, (declared, _meta_charset(body), "utf-8", "gb18030")):
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


def _meta_charset(body: bytes) -> str | None:
    match = re.search(rb"charset=[\"']?([A-Za-z0-9_-]+)", body[:4096])
    return match.group(1).decode("ascii") if match else None


CHALLENGE_MAX_BYTES = 64 * 1024   # challenge pages are small; a report page is not one


def is_challenge(body: bytes) -> bool:
    if len(body) > CHALLENGE_MAX_BYTES:
        return False
    text = decode_html(body)
    folded = text.casefold()
    if not any(word in folded for word in _CHALLENGE_WORDS):
        return False
    return bool(_CHALLENGE.search(text)) and not is_report_text(text)


def is_report_text(text: str) -> bool:
    """Does this text carry a report's own body (its section headings), not just a link to one?"""
    return sum(marker in text for marker in _REPORT_MARKERS) >= 2
