"""Are the bytes what they claim to be? Real type from magic bytes; challenge pages spotted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from report.catalogue import sections_named
from report.filetypes import prints_a_challenge, signature

OFFICE_ZIP = {"docx", "xlsx", "pptx", "ofd", "zip"}
OFFICE_OLE = {"doc", "xls", "ppt", "wps", "et"}
HTML_EXT = {"html", "htm", "shtml", "xhtml", "jsp", "php", "asp", "aspx", ""}
DOCUMENT_EXT = {"pdf", "txt", "rtf"} | OFFICE_ZIP | OFFICE_OLE
IMAGE_EXT = {"jpg", "jpeg", "png", "gif", "tif", "tiff"}



@dataclass(frozen=True)
class Verdict:
    kind: str                 # the real type: pdf, zip, ole, html, image, text, empty, unknown
    problem: str | None       # None, or: empty, challenge, type_mismatch
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


def real_kind(body: bytes) -> str:
    if not body.strip():
        return "empty"
    return signature(body) or ("text" if _is_text(body[:1024]) else "unknown")


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
    return prints_a_challenge(text) and not is_report_text(text)


def is_report_text(text: str) -> bool:
    """Does this text carry a report's own body (its section headings), not just a link to one?"""
    return len(sections_named(text)) >= 2
