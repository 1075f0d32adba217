"""python -m sandbox generate|serve … — see `python -m sandbox --help`."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m sandbox {generate,serve} [options]   (each takes --help)")
        return 0
    command, rest = argv[0], argv[1:]
    if command == "generate":
        from sandbox.generate import main as generate_main

        return generate_main(rest)
    if command == "serve":
        from sandbox.portal import main as serve_main

        return serve_main(rest)
    print(f"unknown command {command!r}; use generate or serve", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
