"""Extraction isolation works inside any worker: Celery's prefork pool runs tasks in
daemonic processes, which may not have multiprocessing children — our workers are
processes of our own, with the same time and memory limits."""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection

from sandbox.corpus import CORPUS_DIR
from tests.fixtures.workers import PatchWorkers

PAGE = CORPUS_DIR / "chanhe-industry-2023-html.html"


def _extract_in_daemon(conn: Connection, timeout_s: float, memory_mb: int) -> None:
    from extract import extract_isolated, extract_many

    try:
        one = extract_isolated(PAGE, timeout_s=timeout_s, memory_mb=memory_mb)
        many = [record for _, record in extract_many([PAGE, PAGE], jobs=2, timeout_s=timeout_s, memory_mb=memory_mb)]
        conn.send([len(one.cells), [f.rule for f in one.findings], [len(r.cells) for r in many],
                   [[f.rule for f in r.findings] for r in many]])
    except BaseException as exc:  # the test reads what went wrong
        conn.send(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


def in_daemon(timeout_s: float = 120, memory_mb: int = 1024) -> object:
    """Run the extraction in a daemonic process, as Celery's prefork pool runs a task."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_extract_in_daemon, args=(child, timeout_s, memory_mb), daemon=True)
    process.start()
    child.close()
    assert parent.poll(300), "the daemonic process gave no answer"
    answer = parent.recv()
    process.join(30)
    return answer


def test_extraction_works_inside_a_daemonic_process() -> None:
    from extract import extract_bytes

    cells = len(extract_bytes(PAGE.read_bytes()).cells)
    assert cells > 50
    answer = in_daemon()
    assert isinstance(answer, list), answer
    assert answer[0] == cells and answer[2] == [cells, cells]


def test_time_limit_holds_inside_a_daemonic_process(patch_workers: PatchWorkers) -> None:
    patch_workers("""
        import time
        import extract.api

        extract.api.read_document = lambda *args, **kwargs: time.sleep(60)
    """)
    answer = in_daemon(timeout_s=1.5)
    assert isinstance(answer, list), answer
    assert answer[1] == ["extract-timeout"] and answer[3] == [["extract-timeout"]] * 2


def test_memory_limit_holds_inside_a_daemonic_process(patch_workers: PatchWorkers) -> None:
    patch_workers("""
        import extract.api

        def hog(*args, **kwargs):
            chunks = [bytearray(10 * 1024 * 1024) for _ in range(400)]

        extract.api.read_document = hog
    """)
    answer = in_daemon(memory_mb=300)
    assert isinstance(answer, list), answer
    assert answer[1] == ["extract-oom"] and answer[3] == [["extract-oom"]] * 2
