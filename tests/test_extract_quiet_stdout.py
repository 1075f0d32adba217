"""No library writes to our stdout: whatever a reader's library prints — through
`sys.stdout` or straight to file descriptor 1 — goes to the log, and
`nianbao extract --json` stays one JSON record per line (xlrd, for one, prints its
warnings about corrupt OLE files to stdout)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sandbox.corpus import CORPUS_DIR
from tests.fixtures.workers import PatchWorkers

PROJECT = Path(__file__).resolve().parents[1]
# Each reader's library call, and a document that makes the reader call it.
LIBRARY_CALLS = {
    "pypdfium2:PdfDocument": "chanhe-industry-2024-reportlab-pdf.pdf",
    "pdfplumber:open": "chanhe-industry-2024-reportlab-pdf.pdf",
    "lxml.html:document_fromstring": "chanhe-industry-2023-html.html",
    "docx:Document": "changchun-health-2022-docx.docx",
    "openpyxl:load_workbook": "lueyang-land-2022-xlsx.xlsx",
    "xlrd:open_workbook": "lg-health-2023-xls.xls",
    "rapidocr_onnxruntime:RapidOCR": "changchun-health-2023-cover.png",
}
CHATTY = """
    import importlib, os, sys

    def chatty(module_name, attribute):
        module = importlib.import_module(module_name)
        original = getattr(module, attribute)

        def call(*args, **kwargs):
            print(f"CHATTER {module_name}.{attribute} via sys.stdout")
            sys.stdout.flush()
            os.write(1, f"CHATTER {module_name}.{attribute} via fd 1\\n".encode())
            return original(*args, **kwargs)

        setattr(module, attribute, call)

    for target in TARGETS:
        chatty(*target.split(":"))
    if "pdfplumber:open" in TARGETS:   # pdfplumber reads what pdfium's table reading gives up on
        import extract.readers.pdf
        extract.readers.pdf.PDFIUM_TABLES = False
"""


def patch_chatter(patch_workers: PatchWorkers, targets: list[str]) -> None:
    patch_workers(f"TARGETS = {targets!r}\n" + textwrap.dedent(CHATTY))


def nianbao(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nianbao", *args], cwd=PROJECT, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_every_reader_library_printing_to_stdout_leaves_one_json_record_per_line(
        patch_workers: PatchWorkers) -> None:
    patch_chatter(patch_workers, list(LIBRARY_CALLS))
    files = [str(CORPUS_DIR / name) for name in dict.fromkeys(LIBRARY_CALLS.values())]
    result = nianbao("extract", "--json", "--no-validate", *files)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert [json.loads(line)["file"] for line in lines] == files, result.stdout[:2000]
    assert "CHATTER" not in result.stdout
    for target in LIBRARY_CALLS:
        name = target.replace(":", ".")
        for way in ("sys.stdout", "fd 1"):
            assert f"extraction worker: stdout: CHATTER {name} via {way}" in result.stderr, f"{name} not logged"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_chatter_is_logged_with_the_worker_not_lost(patch_workers: PatchWorkers, jobs: str) -> None:
    patch_chatter(patch_workers, ["lxml.html:document_fromstring"])
    page = str(CORPUS_DIR / "chanhe-industry-2023-html.html")
    result = nianbao("extract", "--json", "--no-validate", "-j", jobs, page, page, page)
    assert [json.loads(line)["file"] for line in result.stdout.splitlines()] == [page] * 3
    assert result.stderr.count("CHATTER lxml.html.document_fromstring via fd 1") == 3


@pytest.mark.slow
def test_harvest_output_has_no_library_chatter(patch_workers: PatchWorkers, sandbox_portal_factory,
                                               tmp_path: Path) -> None:
    portal = sandbox_portal_factory(sites=["hongze"])
    patch_chatter(patch_workers, ["pypdfium2:PdfDocument", "docx:Document", "lxml.html:document_fromstring"])
    data_dir = tmp_path / "var"
    env = {"NIANBAO_DATA_DIR": str(data_dir), "NIANBAO_WAREHOUSE_URL": f"sqlite:///{data_dir / 'warehouse.db'}",
           "NIANBAO_SANDBOX_URL": portal.url, "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "nianbao", "harvest", "-s", "sandbox-hongze", "--today",
                             "2025-04-15", "--fast"], cwd=PROJECT, capture_output=True, text=True, timeout=900,
                            check=False, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "documents processed" in result.stderr   # the harvest reports on stderr; stdout is for data
    assert "CHATTER" not in result.stdout
    assert "extraction worker: stdout: CHATTER pypdfium2.PdfDocument via fd 1" in result.stderr
