"""Shared fixtures live in tests/fixtures/ (one module per concern)."""

pytest_plugins = [
    "tests.fixtures.paths",
    "tests.fixtures.postgres",
    "tests.fixtures.portal",
    "tests.fixtures.webhook",
    "tests.fixtures.airflow",
    "tests.fixtures.warehouse",
    "tests.fixtures.workers",
    "tests.fixtures.s3",
]
