"""OCR leaves nothing behind: onnxruntime's telemetry would write a session file
(`.ses`) into $TMPDIR on first use (and send events); it is turned off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sandbox.corpus import CORPUS_DIR

PROJECT = Path(__file__).resolve().parents[1]


def test_ocr_writes_nothing_into_tmpdir(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "ORT_DISABLE_TELEMETRY"}
    result = subprocess.run([sys.executable, "-m", "nianbao", "extract", "--json", "--no-validate",
                             str(CORPUS_DIR / "changchun-health-2023-cover.png")],
                            cwd=PROJECT, capture_output=True, text=True, timeout=600, check=False,
                            env={**env, "TMPDIR": str(scratch)})
    record = json.loads(result.stdout)
    assert record["provenance"]["ocr_pages"], "the document was read by OCR"
    assert sorted(p.name for p in scratch.iterdir()) == []
