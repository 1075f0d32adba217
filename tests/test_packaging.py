"""What the wheel and the image ship: the application's packages with every file they read,
and not sandbox/ (the local portal replica and its corpus: development tooling, like
tests/ and benchmarks/, run from the checkout)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {"report", "extract", "crawler", "warehouse", "nianbao"}
KEPT_OUT = {"sandbox", "stack", "tests", "benchmarks", "dags"}
_SKIP_COPY = shutil.ignore_patterns(".git", ".venv", "var", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
                                    ".*_cache", ".hypothesis")


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The file list of the wheel built from a copy of the checkout (no network, no build isolation)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=_SKIP_COPY)
    build = ("import sys\nfrom setuptools import build_meta\n"
             "print(build_meta.build_wheel(sys.argv[1]))\n")
    done = subprocess.run([sys.executable, "-c", build, str(work / "out")], cwd=source, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    name = done.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(work / "out" / name) as wheel:
        return set(wheel.namelist())


def test_the_wheel_ships_the_application_packages_only(wheel_files: set[str]) -> None:
    tops = {name.split("/")[0] for name in wheel_files if not name.split("/")[0].endswith(".dist-info")}
    assert tops == SHIPPED
    assert not {name for name in wheel_files if name.split("/")[0] in KEPT_OUT}


def test_every_file_of_a_shipped_package_is_in_the_wheel(wheel_files: set[str]) -> None:
    """A package's data (migrations, templates, JSON) goes with its code, or the installed
    application fails where the checkout works."""
    missing = []
    for package in sorted(SHIPPED):
        for path in sorted((ROOT / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                name = path.relative_to(ROOT).as_posix()
                if name not in wheel_files:
                    missing.append(name)
    assert not missing, "files the wheel leaves out:\n" + "\n".join(missing)


def test_the_image_leaves_the_sandbox_out_too() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    copied = {part.rstrip("/") for line in dockerfile.splitlines() if line.startswith("COPY ")
              for part in line.split()[1:-1]}
    assert copied >= SHIPPED
    assert not copied & (KEPT_OUT - {"dags"})   # the image runs the DAGs; the wheel does not hold them
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")}
    assert {"sandbox", "tests", "benchmarks"} <= ignored
