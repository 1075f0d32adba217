"""Set-up helpers for the production stack (docker-compose.yml's airflow-init):

    python -m nianbao.stages pools            # the crawl pools, as `airflow pools import` reads them
    python -m nianbao.stages create-database WAREHOUSE_URL --admin-url ADMIN_URL
"""

from __future__ import annotations

import argparse
import json
import sys


def create_database(url: str, admin_url: str) -> str:
    """Create the warehouse's PostgreSQL role and database if missing (idempotent)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    if target.get_backend_name() != "postgresql":
        return f"{target.get_backend_name()}: nothing to create"
    admin = create_engine(make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            role, database = target.username, target.database
            if not conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}):
                conn.execute(text(f'CREATE ROLE "{role}" LOGIN PASSWORD {_literal(target.password)}'))
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}):
                conn.execute(text(f'CREATE DATABASE "{database}" OWNER "{role}"'))
    finally:
        admin.dispose()
    return f"database {target.database} ready"


def _literal(value: str | None) -> str:
    return "'" + (value or "").replace("'", "''") + "'"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m nianbao.stages", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    pools_parser = commands.add_parser("pools", help="print the crawl pools as JSON")
    pools_parser.add_argument("--slots", type=int, default=1)
    create = commands.add_parser("create-database", help="create the warehouse role and database")
    create.add_argument("url")
    create.add_argument("--admin-url", required=True)
    args = parser.parse_args(argv)
    if args.command == "pools":
        from nianbao.stages.registry import pools

        print(json.dumps(pools(args.slots), indent=2))
        return 0
    print(create_database(args.url, args.admin_url))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
