"""Every example command of README.md, CONTRIBUTING.md and docs/*.md runs in a fresh clone.

The `sh` and `console` blocks are run in a `git clone` of this repository (reusing this
worktree's .venv) whose `var/warehouse.db` the demo's flow made from one sandbox site. A block
preceded by `<!-- not-run: reason -->` is reported as skipped with its reason. In a `console`
block the `$ ` lines are the commands; `$ echo $?` and a number after a command is its exit status.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = ["README.md", "CONTRIBUTING.md", *sorted(p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\s*$")
NOT_RUN = re.compile(r"^<!--\s*not-run:\s*(.*?)\s*-->\s*$")
BLOCK_TIMEOUT_S = 300


@dataclass
class Command:
    line: str
    status: int = 0          # the exit status the block documents


@dataclass
class Block:
    where: str               # page:line of the opening fence
    language: str
    commands: list[Command]
    not_run: str | None

    def __str__(self) -> str:
        return self.where


def blocks_of(text: str, page: str) -> list[Block]:
    """The sh/console blocks of a Markdown page."""
    found, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        opener = FENCE.match(lines[i])
        if not opener:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        language, body = opener.group(1), lines[i + 1:end]
        if language in ("sh", "console"):
            previous = lines[i - 1] if i else ""
            reason = NOT_RUN.match(previous)
            commands = console_commands(body) if language == "console" else sh_commands(body)
            found.append(Block(f"{page}:{i + 1}", language, commands, reason.group(1) if reason else None))
        i = end + 1
    return found


def sh_commands(body: list[str]) -> list[Command]:
    script = "\n".join(body).replace("\\\n", " ")
    return [Command(line) for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def console_commands(body: list[str]) -> list[Command]:
    commands: list[Command] = []
    for n, line in enumerate(body):
        if not line.startswith("$ "):
            continue
        command = line[2:]
        if command.strip() == "echo $?" and commands:
            commands[-1].status = int(body[n + 1].strip())
        else:
            commands.append(Command(command))
    return commands


def all_blocks() -> list[Block]:
    return [block for page in PAGES for block in blocks_of((REPO / page).read_text(encoding="utf-8"), page)]


def run_block(block: Block, cwd: Path, env: dict[str, str]) -> list[str]:
    """Run each command in `cwd`; the problems (wrong exit status) as readable lines."""
    problems = []
    for command in block.commands:
        done = subprocess.run(["bash", "-o", "pipefail", "-c", command.line], cwd=cwd, env=env, text=True,
                              capture_output=True, timeout=BLOCK_TIMEOUT_S, stdin=subprocess.DEVNULL)
        if done.returncode != command.status:
            problems.append(f"{block}: `{command.line}` exited {done.returncode}, documented {command.status}\n"
                            f"{done.stdout[-1500:]}{done.stderr[-1500:]}")
    return problems


# ---------------------------------------------------------------- the clone
@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone of this repository's HEAD, this worktree's .venv, a demo-like warehouse."""
    where = tmp_path_factory.mktemp("clone") / "nianbao"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(where)], check=True, timeout=300)
    venv = Path(sys.prefix)
    (where / ".venv").mkdir()
    for part in venv.iterdir():   # the venv's parts, but its own stamp: `make setup` has nothing to do
        if part.name != ".installed":
            (where / ".venv" / part.name).symlink_to(part)
    (where / ".venv" / ".installed").touch()
    code = ("from pathlib import Path; from nianbao import demo; "
            "raise SystemExit(demo.run(Path('var'), Path('sources'), sites=['hongze']))")
    made = subprocess.run([sys.executable, "-c", code], cwd=where, env=clean_env(where), text=True,
                          capture_output=True, timeout=900)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    return where


def clean_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NIANBAO_", "VIRTUAL_ENV", "PYTEST_"))}
    env["PATH"] = f"{root / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(root)
    # the clone's own home (its demo warehouse), never the machine user's ~/.local/share/nianbao
    env["NIANBAO_HOME"] = str(root / "var")
    return env


@pytest.mark.slow
@pytest.mark.xdist_group("docs-clone")   # one clone and one demo warehouse, not one per worker
@pytest.mark.parametrize("block", all_blocks(), ids=str)
def test_documented_commands_run_in_a_fresh_clone(block: Block, clone: Path) -> None:
    if block.not_run is not None:
        assert block.not_run, f"{block}: a not-run block must say why"
        pytest.skip(f"{block}: not-run: {block.not_run}")
    assert block.commands, f"{block}: an empty {block.language} block"
    problems = run_block(block, clone, clean_env(clone))
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- the runner itself
PAGE = """Intro
```sh
true   # a comment
echo one \\
  two
```
<!-- not-run: a server -->
```console
$ sleep 1000
```
```console
$ false
output
$ echo $?
1
$ exit 3
```
```text
not a command
```
"""


def test_blocks_are_read_with_their_commands_statuses_and_reasons() -> None:
    sh, server, console = blocks_of(PAGE, "page.md")
    assert [c.line for c in sh.commands] == ["true   # a comment", "echo one    two"]
    assert server.not_run == "a server" and sh.not_run is None
    assert [(c.line, c.status) for c in console.commands] == [("false", 1), ("exit 3", 0)]
    assert console.where == "page.md:11"


def test_a_broken_command_is_reported(tmp_path: Path) -> None:
    console = blocks_of(PAGE, "page.md")[2]
    problems = run_block(console, tmp_path, dict(os.environ))
    assert len(problems) == 1 and "`exit 3` exited 3, documented 0" in problems[0]


def test_every_page_has_runnable_commands_and_not_run_blocks_say_why() -> None:
    blocks = all_blocks()
    assert any(b.where.startswith("README.md") and b.not_run is None for b in blocks)
    assert all(b.not_run for b in blocks if b.not_run is not None)
