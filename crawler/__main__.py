"""One crawl per process: `python -m crawler crawl|probe [options]` (see --help).

The settings come from `--config FILE` (JSON of `crawler.config.CrawlConfig`, `-` for stdin: how
the application starts a crawl) or from the options; the environment is never read.
Prints the run summary as JSON on stdout when the crawl ends (`--summary` writes it to a file too).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from crawler.config import CrawlConfig
from crawler.registry import SHIPPED_SOURCES, split_ids


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m crawler", description=__doc__)
    parser.add_argument("command", choices=("crawl", "probe"),
                        help="crawl: fetch and store documents; probe: read list pages only, change nothing")
    parser.add_argument("ids", nargs="*", help="source ids (default: every source)")
    parser.add_argument("--sources", nargs="*", default=[], help="source ids (same as the positional ids)")
    parser.add_argument("--full", action="store_true", help="re-check every known document now")
    parser.add_argument("--fast", action="store_true", help="politeness off (local sandbox, tests, benchmarks)")
    parser.add_argument("--config", default=None, metavar="FILE",
                        help="the crawl settings as JSON (a file, or - for stdin); the options below override it")
    parser.add_argument("--sandbox-url", default=None)
    parser.add_argument("--data-dir", default=None, help="data directory (needed without --config)")
    parser.add_argument("--sources-dir", default=None, help=f"source registry (default {SHIPPED_SOURCES.name}/ "
                                                            "shipped with nianbao)")
    parser.add_argument("--store", default=None, help="raw store: directory or fsspec URL (default <data dir>/raw)")
    parser.add_argument("--index", default=None, help="crawl index: database URL or SQLite file (default the warehouse's, "
                                                          "sqlite:///<data dir>/warehouse.db)")
    parser.add_argument("--recheck-interval", type=float, default=None,
                        help="seconds before a known document is re-validated (default 86400)")
    parser.add_argument("--browser", default=None, metavar="PATH",
                        help="the Chromium executable for sources with render: true (default /usr/bin/chromium)")
    parser.add_argument("--summary", default="", help="also write the summary JSON here")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="any Scrapy setting, e.g. --set DOWNLOAD_MAXSIZE=1000000")
    return parser.parse_args(argv)


def crawl_config(args: argparse.Namespace) -> CrawlConfig:
    """The crawl's settings: the --config file, overridden by the options given."""
    values: dict[str, Any] = {}
    if args.config:
        text = sys.stdin.read() if args.config == "-" else Path(args.config).read_text(encoding="utf-8")
        values = json.loads(CrawlConfig.from_json(text).to_json())
    given = {"data_dir": args.data_dir, "sources_dir": args.sources_dir, "raw_store": args.store,
             "crawl_index": args.index, "sandbox_url": args.sandbox_url, "recheck_interval": args.recheck_interval,
             "browser": args.browser}
    values.update({k: v for k, v in given.items() if v is not None})
    if not values.get("data_dir"):
        raise ValueError("give --config FILE or --data-dir")
    values.setdefault("sources_dir", SHIPPED_SOURCES)
    return CrawlConfig(**values)


def crawl_settings(args: argparse.Namespace, config: CrawlConfig, summary_path: Path,
                   render: bool = False) -> dict[str, object]:
    """The Scrapy settings of the crawl; `render`: some source is loaded in the browser (when there is one)."""
    from crawler.render import browser_settings, missing_browser
    from crawler.settings import fast_settings

    settings = config.scrapy_settings(summary_path)
    if render and missing_browser(config.browser) is None:
        settings.update(browser_settings(config.browser))
    if args.fast:
        settings.update(fast_settings())
    for item in args.set:
        name, _, value = item.partition("=")
        settings[name.strip()] = value
    return settings


def _check_selection(config: CrawlConfig, ids: list[str]) -> tuple[str | None, bool]:
    """Why the requested sources cannot be crawled (or None), and whether any of them is rendered."""
    from crawler.registry import SANDBOX_PLACEHOLDER, load_registry

    registry = load_registry(config.sources_dir)
    if registry.errors:   # a broken entry stops the crawl; it is never silently left out
        return "the source registry has errors:\n" + "\n".join(f"  {error}" for error in registry.errors), False
    try:
        chosen = registry.select(ids or None)
    except KeyError as exc:
        return str(exc.args[0]), False
    if ids and not config.sandbox_url and any(SANDBOX_PLACEHOLDER in url for s in chosen for url in s.list_urls):
        return "sandbox sources need --sandbox-url (or the sandbox URL in --config)", False
    return None, any(source.render for source in chosen)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    try:
        config = crawl_config(args)
    except (OSError, ValueError, TypeError) as exc:
        print(f"error: bad crawl settings: {exc}", file=sys.stderr)
        return 2
    ids = split_ids([*args.ids, *args.sources])
    problem, render = _check_selection(config, ids)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        summary_path = Path(args.summary) if args.summary else Path(scratch) / "summary.json"
        settings = Settings()
        settings.setmodule("crawler.settings", priority="project")
        settings.setdict(crawl_settings(args, config, summary_path, render), priority="cmdline")
        process = CrawlerProcess(settings)
        process.crawl("reports", sources=",".join(ids), full=args.full, probe=args.command == "probe")
        process.start()
        if not summary_path.exists():
            print("error: the crawl ended without a summary (see the log above)", file=sys.stderr)
            return 1
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    stored_all = not summary.get("errors", {}).get("store_error")   # bytes we could not keep: the run failed
    return 0 if summary.get("finish_reason") == "finished" and stored_all else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
