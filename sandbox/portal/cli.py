"""python -m sandbox serve: run the portal in the foreground until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from sandbox.portal.config import PortalConfig, load_faults
from sandbox.portal.registry import registry_yaml


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="python -m sandbox serve",
                                  description="Serve the sandbox replica of government portals on 127.0.0.1.")
    cli.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    cli.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    cli.add_argument("--sites", nargs="+", metavar="SLUG", help="serve only these sites (default: all)")
    cli.add_argument("--faults", type=Path, metavar="FILE", help="YAML or JSON list of faults to inject")
    cli.add_argument("--corpus", type=Path, metavar="DIR", help="corpus directory (default sandbox/corpus)")
    cli.add_argument("--hold-back", nargs="+", default=[], metavar="NAME",
                     help="corpus documents not listed at start (publish them later via POST /_sandbox/publish)")
    cli.add_argument("--page-size", type=int, default=5, help="items per list page (default 5)")
    cli.add_argument("--fillers", type=int, default=6, help="news/notices per site besides the corpus (default 6)")
    cli.add_argument("--verbose", action="store_true", help="log every request on stderr")
    cli.add_argument("--print-registry", action="store_true",
                     help="print the sources/sandbox.yaml registry entries and exit")
    return cli


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.print_registry:
        sys.stdout.write(registry_yaml())
        return 0
    from sandbox.portal.server import PortalServer

    try:
        config = PortalConfig(host=args.host, port=args.port, sites=args.sites, corpus_root=args.corpus,
                              hold_back=args.hold_back, fillers=args.fillers, page_size=args.page_size,
                              faults=load_faults(args.faults) if args.faults else [])
        server = PortalServer(config)
        server.verbose = args.verbose
        server.start()
    except (ValueError, OSError) as error:
        print(f"sandbox serve: {error}", file=sys.stderr)
        return 2
    done = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: done.set())
    print(f"sandbox portal at {server.url}/", flush=True)
    for slug in server.sites:
        print(f"  {slug:20} {server.list_url(slug)}", flush=True)
    done.wait()
    server.stop()
    print("sandbox portal stopped", flush=True)
    return 0
