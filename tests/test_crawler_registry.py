"""The source registry: every committed entry validates; errors name their file and line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.registry import load_registry, resolve_url

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
- id: sandbox-hongze
  agency: 淮安市洪泽区人民政府
  region_code: "320813"
  level: county
  kind: government
  family: trs
  list_urls: ["{sandbox}/hongze/xxgk/xxgknb/index.html"]
  expected: true
  first_year: 2020
  allow_private: true
  verified: true
  overrides: {}
"""


def test_committed_registry_is_valid() -> None:
    registry = load_registry(ROOT / "sources")
    assert registry.errors == []
    ids = {source.id for source in registry.sources}
    assert len(ids) == len(registry.sources)
    real = [s for s in registry.sources if not s.id.startswith("sandbox-")]
    assert len(real) >= 30 and all(not s.verified and not s.allow_private for s in real)
    assert all(s.allow_private for s in registry.sources if s.id.startswith("sandbox-"))


def test_every_real_entry_lives_on_a_government_host() -> None:
    registry = load_registry(ROOT / "sources")
    for source in registry.sources:
        if source.id.startswith("sandbox-"):
            continue
        for host in source.hosts(None):
            assert host.endswith(".gov.cn") or host.count(".") == 2 and host.split(".")[1] == "gov", host


def test_errors_carry_file_and_line(tmp_path: Path) -> None:
    bad = GOOD + """\
- id: Bad_Id
  agency: 某局
  region_code: "3208"
  level: city
  kind: department
  family: trs
  list_urls: ["ftp://example.gov.cn/"]
  first_year: 2020
  surprise: 1
"""
    (tmp_path / "a.yaml").write_text(bad, encoding="utf-8")
    registry = load_registry(tmp_path)
    assert [s.id for s in registry.sources] == ["sandbox-hongze"]
    where = {(e.line, e.message.split(":")[0]) for e in registry.errors}
    assert (13, "id") in where
    assert (15, "region_code") in where
    assert (16, "level") in where
    assert (19, "list_urls") in where
    assert (21, "surprise") in where
    assert all(e.file.endswith("a.yaml") for e in registry.errors)


def test_duplicate_ids_and_broken_yaml_are_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "c.yaml").write_text("- id: x\n  agency: [unclosed\n", encoding="utf-8")
    registry = load_registry(tmp_path)
    messages = [str(e) for e in registry.errors]
    assert any("b.yaml:1:" in m and "duplicate id" in m and "a.yaml:1" in m for m in messages)
    assert any("c.yaml:" in m and "YAML" in m for m in messages)


def test_sandbox_placeholder_needs_a_url() -> None:
    assert resolve_url("{sandbox}/a/index.html", "http://127.0.0.1:9/") == "http://127.0.0.1:9/a/index.html"
    with pytest.raises(ValueError, match="sandbox URL"):
        resolve_url("{sandbox}/a/index.html", None)


def test_sources_check_command_reports_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(GOOD.replace("level: county", "level: galaxy"), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "nianbao", "sources", "check", "--sources-dir", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 1
    assert f"{tmp_path / 'x.yaml'}:4: [sandbox-hongze] level:" in result.stderr
    ok = subprocess.run([sys.executable, "-m", "nianbao", "sources", "check"], capture_output=True, text=True,
                        cwd=ROOT, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert " 0 errors" in ok.stdout


def test_crawl_refuses_unknown_ids_and_sandbox_without_url(tmp_path: Path) -> None:
    for ids, message in ((["no-such-source"], "unknown source id(s): no-such-source"),
                         (["sandbox-hongze"], "need --sandbox-url")):
        result = subprocess.run([sys.executable, "-m", "crawler", "crawl", *ids, "--data-dir", str(tmp_path)],
                                capture_output=True, text=True, cwd=ROOT, timeout=60,
                                env={k: v for k, v in os.environ.items() if k != "NIANBAO_SANDBOX_URL"})
        assert result.returncode == 2 and message in result.stderr
    assert not (tmp_path / "crawl").exists()


def test_crawl_refuses_a_registry_with_errors_naming_file_and_line(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "a.yaml").write_text(GOOD + '- id: Bad_Id\n  agency: 某局\n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "crawler", "crawl", "sandbox-hongze", "--data-dir",
                             str(tmp_path / "data"), "--sources-dir", str(sources), "--sandbox-url", "http://127.0.0.1:9"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"{sources / 'a.yaml'}:" in result.stderr and "the source registry has errors" in result.stderr
    assert not (tmp_path / "data").exists()
