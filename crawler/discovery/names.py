"""The file name a download announces in Content-Disposition, however the server spelled it:
RFC 5987 `filename*=UTF-8''…`, a raw UTF-8 or GBK `filename="…"`, or a %-encoded name in
UTF-8 or GBK."""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_to_bytes

_FILENAME_STAR = re.compile(r"filename\*\s*=\s*([\w-]+)'[\w-]*'([^;]+)", re.IGNORECASE)
_FILENAME = re.compile(r'filename\s*=\s*"?([^";]+)"?', re.IGNORECASE)
_ENCODINGS = ("utf-8", "gb18030")


def disposition_filename(raw: bytes | str | None) -> str:
    """The file name in a Content-Disposition header value (bytes as received), or ""."""
    if not raw:
        return ""
    data = raw.encode("latin-1", "replace") if isinstance(raw, str) else raw
    star = _FILENAME_STAR.search(data.decode("latin-1"))
    if star:
        charset = star.group(1) or "utf-8"
        try:
            return unquote(star.group(2).strip().strip('"'), encoding=charset, errors="strict")
        except (LookupError, UnicodeDecodeError):
            return _decode(unquote_to_bytes(star.group(2).strip().strip('"')))
    plain = _FILENAME.search(_decode(data))
    if not plain:
        return ""
    name = plain.group(1).strip()
    return _decode(unquote_to_bytes(name)) if "%" in name else name


def _decode(data: bytes) -> str:
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")
