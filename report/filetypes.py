"""What bytes are, by their signatures, and what a bot-challenge page prints.

The crawler (is a download what it claims?) and the extractor (which reader?) read the
same table; each keeps its own verdict: the crawler names containers (zip, ole), the
extractor looks inside them (docx, xlsx, doc, xls, wps).
"""

from __future__ import annotations

import re
from typing import Literal

Signature = Literal["pdf", "zip", "ole", "image", "rtf", "html"]

PDF_MAGIC = b"%PDF-"          # anywhere in the first KiB: some servers prepend junk
PDF_MAGIC_WINDOW = 1024
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
RTF_MAGIC = b"{\\rtf"
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")
HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<script", b"<title", b"<div",
                b"<table", b"<p>", b"<p ")
HTML_MARKER_WINDOW = 4096
UTF8_BOM = b"\xef\xbb\xbf"


def signature(data: bytes) -> Signature | None:
    """The kind the leading bytes announce, or None (text, JSON, XML, empty or unknown)."""
    head = data[:HTML_MARKER_WINDOW]
    if PDF_MAGIC in data[:PDF_MAGIC_WINDOW]:
        return "pdf"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if _is_image(head):
        return "image"
    if head.startswith(RTF_MAGIC):
        return "rtf"
    lowered = head.lstrip(UTF8_BOM + b" \t\r\n").lower()
    if any(marker in lowered for marker in HTML_MARKERS):
        return "html"
    return None


def _is_image(head: bytes) -> bool:
    if head.startswith(IMAGE_MAGIC):
        return True
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return True
    # BMP: "BM", the file size, then four reserved zero bytes (plain text never has those)
    return head.startswith(b"BM") and head[6:10] == b"\x00\x00\x00\x00"


# ---------------------------------------------------------------- bot-challenge pages
# What WAF and anti-bot challenge pages print instead of the page asked for (瑞数 $_ts,
# 加速乐 __jsl_clearance, 阿里云 acw_sc__v2, 云锁, 安全狗, Cloudflare, and their Chinese notices).
CHALLENGE = re.compile(
    r"acw_sc__v2|__jsl_clearance|\$_ts|cf-challenge|_waf_|yunsuo_session_verify|safedog|\bwaf\b|安全验证|人机验证|"
    r"访问验证|滑动验证|请完成验证|防火墙|访问被拦截|访问已被拦截|请开启(?:浏览器的)?\s*JavaScript|enable\s+JavaScript|"
    r"security\s+check|checking\s+your\s+browser|captcha",
    re.IGNORECASE,
)
# One of these (case-folded) is in every text CHALLENGE matches: a cheap test before the
# regex, whose case-insensitive alternation costs ~0.3 ms on an ordinary 3 KB list page.
# ("javascript" itself is on most pages, so its alternatives are keyed on 请开启 and enable.)
CHALLENGE_WORDS = ("acw_sc__v2", "__jsl_clearance", "$_ts", "cf-challenge", "waf", "yunsuo_session_verify",
                   "safedog", "安全验证", "人机验证", "访问验证", "滑动验证", "请完成验证", "防火墙", "访问被拦截",
                   "访问已被拦截", "请开启", "enable", "security", "checking", "captcha")


def prints_a_challenge(text: str) -> bool:
    """Does the text carry a challenge page's marks? (The caller knows whether it is also small.)"""
    folded = text.casefold()
    return any(word in folded for word in CHALLENGE_WORDS) and bool(CHALLENGE.search(text))
