"""The same PDF reads the same on every machine, whatever fonts it has installed.

A PDF that does not embed its CJK font (reportlab's STSong-Light, some WPS exports) is drawn
and, in pdfium, even decoded through the machine's fonts: without a CJK font its figures vanish
from pdfium's text. Such pages are read by pdfplumber (`relies_on_host_fonts`). The check runs
the extraction in a private mount namespace whose font folders are empty (root, as in CI).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from extract.readers.pdf import relies_on_host_fonts
from sandbox.corpus import CORPUS_DIR
from tests.fixtures.required import unavailable

REPO = Path(__file__).resolve().parents[1]
FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts")
# Text-layer PDFs of both kinds: STSong-Light not embedded (reportlab), fonts embedded (Word).
DOCUMENTS = ("chanhe-industry-2021-reportlab-pdf", "huaian-2020-reportlab-pdf",
             "changchun-health-2023-reportlab-pdf-landscape", "hongze-2024-word-pdf")
EXTRACT = """
import json, sys
from extract import extract_file
print(json.dumps({name: extract_file(f"{sys.argv[1]}/{name}.pdf", ocr=False).model_dump(mode="json")["cells"]
                  for name in sys.argv[2:]}))
"""


def test_a_page_in_a_font_the_pdf_does_not_embed_is_recognised() -> None:
    for name, expected in (("chanhe-industry-2021-reportlab-pdf", True), ("hongze-2024-word-pdf", False)):
        pdf = pdfium.PdfDocument(str(CORPUS_DIR / f"{name}.pdf"))
        try:
            assert any(relies_on_host_fonts(page) for page in pdf) is expected, name
        finally:
            pdf.close()


def without_fonts_command() -> list[str]:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        unavailable("hiding the machine's fonts needs root and unshare (a private mount namespace)")
    hide = " && ".join(f"mount -t tmpfs tmpfs {folder}" for folder in FONT_FOLDERS if Path(folder).is_dir())
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", f'{hide} && exec "$@"', "sh"]


def extracted(prefix: list[str]) -> dict[str, dict]:
    finished = subprocess.run([*prefix, sys.executable, "-c", EXTRACT, str(CORPUS_DIR), *DOCUMENTS], cwd=REPO,
                              capture_output=True, text=True, timeout=600, check=False)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return json.loads(finished.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_text_layer_pdfs_read_the_same_without_any_installed_font() -> None:
    hidden = without_fonts_command()
    probe = subprocess.run([*hidden, "fc-list"], capture_output=True, text=True, check=False)
    if probe.returncode not in (0, 127):
        unavailable(f"cannot hide the fonts here: {probe.stderr.strip()}")
    assert not probe.stdout.strip(), "the fonts were not hidden"
    with_fonts, without_fonts = extracted([]), extracted(hidden)
    for name in DOCUMENTS:
        truth = json.loads((CORPUS_DIR / f"{name}.truth.json").read_text(encoding="utf-8"))["record"]["cells"]
        assert without_fonts[name] == with_fonts[name], name
        assert len(without_fonts[name]) == len(truth), name
