"""The package layers of shared/DESIGN.md, read from the code with `ast`.

Floors (imports only point down):

1. `report` — imports no other project package, and does no I/O.
2. `extract`, `crawler`, `warehouse` — each imports only `report`; the three
   never import one another.
3. `nianbao`, `sandbox` — may import `report`, `extract`, `crawler`, `warehouse`,
   never `dags`. They share a floor, so one direction only, to keep the graph
   acyclic: `sandbox` (the local replica of the portals) never imports the
   application `nianbao`; `nianbao` imports `sandbox` only in `nianbao/demo.py`,
   which starts the replica for `make demo` (the application itself never needs it).
4. `dags` — imports only `nianbao` (and the Airflow SDK): the stage functions,
   never the floor-2 packages nor the sandbox directly.

`benchmarks` is tooling beside the floors (like `tests`): anything but `dags`.

Inside a package the modules import one another without a cycle: a cycle only works
while one of its imports hides inside a function, and breaks when it moves to the top.
Imports under TYPE_CHECKING never run, so they are left out of this one check: they are
how two modules name each other's types.

Every import counts: at module level, inside functions, under TYPE_CHECKING, and
`importlib.import_module("…")` with a literal name. Also checked here: the Scrapy
settings turn off the telnet console and remote control, and no source file
hard-codes a package-registry host or an absolute path of this machine.
"""

from __future__ import annotations

import ast
import graphlib
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLOOR_2 = {"extract", "crawler", "warehouse"}
ALLOWED: dict[str, set[str]] = {
    "report": set(),
    "extract": {"report"},
    "crawler": {"report"},
    "warehouse": {"report"},
    "nianbao": {"report", *FLOOR_2},
    "sandbox": {"report", *FLOOR_2},
    "dags": {"nianbao"},
    "benchmarks": {"report", *FLOOR_2, "nianbao", "sandbox"},
}
PROJECT_PACKAGES = set(ALLOWED)
# (file, package) pairs allowed across a floor's siblings; see the module docstring.
SIDEWAYS = {("nianbao/demo.py", "sandbox")}

# Modules whose import means I/O (network, database, processes, files on disk).
IO_MODULES = {
    "requests", "httpx", "aiohttp", "urllib3", "urllib.request", "http.client", "socket", "ssl",
    "sqlite3", "sqlalchemy", "psycopg", "psycopg2", "subprocess", "shutil", "tempfile", "glob",
    "scrapy", "twisted", "pypdfium2", "docx", "openpyxl",
}
# Calls that read or write files: open(…), Path.read_text(), …
IO_CALLS = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "iterdir", "glob", "rglob",
            "mkdir", "unlink", "rmdir", "touch", "urlopen"}

REGISTRY_HOSTS = (
    "pypi.org", "pypi.python.org", "files.pythonhosted.org", "registry.npmjs.org", "registry.yarnpkg.com",
    "proxy.golang.org", "sum.golang.org", "crates.io", "static.crates.io", "index.crates.io",
    "registry-1.docker.io", "index.docker.io", "hub.docker.com", "ghcr.io", "quay.io",
    "deb.debian.org", "security.debian.org", "archive.ubuntu.com", "conda.anaconda.org",
    "repo.anaconda.com", "repo.maven.apache.org", "rubygems.org", "mirrors.aliyun.com",
    "pypi.tuna.tsinghua.edu.cn", "mirrors.tuna.tsinghua.edu.cn", "pypi.douban.com",
)


@dataclass(frozen=True)
class Import:
    module: str
    file: str
    line: int

    @property
    def package(self) -> str:
        return self.module.split(".")[0]


def python_files(package: str) -> list[Path]:
    return sorted(path for path in (ROOT / package).rglob("*.py") if ".venv" not in path.parts)


