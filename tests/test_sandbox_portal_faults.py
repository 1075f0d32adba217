"""Fault injection: each kind behaves as specified, per site or URL pattern, for the first N hits or always."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import pytest

from sandbox.portal import Document, Fault, PortalServer, load_faults
from tests.fixtures.portal import fetch

BODY = b"%PDF-1.4\n" + bytes(range(48, 58)) * 6 + b"\n%%EOF\n"


@pytest.fixture
def portal(sandbox_portal_factory) -> PortalServer:
    document = Document(title="洪泽区2024年政府信息公开工作年度报告", content=BODY, site="hongze", name="hz")
    return sandbox_portal_factory(sites=["hongze", "huaian"], fillers=6, documents=[document])


def attachment(portal: PortalServer) -> str:
    return portal.url + next(i for i in portal.items("hongze") if i.document.name == "hz").attachment_url


def raw_get(url: str, timeout: float = 5.0) -> tuple[bytes, bytes, BaseException | None]:
    """Headers and body as they came off the socket, and how the connection ended (None: a clean close)."""
    parts = urlsplit(url)
    received, ending = b"", None
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as connection:
        connection.sendall(f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except OSError as error:
            ending = error
    head, _, body = received.partition(b"\r\n\r\n")
    return head, body, ending


def test_status_500_for_the_first_n_hits(portal: PortalServer) -> None:
    portal.add_fault(kind="status_500", site="hongze", times=2)
    assert [fetch(portal.list_url("hongze"))[0] for _ in range(3)] == [500, 500, 200]
    assert fetch(portal.list_url("huaian"))[0] == 200     # another site is not affected


def test_status_429_with_retry_after(portal: PortalServer) -> None:
    portal.add_fault(kind="status_429", url="/hongze/*", times=1, retry_after=3)
    status, headers, _ = fetch(portal.list_url("hongze"))
    assert (status, headers["retry-after"]) == (429, "3")
    assert fetch(portal.list_url("hongze"))[0] == 200


def test_a_url_pattern_picks_the_pages(portal: PortalServer) -> None:
    portal.add_fault(kind="status_500", url="*/index_1.html")
    assert fetch(portal.list_url("hongze"))[0] == 200
    assert fetch(portal.list_url("hongze").replace("index.html", "index_1.html"))[0] == 500


def test_timeout_holds_the_connection_longer_than_the_client_waits(portal: PortalServer) -> None:
    portal.add_fault(kind="timeout", url="*.pdf", seconds=5)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        fetch(attachment(portal), timeout=0.5)
    assert 0.4 < time.monotonic() - started < 3
    assert fetch(portal.list_url("hongze"), timeout=2)[0] == 200     # the rest of the site still answers


def test_slow_drip_sends_the_body_a_byte_at_a_time(portal: PortalServer) -> None:
    portal.add_fault(kind="slow_drip", url="*.pdf", interval=0.01)
    started = time.monotonic()
    head, body, ending = raw_get(attachment(portal))
    assert body == BODY and ending is None
    assert time.monotonic() - started >= len(BODY) * 0.01 * 0.8
    assert f"Content-Length: {len(BODY)}".encode() in head


def test_reset_closes_the_socket_mid_response(portal: PortalServer) -> None:
    portal.add_fault(kind="reset", url="*.pdf")
    head, body, ending = raw_get(attachment(portal))
    assert isinstance(ending, ConnectionResetError)
    assert len(body) < len(BODY)


def test_truncated_body_is_shorter_than_its_content_length(portal: PortalServer) -> None:
    portal.add_fault(kind="truncated", url="*.pdf", times=1)
    head, body, ending = raw_get(attachment(portal))
    assert ending is None and f"Content-Length: {len(BODY)}".encode() in head
    assert body == BODY[: len(BODY) // 2]
    assert fetch(attachment(portal))[2] == BODY


def test_redirect_loop(portal: PortalServer) -> None:
    portal.add_fault(kind="redirect_loop", url="*.pdf")
    url, seen = attachment(portal), []
    for _ in range(4):
        status, headers, _ = fetch(url)
        assert status == 302
        seen.append(headers["location"])
        url = portal.url + headers["location"]
    assert seen[0] == seen[2] and seen[1] == seen[3] and seen[0] != seen[1]


def test_redirect_offsite(portal: PortalServer) -> None:
    portal.add_fault(kind="redirect_offsite", site="hongze")
    status, headers, _ = fetch(portal.list_url("hongze"))
    assert status == 302 and headers["location"] == "http://evil.example/hongze/xxgk/xxgknb/index.html"


@pytest.mark.parametrize("target", ["http://10.0.0.1/admin", "http://169.254.169.254/latest/meta-data/"])
def test_redirect_private_is_only_announced_never_fetched(portal: PortalServer, target: str) -> None:
    portal.add_fault(kind="redirect_private", url="*.pdf", target=target)
    status, headers, _ = fetch(attachment(portal))          # fetch() never follows redirects
    assert (status, headers["location"]) == (302, target)


@pytest.mark.parametrize("target", ["http://8.8.8.8/", "http://example.com/", "http://127.0.0.1/"])
def test_redirect_private_must_point_at_a_private_address(target: str) -> None:
    with pytest.raises(ValueError, match="redirect_private"):
        Fault(kind="redirect_private", site="hongze", target=target)


def test_challenge_page_with_status_200(portal: PortalServer) -> None:
    portal.add_fault(kind="challenge", url="*.pdf", times=1)
    status, headers, body = fetch(attachment(portal))
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"__jsl_clearance" in body and BODY not in body
    assert fetch(attachment(portal))[2] == BODY


def test_bad_faults_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault(kind="meltdown", site="hongze")
    with pytest.raises(ValueError, match="give a site"):
        Fault(kind="status_500")
    with pytest.raises(ValueError, match="unknown keys"):
        Fault.from_dict({"kind": "status_500", "site": "hongze", "color": "red"})


def test_faults_file_yaml_and_json(tmp_path, sandbox_portal_factory) -> None:
    yaml_file = tmp_path / "faults.yaml"
    yaml_file.write_text("faults:\n  - kind: status_429\n    site: huaian\n    times: 1\n    retry_after: 2\n"
                         "  - {kind: challenge, url: '*/index_1.html'}\n", encoding="utf-8")
    json_file = tmp_path / "faults.json"
    json_file.write_text(json.dumps([{"kind": "status_500", "url": "/hongze/*"}]), encoding="utf-8")
    faults = load_faults(yaml_file) + load_faults(json_file)
    assert [(f.kind, f.site, f.url, f.times) for f in faults] == [
        ("status_429", "huaian", None, 1), ("challenge", None, "*/index_1.html", None),
        ("status_500", None, "/hongze/*", None)]
    portal = sandbox_portal_factory(sites=["hongze", "huaian"], faults=faults)
    assert fetch(portal.list_url("huaian"))[1]["retry-after"] == "2"
    assert fetch(portal.list_url("hongze"))[0] == 500
    bad = tmp_path / "bad.yaml"
    bad.write_text("faults: {kind: status_500}\n", encoding="utf-8")
    with pytest.raises(ValueError):
        load_faults(bad)
