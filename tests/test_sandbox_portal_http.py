"""The portal's HTTP behaviour: validators and 304s, robots.txt, mutations between crawls, the control API."""

from __future__ import annotations

import base64
import json

import pytest

from sandbox.portal import Document, PortalServer
from tests.fixtures.portal import fetch


def report(slug: str, title: str, content: bytes, name: str, published: str = "2025-01-20") -> Document:
    return Document(title=title, content=content, site=slug, name=name, published=published)


@pytest.fixture
def portal(sandbox_portal_factory) -> PortalServer:
    documents = [report("hongze", f"洪泽区{year}年政府信息公开工作年度报告", f"%PDF-1.4 {year}".encode(),
                        f"hongze-{year}", f"{year + 1}-03-10") for year in (2021, 2022, 2023)]
    documents.append(report("huaian", "淮安市2024年政府信息公开工作年度报告", b"%PDF-1.4 huaian", "huaian-2024"))
    return sandbox_portal_factory(sites=["hongze", "huaian"], fillers=3, documents=documents,
                                  hold_back=["hongze-2023"])


def first_report(portal: PortalServer, slug: str = "hongze"):
    return next(item for item in portal.items(slug) if item.document.kind == "report")


@pytest.mark.parametrize("which", ["list", "article", "attachment"])
def test_validators_and_304(portal: PortalServer, which: str) -> None:
    item = first_report(portal)
    url = {"list": portal.list_url("hongze"), "article": portal.url + item.article_url,
           "attachment": portal.url + item.attachment_url}[which]
    status, headers, body = fetch(url)
    assert status == 200 and headers["etag"].startswith('"') and headers["last-modified"].endswith("GMT")
    by_tag = fetch(url, headers={"If-None-Match": headers["etag"]})
    assert by_tag[0] == 304 and by_tag[2] == b"" and by_tag[1]["etag"] == headers["etag"]
    assert fetch(url, headers={"If-Modified-Since": headers["last-modified"]})[0] == 304
    assert fetch(url, headers={"If-None-Match": '"something-else"'})[0] == 200
    assert fetch(url, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})[0] == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
    both = {"If-None-Match": '"stale"', "If-Modified-Since": headers["last-modified"]}
    assert fetch(url, headers=both)[0] == 200


