"""What a response says about itself: the URL asked for, its file name, its validators, and
whether it is an article page or a document the crawl keeps."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import Response, TextResponse

from crawler.attachments import body_text
from crawler.discovery.names import disposition_filename
from crawler.sniff import DOCUMENT_EXT, Verdict, check, extension, is_report_text, real_kind


def download_name(response: Response) -> str:
    """The file name in Content-Disposition (RFC 5987 filename*, %-encoded or raw UTF-8/GBK)."""
    return disposition_filename(response.headers.get(b"Content-Disposition"))


def claims_file(url: str, filename: str | None) -> bool:
    """Does the URL or download name promise a document file (pdf, doc, …), not a page?"""
    return extension(url, filename) in DOCUMENT_EXT


def asked_url(answered: Response | Request) -> str:
    """The URL the crawl asked for (as the listing or article gave it), before any redirect.

    Documents are keyed by it, so the next run's conditional request goes to the same URL.
    """
    return (answered.meta.get("redirect_urls") or [answered.url])[0]


def header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def content_type(response: Response) -> str:
    return (response.headers.get(b"Content-Type") or b"").decode("latin-1")


def is_article_page(response: Response, filename: str | None) -> bool:
    """A report link that answered with an HTML page (not a file): its attachments are followed."""
    return response.meta["role"] == "target" and is_html_page(response, filename)


def is_html_page(response: Response, filename: str | None) -> bool:
    """An HTML page, served as one (not a file that happens to be HTML)."""
    return (isinstance(response, TextResponse) and real_kind(response.body) == "html"
            and "html" in content_type(response) and not claims_file(response.url, filename))


def judge(response: Response, child_kind: str | None, filename: str | None) -> Verdict:
    """Are these bytes a document? The sniffed verdict, and two rules of the crawl on top: an image
    of a page must be an image, and an attachment link must not answer with an ordinary HTML page."""
    verdict = check(response.body, response.url, content_type(response), filename)
    if not verdict.ok:
        return verdict
    if child_kind == "image" and verdict.kind != "image":
        return Verdict(verdict.kind, "type_mismatch", f"an image of the page, bytes are {verdict.kind}")
    if (response.meta["role"] == "attachment" and verdict.kind == "html" and child_kind != "page"
            and not is_report_text(body_text(response.selector) if isinstance(response, TextResponse) else "")):
        return Verdict(verdict.kind, "not_a_document", "an attachment link answered with an HTML page")
    return verdict
