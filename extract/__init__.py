"""Extraction: any document a crawl brings back → the canonical report record.

`extract_bytes` / `extract_file` run in-process; `extract_isolated` runs one
document in a worker process with a time and memory limit; `extract_many` runs
a pool of such workers.
"""

from __future__ import annotations

from extract.api import Hints, extract_bytes, extract_file
from extract.isolation import extract_isolated, extract_many
from extract.version import EXTRACTOR_VERSION as __version__

__all__ = ["Hints", "__version__", "extract_bytes", "extract_file", "extract_isolated", "extract_many"]
