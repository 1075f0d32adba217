"""The documentation pages: the format copy, the benchmark report, one place for the figures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchmarks.report import BEGIN, END, ReportError, load_results, render, replace_block

REPO = Path(__file__).resolve().parents[1]
SHARED_FORMAT = REPO.parent / "shared" / "spec" / "FORMAT.md"
# A measured figure: a ratio (7.1×), a rate (cells/s, reports/s), a per-page or per-response time.
FIGURE = re.compile(r"\d\.\d+\s*×|\d[\d,.]*\s*(cells/s|reports/s|ms per|ms / |s per (scanned )?page)")


def test_docs_format_is_the_shared_spec() -> None:
    if not SHARED_FORMAT.is_file():
        pytest.skip(f"no shared spec beside the repository at {SHARED_FORMAT}")
    assert (REPO / "docs" / "format.md").read_text(encoding="utf-8") == SHARED_FORMAT.read_text(encoding="utf-8")


def test_the_readme_is_short_and_keeps_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    assert "make demo" in readme and "make test" in readme


@pytest.mark.parametrize("page", ["README.md", "CONTRIBUTING.md", *sorted(
    p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md") if p.name not in ("benchmarks.md", "format.md"))])
def test_no_page_but_benchmarks_quotes_a_measured_figure(page: str) -> None:
    quoted = [line for line in (REPO / page).read_text(encoding="utf-8").splitlines()
              if FIGURE.search(line) and "≤" not in line and "target" not in line]
    assert not quoted, f"{page} quotes figures; they belong in docs/benchmarks.md:\n" + "\n".join(quoted)


def test_relative_links_of_the_pages_resolve() -> None:
    others = {"docs/configuration.md", "docs/findings.md", "docs/adding-a-site.md", "docs/adding-a-cms-family.md"}
    broken = []
    for page in [REPO / "README.md", REPO / "CONTRIBUTING.md", *(REPO / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", page.read_text(encoding="utf-8")):
            resolved = (page.parent / target).resolve()
            if not resolved.is_file() and resolved.relative_to(REPO).as_posix() not in others:
                broken.append(f"{page.name} → {target}")
    assert not broken, broken


def _result(tmp_path: Path, name: str, figures: list[dict]) -> None:
    (tmp_path / f"{name}.json").write_text(json.dumps(
        {"benchmark": name, "seconds": 3.5, "at": "2026-12-01T22:00:00", "figures": figures}), encoding="utf-8")


def test_the_benchmark_report_replaces_only_the_generated_table(tmp_path: Path) -> None:
    _result(tmp_path, "load", [{"name": "postgres bulk_load", "value": 173525, "unit": "cells/s",
                                "target": ">= 100000"}, {"name": "bulk_load / plain COPY", "value": 0.194, "unit": "ratio"}])
    page = f"# Benchmarks\n\nprose\n\n{BEGIN}\nold | table\n{END}\n\nafter\n"
    written = replace_block(page, render(load_results(tmp_path)))
    assert written.startswith("# Benchmarks\n\nprose\n\n") and written.endswith(f"{END}\n\nafter\n")
    assert "old | table" not in written
    assert "| load | postgres bulk_load | 173,525 | cells/s | >= 100000 |  |" in written
    assert "| load | bulk_load / plain COPY | 0.194 | ratio |  |  |" in written
    assert "load at 2026-12-01T22:00:00 (3.5 s)" in written


def test_the_benchmark_report_keeps_the_rows_of_a_benchmark_not_run_again(tmp_path: Path) -> None:
    _result(tmp_path, "load", [{"name": "postgres bulk_load", "value": 1, "unit": "cells/s"}])
    page = f"# Benchmarks\n\n{BEGIN}\n\n| benchmark | figure | value | unit | target | note |\n|---|---|---|---|---|---|\n" \
           f"| crawl | responses per second | 42.3 | 1/s |  |  |\n| load | postgres bulk_load | 9 | cells/s |  |  |\n\n" \
           f"Measured: crawl at 2026-12-02T02:02:28 (170 s); load at 2026-11-30T00:00:00 (1 s).\n\n{END}\n"
    written = replace_block(page, render(load_results(tmp_path), page))
    assert "| crawl | responses per second | 42.3 | 1/s |  |  |" in written
    assert "| load | postgres bulk_load | 1 | cells/s |  |  |" in written and "| 9 |" not in written
    assert "Measured: crawl at 2026-12-02T02:02:28 (170 s); load at 2026-12-01T22:00:00 (3.5 s)." in written


def test_a_partial_run_replaces_only_the_figures_it_measured(tmp_path: Path) -> None:
    (tmp_path / "extract.json").write_text(json.dumps(
        {"benchmark": "extract", "seconds": 9, "at": "2026-12-02T12:00:00", "partial": "kinds fax",
         "figures": [{"name": "degraded fax: cells right", "value": 0.999, "unit": "fraction"},
                     {"name": "degraded fax: new figure", "value": 2, "unit": ""}]}), encoding="utf-8")
    page = f"# Benchmarks\n\n{BEGIN}\n\n| benchmark | figure | value | unit | target | note |\n|---|---|---|---|---|---|\n" \
           f"| extract | degraded speckle: cells right | 0.995 | fraction |  |  |\n" \
           f"| extract | degraded fax: cells right | 0.922 | fraction |  |  |\n\n" \
           f"Measured: extract at 2026-12-01T00:00:00 (497 s).\n\n{END}\n"
    written = replace_block(page, render(load_results(tmp_path), page))
    rows = [line for line in written.splitlines() if line.startswith("| extract")]
    assert rows == ["| extract | degraded speckle: cells right | 0.995 | fraction |  |  |",
                    "| extract | degraded fax: cells right | 0.999 | fraction |  |  |",
                    "| extract | degraded fax: new figure | 2 |  |  |  |"]
    assert "extract at 2026-12-02T12:00:00 (9 s), kinds fax" in written


def test_the_extract_benchmark_says_what_its_environment_left_out(monkeypatch) -> None:
    from benchmarks import bench_extract

    monkeypatch.delenv("NIANBAO_BENCH_EXTRACT_ONLY", raising=False)
    monkeypatch.delenv("NIANBAO_BENCH_EXTRACT_KINDS", raising=False)
    assert bench_extract.partial() is None
    monkeypatch.setenv("NIANBAO_BENCH_EXTRACT_ONLY", "scans")
    monkeypatch.setenv("NIANBAO_BENCH_EXTRACT_KINDS", "fax")
    assert bench_extract.partial() == "degraded scans only, kinds fax"


def test_the_benchmark_report_refuses_missing_results_and_markers(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="make bench"):
        load_results(tmp_path)
    (tmp_path / "broken.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ReportError, match="not a benchmark result"):
        load_results(tmp_path)
    with pytest.raises(ReportError, match="markers"):
        replace_block("# no markers\n", "table")


def test_docs_benchmarks_has_the_markers_once() -> None:
    page = (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert page.count(BEGIN) == 1 and page.count(END) == 1 and page.index(BEGIN) < page.index(END)
