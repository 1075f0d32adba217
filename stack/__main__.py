"""`python -m stack check` (what `make stack` runs) and `python -m stack up`."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from stack.check import SOURCES, run_check
from stack.cluster import Cluster, StackError


def check(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir or tempfile.mkdtemp(prefix="nianbao-stack-"))
    result = run_check(run_dir, sources=args.sources, kill_worker=not args.no_kill, timeout=args.timeout,
                       shared_data=args.shared_data)
    killed = result.killed or {}
    print(f"run: {result.state} in {result.seconds:.0f} s; logs in {run_dir / 'stack'}")
    print(f"killed mid-extract: {killed.get('worker', 'nothing (no extract was caught running)')}")
    print(f"listening: {', '.join(sorted(result.listening))}")
    print(f"warehouse equals `nianbao harvest`: {result.same_warehouse}")
    if not result.same_warehouse:
        print(json.dumps(result.differences(), ensure_ascii=False, indent=2))
    ok = result.state == "success" and result.same_warehouse and (args.no_kill or bool(result.killed))
    return 0 if ok else 1


def up(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir or tempfile.mkdtemp(prefix="nianbao-stack-"))
    cluster = Cluster(run_dir, workers=args.workers)
    try:
        cluster.start()
        print(f"api-server: http://127.0.0.1:{cluster.api_port}/  logs: {run_dir}  (Ctrl-C stops)")
        while True:
            cluster.check_alive()
            time.sleep(5)
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("check", help="start the stack, harvest the sandbox, kill a worker, compare, stop")
    run.add_argument("--sources", type=lambda s: s.split(","), default=SOURCES)
    run.add_argument("--no-kill", action="store_true", help="do not kill a worker mid-extract")
    run.add_argument("--timeout", type=float, default=1200)
    run.add_argument("--shared-data", action="store_true",
                     help="one data folder for every worker (as on one host) instead of one each")
    run.add_argument("--run-dir")
    run.set_defaults(func=check)
    start = sub.add_parser("up", help="start the stack and keep it running until Ctrl-C")
    start.add_argument("--workers", type=int, default=2)
    start.add_argument("--run-dir")
    start.set_defaults(func=up)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except StackError as exc:
        print(f"stack: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
