"""Pages of a PDF rendered with the repository's pinned CJK fonts (sandbox/generate/fonts/).

pdfium draws a font the PDF does not embed (reportlab's STSong-Light CID font) with whatever
the host has: on a host without a CJK font every Chinese character comes out blank, and a
degraded scan made from such a rendering has lost its labels. Rendering goes through a child
process whose pdfium is initialised with the pinned fonts as its only user font path, so the
images are the same on every host and the parent's pdfium is left as it is.
Usage (the child): python -m sandbox.generate.render_pinned DPI < report.pdf > pages.npz
"""

from __future__ import annotations

import ctypes
import io
import subprocess
import sys
from pathlib import Path

import numpy as np

from sandbox.generate.fonts import FONT_DIR

ROOT = Path(__file__).resolve().parents[2]


def render_pages(pdf: bytes, dpi: int) -> list[np.ndarray]:
    """Every page of `pdf` as an RGB array at `dpi`, non-embedded CJK fonts drawn with the pinned ones."""
    done = subprocess.run([sys.executable, "-m", "sandbox.generate.render_pinned", str(dpi)], input=pdf,
                          capture_output=True, cwd=ROOT, check=False, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"rendering with the pinned fonts failed: {done.stderr.decode(errors='replace')[-2000:]}")
    with np.load(io.BytesIO(done.stdout)) as pages:
        return [pages[f"page{index}"] for index in range(len(pages.files))]


def _use_pinned_fonts() -> None:
    """Re-initialise this process's pdfium with the pinned fonts' folder as its user font path."""
    import pypdfium2.raw as pdfium_c
    from pypdfium2 import _library_scope
    from pypdfium2.internal import bases

    _library_scope.destroy_lib()
    folder = ctypes.create_string_buffer(str(FONT_DIR).encode())
    paths = (ctypes.POINTER(ctypes.c_char) * 2)()  # NULL-terminated: the second stays NULL
    paths[0] = ctypes.cast(folder, ctypes.POINTER(ctypes.c_char))
    config = pdfium_c.FPDF_LIBRARY_CONFIG(version=2, m_pUserFontPaths=paths, m_pIsolate=None, m_v8EmbedderSlot=0)
    pdfium_c.FPDF_InitLibraryWithConfig(config)
    bases.LIBRARY_AVAILABLE = True


def main(argv: list[str]) -> int:
    import pypdfium2 as pdfium

    _use_pinned_fonts()
    dpi = int(argv[0])
    document = pdfium.PdfDocument(sys.stdin.buffer.read())
    try:
        pages = {f"page{index}": np.asarray(document[index].render(scale=dpi / 72).to_pil().convert("RGB"))
                 for index in range(len(document))}
    finally:
        document.close()
    out = io.BytesIO()
    np.savez(out, **pages)  # type: ignore[arg-type]
    sys.stdout.buffer.write(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