def test_head_has_the_headers_but_no_body(portal: PortalServer) -> None:
    item = first_report(portal)
    status, headers, body = fetch(portal.url + item.attachment_url, "HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) == len(item.body())


def test_robots_txt_keeps_crawlers_out_of_admin_but_not_the_columns(portal: PortalServer) -> None:
    from urllib.robotparser import RobotFileParser

    text = fetch(portal.url + "/robots.txt")[2].decode()
    robots = RobotFileParser()
    robots.parse(text.splitlines())
    assert not robots.can_fetch("nianbao", portal.url + "/hongze/admin/login.jsp")
    assert not robots.can_fetch("nianbao", portal.url + "/huaian/search/?q=1")
    assert fetch(portal.url + "/hongze/search/?q=1")[0] == 200   # there is something to be kept out of
    for slug in ("hongze", "huaian"):
        assert robots.can_fetch("nianbao", portal.list_url(slug))
        for item in portal.items(slug):
            assert robots.can_fetch("nianbao", portal.url + item.article_url)
    site_robots = fetch(portal.url + "/hongze/robots.txt")[2].decode()
    assert "Disallow: /hongze/admin/" in site_robots and "huaian" not in site_robots


def test_publish_a_held_back_report(portal: PortalServer) -> None:
    before = fetch(portal.list_url("hongze"))
    assert "2023年" not in before[2].decode()
    item = portal.publish("hongze", "hongze-2023")
    after = fetch(portal.list_url("hongze"), headers={"If-None-Match": before[1]["etag"]})
    assert after[0] == 200 and item.title in after[2].decode()
    assert item in portal.items("hongze") and "hongze-2023" not in portal.portal.held_back
    assert fetch(portal.url + item.attachment_url)[2] == b"%PDF-1.4 2023"
    with pytest.raises(KeyError):
        portal.publish("hongze", "no-such-document")


def test_replace_keeps_the_url_and_changes_the_validators(portal: PortalServer) -> None:
    item = first_report(portal)
    url = portal.url + item.attachment_url
    _, old, body = fetch(url)
    replaced = portal.replace(url, b"%PDF-1.4 corrected")
    assert replaced is item
    status, new, body = fetch(url, headers={"If-None-Match": old["etag"], "If-Modified-Since": old["last-modified"]})
    assert (status, body) == (200, b"%PDF-1.4 corrected")
    assert new["etag"] != old["etag"] and new["last-modified"] != old["last-modified"]
    portal.replace(item.document.name, b"%PDF-1.4 corrected again")   # by document name too
    assert fetch(url)[2] == b"%PDF-1.4 corrected again"
    with pytest.raises(KeyError):
        portal.replace("/hongze/nothing-here.pdf", b"x")


@pytest.mark.parametrize("redirect", [False, True])
def test_move_column(portal: PortalServer, redirect: bool) -> None:
    old = portal.list_url("hongze")
    item = first_report(portal)
    new = portal.move_column("hongze", "/xxgk/zfxxgknb/index.html", redirect=redirect)
    assert new == portal.url + "/hongze/xxgk/zfxxgknb/index.html" == portal.list_url("hongze")
    status, headers, _ = fetch(old)
    assert (status, headers.get("location")) == ((301, "/hongze/xxgk/zfxxgknb/index.html") if redirect else (404, None))
    text = fetch(new)[2].decode()
    assert item.title in text and item.article_url in text     # old articles stay where they were
    assert fetch(portal.url + item.article_url)[0] == 200


def test_host_header_addresses_a_site_without_the_prefix(portal: PortalServer) -> None:
    with_prefix = fetch(portal.list_url("hongze"))
    by_host = fetch(portal.url + "/xxgk/xxgknb/index.html", headers={"Host": "hongze.sandbox.test"})
    assert by_host[0] == 200 and by_host[2] == with_prefix[2]
    robots = fetch(portal.url + "/robots.txt", headers={"Host": "hongze.sandbox.test"})[2].decode()
    assert "Disallow: /hongze/admin/" in robots and "huaian" not in robots


def test_request_log(portal: PortalServer) -> None:
    portal.clear_requests()
    fetch(portal.list_url("hongze"))
    fetch(portal.url + "/hongze/missing.html")
    fetch(portal.url + "/_sandbox/sites")          # control calls are not logged
    requests = portal.requests
    assert [(r.method, r.path, r.status) for r in requests] == [
        ("GET", "/hongze/xxgk/xxgknb/index.html", 200), ("GET", "/hongze/missing.html", 404)]
    assert requests[0].bytes == len(fetch(portal.list_url("hongze"))[2])


def post(portal: PortalServer, action: str, payload: dict) -> tuple[int, dict]:
    status, _, body = fetch(f"{portal.url}/_sandbox/{action}", "POST", {"Content-Type": "application/json"},
                            json.dumps(payload).encode())
    return status, json.loads(body)


def test_control_api_mutations(portal: PortalServer) -> None:
    status, published = post(portal, "publish", {"site": "hongze", "name": "hongze-2023"})
    assert status == 200 and published["name"] == "hongze-2023"
    status, made = post(portal, "publish", {"site": "huaian", "title": "淮安市2025年政府信息公开工作年度报告",
                                            "content_base64": base64.b64encode(b"%PDF new").decode()})
    assert status == 200 and fetch(portal.url + made["attachment_url"])[2] == b"%PDF new"
    status, replaced = post(portal, "replace", {"target": made["attachment_url"],
                                                "content_base64": base64.b64encode(b"%PDF fixed").decode()})
    assert status == 200 and replaced["replaced"] and fetch(portal.url + made["attachment_url"])[2] == b"%PDF fixed"
    status, moved = post(portal, "move", {"site": "huaian", "list_path": "/col/col99/index.html"})
    assert moved["list_url"] == portal.list_url("huaian") and fetch(moved["list_url"])[0] == 200
    sites = json.loads(fetch(portal.url + "/_sandbox/sites")[2])
    assert {site["slug"]: site["list_url"] for site in sites["sites"]}["huaian"] == "/huaian/col/col99/index.html"
    assert post(portal, "publish", {"site": "nowhere", "name": "hongze-2023"})[0] == 400
    assert post(portal, "replace", {"target": "/nothing"})[0] == 400


def test_control_api_faults(portal: PortalServer) -> None:
    status, fault = post(portal, "faults", {"kind": "status_500", "site": "huaian", "times": 1})
    assert status == 200 and fault["kind"] == "status_500"
    assert fetch(portal.list_url("huaian"))[0] == 500
    assert fetch(portal.list_url("huaian"))[0] == 200
    assert post(portal, "faults", {"kind": "meltdown", "site": "huaian"})[0] == 400
    post(portal, "faults", {"kind": "status_500", "site": "huaian"})
    assert fetch(f"{portal.url}/_sandbox/faults", "DELETE")[0] == 200
    assert fetch(portal.list_url("huaian"))[0] == 200


def test_many_clients_at_once(portal: PortalServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    portal.add_fault(kind="slow_drip", url="*.pdf", interval=0.05)   # one slow client among them
    urls = [portal.url + first_report(portal).attachment_url, portal.list_url("hongze")]
    urls += [portal.url + item.article_url for item in portal.items("hongze")] * 4
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda url: fetch(url)[0], urls))
    assert statuses == [200] * len(urls)


def test_a_document_can_carry_its_own_status(sandbox_portal_factory) -> None:
    gone = Document(title="某局2024年政府信息公开工作年度报告", content=b"<html>403 Forbidden</html>", site="hongze",
                    form="html", media_type="text/html", status=403)
    portal = sandbox_portal_factory(sites=["hongze"], fillers=0, documents=[gone])
    assert fetch(portal.url + portal.items("hongze")[0].article_url)[:3:2] == (403, b"<html>403 Forbidden</html>")
