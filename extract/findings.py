"""Every finding extraction can put on a record: its id, severity and what it means for the document.

The one list of them: readers raise `ReaderError(Findings.BROKEN_PDF, …)` and the pipeline
reads `outcome` to file a document as failed or as not a report; an id that is not here
fails (`Findings.of("broken-pfd")` raises). `docs/findings.md` shows the table, written by
`python -m extract.findings_docs` (and `--check` tells whether it is current).
"""

from __future__ import annotations

from enum import Enum
from typing import Literal, cast, get_args

from report.record import Severity

# failed: the document could not be read (the raw bytes are kept); not_report: it was read
# and is not an annual report; "-" in the table (None): the record's cells and year decide.
Outcome = Literal["failed", "not_report"]


class Findings(Enum):
    """Each row: the id, its severity, its outcome ("-": none of its own) and what it means."""

    EMPTY_FILE = "empty-file          error     failed      the file holds no bytes, or only white space"
    UNKNOWN_TYPE = "unknown-type        error     failed      the bytes are no document type a reader knows"
    UNREADABLE_FILE = "unreadable-file     error     failed      the file cannot be opened"
    UNREADABLE = "unreadable          error     failed      the raw store has lost the document's bytes"
    ENCRYPTED = "encrypted           error     failed      the PDF is encrypted"
    BROKEN_PDF = "broken-pdf          error     failed      the PDF cannot be parsed, or has no pages"
    BROKEN_PAGE = "broken-page         warning   -           one PDF page cannot be read; the others are"
    TOO_MANY_PAGES = "too-many-pages      error     failed      the PDF has more pages than any annual report"
    BROKEN_DOCX = "broken-docx         error     failed      the DOCX package is damaged"
    BROKEN_XLSX = "broken-xlsx         error     failed      the XLSX package is damaged"
    BROKEN_XLS = "broken-xls          error     failed      the XLS file cannot be parsed"
    BROKEN_DOC = "broken-doc          error     failed      LibreOffice cannot convert the DOC/WPS file"
    BROKEN_HTML = "broken-html         error     failed      the HTML cannot be parsed"
    BROKEN_IMAGE = "broken-image        error     failed      the image cannot be decoded"
    UNSAFE_XML = "unsafe-xml          error     failed      an office part declares a DTD or entities; refused"
    ZIP_BOMB = "zip-bomb            error     failed      an office part inflates far beyond any report"
    IMAGE_TOO_LARGE = "image-too-large     error     failed      the image has too many pixels to read"
    CHALLENGE_PAGE = "challenge-page      warning   -           the site answered with a bot-challenge page"
    NEEDS_LIBREOFFICE = "needs-libreoffice   warning   -           a DOC/WPS file needs LibreOffice, which is not installed"
    NEEDS_OCR = "needs-ocr           warning   -           pages or images without a text layer, read with OCR off"
    NOT_A_REPORT = "not-a-report        error     not_report  the title or the content says this is not an annual report (图解, 解读, 通知 …)"
    ABSURD_VALUE = "absurd-value        error     -           a cell prints a figure beyond any report's (a count past 2^63-1, an amount past 18 digits or 6 places): kept as printed, not as a value"
    NO_TABLES = "no-tables           warning   -           a report without any of its statistics tables"
    EXTRACT_TIMEOUT = "extract-timeout     error     failed      the worker took longer than its time limit"
    EXTRACT_OOM = "extract-oom         error     failed      the worker needed more memory than its limit, or died"
    EXTRACT_ERROR = "extract-error       error     failed      a reader failed on this document (a bug)"
    VALIDATOR_ERROR = "validator-error     warning   -           the validator failed on the extracted record"

    def __init__(self, row: str) -> None:
        id, severity, outcome, meaning = row.split(maxsplit=3)
        if severity not in get_args(Severity) or outcome not in (*get_args(Outcome), "-"):
            raise ValueError(f"extract/findings.py: a bad row for {id}: {row!r}")
        self.id = id
        self.severity: Severity = cast(Severity, severity)
        self.outcome: Outcome | None = None if outcome == "-" else cast(Outcome, outcome)
        self.meaning = meaning

    @classmethod
    def of(cls, id: str) -> Findings:
        """The finding with this id; an unknown id is a bug and raises KeyError."""
        for member in cls:
            if member.id == id:
                return member
        raise KeyError(f"{id!r} is no extraction finding (see extract/findings.py)")


def ids_with_outcome(outcome: Outcome) -> frozenset[str]:
    return frozenset(member.id for member in Findings if member.outcome == outcome)
