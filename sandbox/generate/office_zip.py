"""Reproducible office files: rewrite a zip package with fixed entry times and dates.

python-docx and openpyxl stamp the zip entries (and openpyxl docProps/core.xml) with
the current time; the committed corpus must not change when regenerated.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

FIXED_ZIP_TIME = (2025, 1, 1, 8, 0, 0)
FIXED_W3CDTF = "2025-01-01T08:00:00Z"


def normalise_zip(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        entries = [(info.filename, archive.read(info.filename)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + FIXED_W3CDTF.encode(), data)
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
