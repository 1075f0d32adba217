"""Extraction: any document a crawl brings back → the canonical report record.

`extract_bytes` / `extract_file` run in-process; `extract_isolated` runs one
document in a worker process with a time and memory limit; `extract_many` runs
a pool of such workers.
"""

from __future__ import annotations

__version__ = "0.1.0"

from extract.api import Hints, extract_bytes, extract_file  # noqa: E402
from extract.isolation import extract_isolated, extract_many  # noqa: E402

__all__ = ["Hints", "__version__", "extract_bytes", "extract_file", "extract_isolated", "extract_many"]
