"""One crawl per process: `python -m crawler crawl|probe [options]` (see --help).

Prints the run summary as JSON on stdout when the crawl ends (`--summary` writes it to a file too).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m crawler", description=__doc__)
    parser.add_argument("command", choices=("crawl", "probe"),
                        help="crawl: fetch and store documents; probe: read list pages only, change nothing")
    parser.add_argument("ids", nargs="*", help="source ids (default: every source)")
    parser.add_argument("--sources", nargs="*", default=[], help="source ids (same as the positional ids)")
    parser.add_argument("--full", action="store_true", help="re-check every known document now")
    parser.add_argument("--fast", action="store_true", help="politeness off (local sandbox, tests, benchmarks)")
    parser.add_argument("--sandbox-url", default=os.environ.get("NIANBAO_SANDBOX_URL", ""))
    parser.add_argument("--data-dir", default=os.environ.get("NIANBAO_DATA_DIR", "var"))
    parser.add_argument("--sources-dir", default=os.environ.get("NIANBAO_SOURCES_DIR", "sources"))
    parser.add_argument("--store", default=os.environ.get("NIANBAO_RAW_STORE", ""),
                        help="raw store: directory or fsspec URL (default <data dir>/raw)")
    parser.add_argument("--index", default=os.environ.get("NIANBAO_CRAWL_INDEX", ""),
                        help="crawl index SQLite file (default <data dir>/crawl/index.db)")
    parser.add_argument("--recheck-interval", type=float, default=None,
                        help="seconds before a known document is re-validated (default 86400)")
    parser.add_argument("--summary", default="", help="also write the summary JSON here")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="any Scrapy setting, e.g. --set DOWNLOAD_MAXSIZE=1000000")
    return parser.parse_args(argv)


def crawl_settings(args: argparse.Namespace, summary_path: Path) -> dict[str, object]:
    from crawler.settings import fast_settings

    settings: dict[str, object] = {
        "NIANBAO_DATA_DIR": args.data_dir,
        "NIANBAO_SOURCES_DIR": args.sources_dir,
        "NIANBAO_SANDBOX_URL": args.sandbox_url,
        "NIANBAO_RAW_STORE": args.store,
        "NIANBAO_CRAWL_INDEX": args.index,
        "NIANBAO_SUMMARY_PATH": str(summary_path),
    }
    if args.recheck_interval is not None:
        settings["NIANBAO_RECHECK_INTERVAL"] = args.recheck_interval
    if args.fast:
        settings.update(fast_settings())
    for item in args.set:
        name, _, value = item.partition("=")
        settings[name.strip()] = value
    return settings


def _check_selection(sources_dir: str, ids: list[str], sandbox_url: str) -> str | None:
    """Why the requested sources cannot be crawled, or None."""
    from crawler.registry import SANDBOX_PLACEHOLDER, load_registry

    registry = load_registry(sources_dir)
    try:
        chosen = registry.select(ids or None)
    except KeyError as exc:
        return str(exc.args[0])
    if ids and not sandbox_url and any(SANDBOX_PLACEHOLDER in url for s in chosen for url in s.list_urls):
        return "sandbox sources need --sandbox-url (or NIANBAO_SANDBOX_URL)"
    return None


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    ids = [part for value in [*args.ids, *args.sources] for part in value.replace(",", " ").split()]
    problem = _check_selection(args.sources_dir, ids, args.sandbox_url)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        summary_path = Path(args.summary) if args.summary else Path(scratch) / "summary.json"
        settings = get_project_settings()
        settings.setdict(crawl_settings(args, summary_path), priority="cmdline")
        process = CrawlerProcess(settings)
        process.crawl("reports", sources=",".join(ids), full=args.full, probe=args.command == "probe")
        process.start()
        if not summary_path.exists():
            print("error: the crawl ended without a summary (see the log above)", file=sys.stderr)
            return 1
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0 if summary.get("finish_reason") == "finished" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
