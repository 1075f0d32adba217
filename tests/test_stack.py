"""The real cluster (`make stack`): the services of docker-compose.yml as processes on 127.0.0.1
harvest the sandbox on two Celery workers, each with its own data folder; a worker killed
mid-extract is retried; the warehouse equals `nianbao harvest`'s; nothing listens beyond loopback."""

from __future__ import annotations

import socket

import pytest

from tests.fixtures.required import unavailable

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def redis_server() -> None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=3).close()
    except OSError as exc:
        unavailable(f"Redis unreachable: {exc}")


def test_the_stack_harvests_like_nianbao_harvest_and_survives_a_killed_worker(
        postgres_server, redis_server, tmp_path) -> None:
    from stack.check import DAG_ID, run_check

    result = run_check(tmp_path, timeout=1500)

    assert result.state == "success", result.tasks
    assert result.killed, "no extract task was caught running: nothing was killed"
    retried = next(ti for ti in result.tasks
                   if ti["task_id"] == "extract" and ti["map_index"] == result.killed["map_index"])
    assert retried["state"] == "success" and retried["try_number"] > result.killed["try_number"], retried
    assert result.same_warehouse, result.differences()
    assert result.stack["reports"], f"{DAG_ID} loaded nothing"
    assert result.listening and all(address.startswith("127.0.0.1:") for address in result.listening), \
        result.listening