def imports_in(source: str, file: str, package: str) -> Iterator[Import]:
    """Every module the source imports, wherever the import statement stands."""
    for node in ast.walk(ast.parse(source, filename=file)):
        if isinstance(node, ast.Import):
            yield from (Import(alias.name, file, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield Import(package if node.level else node.module or "", file, node.lineno)
        elif (isinstance(node, ast.Call) and _called_name(node) in {"import_module", "__import__"}
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            yield Import(node.args[0].value, file, node.lineno)


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


@cache
def package_imports(package: str) -> tuple[Import, ...]:
    found: list[Import] = []
    for path in python_files(package):
        file = path.relative_to(ROOT).as_posix()
        found.extend(imports_in(path.read_text(encoding="utf-8"), file, package))
    return tuple(found)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_import_names(source: str, module: str, is_package: bool) -> Iterator[str]:
    """Every module name an import statement that can run names (TYPE_CHECKING blocks left out):
    `from a import b` names both `a` and `a.b` (b may be a submodule)."""
    def visit(node: ast.AST) -> Iterator[str]:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from visit(child)
            return
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            yield from visit(child)

    yield from visit(ast.parse(source))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[: len(parts) - node.level + 1]
    return ".".join([*parts, node.module] if node.module else parts)


def import_graph(sources: dict[str, tuple[str, bool]]) -> dict[str, set[str]]:
    """module → the modules of the same top-level package it imports; sources: module → (code, is package)."""
    def known(name: str) -> str | None:
        while name and name not in sources:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, (code, is_package) in sources.items():
        targets = {known(name) for name in runtime_import_names(code, module, is_package)}
        graph[module] = {t for t in targets if t and t != module and t.split(".")[0] == module.split(".")[0]}
    return graph


def import_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def test_the_cycle_finder_sees_a_cycle_through_a_function_level_and_a_relative_import() -> None:
    sources = {
        "pkg": ("", True),
        "pkg.readers": ("", True),
        "pkg.readers.pdf": ("def rows():\n    from pkg.readers.grid import page_rows\n", False),
        "pkg.readers.grid": ("from .pdf import _lines\n", False),
        "pkg.readers.text": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.readers.ocr import x\n",
                             False),
        "pkg.readers.ocr": ("from pkg.readers import text\n", False),
    }
    cycle = import_cycle(import_graph(sources))
    assert cycle is not None and set(cycle) == {"pkg.readers.pdf", "pkg.readers.grid"}
    del sources["pkg.readers.grid"]
    assert import_cycle(import_graph(sources)) is None   # the TYPE_CHECKING import makes no cycle


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_no_import_cycle_inside_a_package(package: str) -> None:
    sources = {module_name(path): (path.read_text(encoding="utf-8"), path.name == "__init__.py")
               for path in python_files(package)}
    cycle = import_cycle(import_graph(sources))
    assert cycle is None, f"import cycle in {package}: {' → '.join(cycle or [])}"


def test_the_import_reader_sees_imports_in_functions_relative_and_dynamic() -> None:
    source = (
        "import report.labels\n"
        "from . import sibling\n"
        "def later():\n"
        "    from crawler.registry import load_registry\n"
        "    import importlib\n"
        "    return importlib.import_module('warehouse.load')\n"
        "if TYPE_CHECKING:\n"
        "    from extract import model\n"
    )
    found = {(i.module, i.line) for i in imports_in(source, "x.py", "sandbox")}
    assert found == {("report.labels", 1), ("sandbox", 2), ("crawler.registry", 4), ("importlib", 5),
                     ("warehouse.load", 6), ("extract", 8)}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_point_down(package: str) -> None:
    assert python_files(package), f"no Python files found in {package}/"
    wrong = [f"{i.file}:{i.line} imports {i.module}" for i in package_imports(package)
             if i.package in PROJECT_PACKAGES and i.package != package
             and i.package not in ALLOWED[package] and (i.file, i.package) not in SIDEWAYS]
    assert not wrong, f"{package} may import only {sorted(ALLOWED[package]) or 'no project package'}:\n" + "\n".join(
        wrong)


def test_the_sideways_exceptions_are_still_needed() -> None:
    """An exception nobody uses any more is removed, so it cannot hide a new import."""
    used = {(i.file, i.package) for package in ALLOWED for i in package_imports(package)}
    assert not SIDEWAYS - used, f"unused exceptions: {SIDEWAYS - used}"


def test_report_imports_no_io_module() -> None:
    wrong = [f"{i.file}:{i.line} imports {i.module}" for i in package_imports("report")
             if i.module in IO_MODULES or i.package in IO_MODULES or i.package == "os"]
    assert not wrong, "report is pure (no I/O):\n" + "\n".join(wrong)


def test_report_reads_and_writes_no_file() -> None:
    wrong = []
    for path in python_files("report"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _called_name(node) in IO_CALLS:
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {_called_name(node)}()")
    assert not wrong, "report is pure (no I/O):\n" + "\n".join(wrong)


def test_the_crawl_settings_turn_off_the_telnet_console_and_remote_control() -> None:
    from scrapy.settings import Settings
    from scrapy.utils.conf import build_component_list

    from crawler.settings import fast_settings

    for overrides in ({}, fast_settings()):  # as `python -m crawler crawl` builds them, with and without --fast
        settings = Settings()
        settings.setmodule("crawler.settings", priority="project")
        settings.setdict(overrides, priority="cmdline")
        assert settings.getbool("TELNETCONSOLE_ENABLED") is False
        assert settings.getbool("REMOTE_CONTROL_ENABLED") is False
        extensions = build_component_list(settings.getwithbase("EXTENSIONS"))
        assert "scrapy.extensions.telnet.TelnetConsole" not in extensions
        assert "scrapy.extensions.remote_control.RemoteControl" not in extensions


def source_files() -> list[Path]:
    """The project's own source and configuration, tests and the generated corpus left out.

    Dockerfile and docker-compose.yml are left out of the machine-path check only:
    their absolute paths name the container's file system, not this machine's.
    """
    files = [path for package in sorted(PROJECT_PACKAGES) for path in python_files(package)]
    files += sorted((ROOT / "sources").glob("*.yaml"))
    files += [ROOT / name for name in ("pyproject.toml", "Makefile", "scrapy.cfg", "alembic.ini", ".ci/run",
                                       ".gitignore", ".dockerignore")]
    files += [path for path in (ROOT / "warehouse").rglob("*") if path.suffix in {".ini", ".mako", ".sql"}]
    return [path for path in files if path.is_file()]


CONTAINER_FILES = [ROOT / "Dockerfile", ROOT / "docker-compose.yml"]


def test_no_source_names_a_package_registry_host() -> None:
    pattern = re.compile(r"(?<![\w.-])(" + "|".join(re.escape(host) for host in REGISTRY_HOSTS) + r")(?![\w-])",
                         re.IGNORECASE)
    wrong = [f"{path.relative_to(ROOT)}:{number}: {match.group(1)}"
             for path in source_files() + [p for p in CONTAINER_FILES if p.is_file()]
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             for match in pattern.finditer(line)]
    assert not wrong, "registry host names in the project:\n" + "\n".join(wrong)


def machine_paths() -> list[str]:
    """Absolute directories of this machine: the checkout and its parent, the home and temp directories."""
    candidates = {ROOT, ROOT.parent, Path.home(), Path(tempfile.gettempdir()), Path("/tmp")}
    return sorted({str(path) for path in candidates if str(path) != "/"}, key=len, reverse=True)


def test_no_source_hard_codes_an_absolute_path_of_this_machine() -> None:
    pattern = re.compile(r"(?<![\w.~-])(" + "|".join(re.escape(p) for p in machine_paths()) + r")(?=/|\b)")
    files = source_files()
    assert len(files) > 50, "the source list looks empty"
    wrong = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in files
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line)]
    assert not wrong, "absolute paths of this machine (use Path(__file__) or settings):\n" + "\n".join(wrong)


# The warehouse's ORM schema is its own business: the stages call warehouse functions
# (warehouse.facts, .operational, .session, .load), never query warehouse.models themselves.
SCHEMA_MODULE = "warehouse.models"
SCHEMA_FORBIDDEN_IN = ("nianbao/stages/",)


def test_the_stages_do_not_import_the_warehouse_schema() -> None:
    wrong = [f"{i.file}:{i.line} imports {i.module}" for i in package_imports("nianbao")
             if (i.module == SCHEMA_MODULE or i.module.startswith(SCHEMA_MODULE + "."))
             and i.file.startswith(SCHEMA_FORBIDDEN_IN)]
    assert not wrong, "the warehouse owns its SQL; use its functions:\n" + "\n".join(wrong)


def reads_the_environment(node: ast.AST) -> bool:
    """os.environ[…], os.environ.get(…), os.getenv(…), environ.get(…), getenv(…)."""
    text = ast.unparse(node) if isinstance(node, (ast.Call, ast.Subscript)) else ""
    return bool(re.match(r"(os\.)?(environ(\.get)?|getenv)\b", text))


def test_only_the_settings_module_reads_nianbao_variables() -> None:
    """One home for every setting: nianbao/settings.py (tests and benchmarks aside)."""
    wrong = []
    for package in sorted(PROJECT_PACKAGES - {"benchmarks"}):
        for path in python_files(package):
            file = path.relative_to(ROOT).as_posix()
            if file == "nianbao/settings.py":
                continue
            source = path.read_text(encoding="utf-8")
            for node in ast.walk(ast.parse(source)):
                if reads_the_environment(node) and "NIANBAO_" in ast.unparse(node):
                    wrong.append(f"{file}:{node.lineno}: {ast.unparse(node)}")
                if isinstance(node, ast.keyword) and node.arg == "envvar":
                    wrong.append(f"{file}:{node.value.lineno}: envvar={ast.unparse(node.value)}")
    assert not wrong, "NIANBAO_ variables are read only by nianbao/settings.py:\n" + "\n".join(wrong)


def test_the_environment_check_sees_each_form() -> None:
    tree = ast.parse('os.environ.get("NIANBAO_X")\nos.getenv("NIANBAO_Y", "1")\nos.environ["NIANBAO_Z"]\n'
                     'settings.get("NIANBAO_DATA_DIR")\n')
    found = {ast.unparse(n) for n in ast.walk(tree) if reads_the_environment(n) and "NIANBAO_" in ast.unparse(n)}
    assert found == {"os.environ.get('NIANBAO_X')", "os.getenv('NIANBAO_Y', '1')", "os.environ['NIANBAO_Z']"}
