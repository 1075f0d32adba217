"""The HTTP side: a threaded server on 127.0.0.1, conditional requests, faults, the control API."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import sys
import threading
import time
import traceback
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sandbox.corpus import CorpusEntry
from sandbox.portal.config import PortalConfig, check_loopback
from sandbox.portal.documents import Document, Item
from sandbox.portal.faults import CHALLENGE_PAGE, OFFSITE, Fault
from sandbox.portal.portal import LoggedRequest, Portal
from sandbox.portal.site import Response

CONTROL = "/_sandbox/"
MAX_BODY = 50 * 1024 * 1024


class PortalServer:
    """The sandbox portal, served from a background thread.

    >>> with PortalServer(PortalConfig(sites=["hongze"])) as portal:
    ...     portal.list_url("hongze")   # 'http://127.0.0.1:PORT/hongze/xxgk/xxgknb/index.html'
    """

    def __init__(self, config: PortalConfig | None = None, **options: Any) -> None:
        self.config = config or PortalConfig(**options)
        check_loopback(self.config.host)
        self.portal = Portal(self.config)
        self.stopping = threading.Event()
        self.verbose = False                 # log each request on stderr
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> PortalServer:
        if self._httpd is not None:
            raise RuntimeError("the portal is already running")
        self._httpd = _Server((self.config.host, self.config.port), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"sandbox-portal-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        self._httpd.join_handlers()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._httpd, self._thread = None, None

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the portal is not running")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash (what {sandbox} stands for in sources/sandbox.yaml)."""
        return f"http://127.0.0.1:{self.port}"

    def list_url(self, slug: str) -> str:
        return self.url + self.portal.sites[slug].list_url

    # ------------------------------------------------------------ state, mutations, faults
    @property
    def sites(self) -> dict:
        return self.portal.sites

    @property
    def requests(self) -> list[LoggedRequest]:
        return self.portal.requests

    def clear_requests(self) -> None:
        self.portal.clear_requests()

    def publish(self, slug: str, document: str | Document | CorpusEntry) -> Item:
        return self.portal.publish(slug, document)

    def replace(self, target: str, new_bytes: bytes) -> Item:
        return self.portal.replace(target, new_bytes)

    def move_column(self, slug: str, new_list_path: str, redirect: bool = False) -> str:
        return self.url + self.portal.move_column(slug, new_list_path, redirect)

    def add_fault(self, fault: Fault | dict | None = None, **fields: Any) -> Fault:
        return self.portal.faults.add(fault if fault is not None else Fault(**fields))

    def clear_faults(self) -> None:
        self.portal.faults.clear()

    def items(self, slug: str) -> list[Item]:
        return self.portal.sites[slug].listed()


class _Server(ThreadingHTTPServer):
    """Daemon handler threads (a forgotten server never blocks exit), yet joined on stop."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.handlers: list[threading.Thread] = []
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self.process_request_thread, args=(request, client_address), daemon=True)
        with self.connections_lock:
            self.handlers = [t for t in self.handlers if t.is_alive()] + [thread]
        thread.start()

    def join_handlers(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self.connections_lock:
            handlers = list(self.handlers)
        for thread in handlers:
            thread.join(max(0.0, deadline - time.monotonic()))

    def close_connections(self) -> None:
        """Wake handlers idling on keep-alive connections so that server_close can join them."""
        with self.connections_lock:
            for connection in list(self.connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


def _handler_for(server: PortalServer) -> type[BaseHTTPRequestHandler]:
    return type("PortalHandler", (_Handler,), {"owner": server})


class _Handler(BaseHTTPRequestHandler):
    owner: PortalServer
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = 60

    # ------------------------------------------------------------ plumbing
    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:  # type: ignore[attr-defined]
            self.server.connections.add(self.connection)  # type: ignore[attr-defined]
        self.status_sent = 0
        self.bytes_sent = 0

    def finish(self) -> None:
        with self.server.connections_lock:  # type: ignore[attr-defined]
            self.server.connections.discard(self.connection)  # type: ignore[attr-defined]
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        if self.owner.verbose:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def send_response(self, code: int, message: str | None = None) -> None:
        self.status_sent = code
        super().send_response(code, message)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.handle_request("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self.handle_request("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self.handle_request("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self.handle_request("DELETE")

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length > 0 else b""

    # ------------------------------------------------------------ one request
    def handle_request(self, method: str) -> None:
        portal = self.owner.portal
        self.status_sent = 0
        self.bytes_sent = 0  # per request: a keep-alive connection carries many
        body = b""
        slot = None if self.path.startswith(CONTROL) else portal.arrived()
        try:
            body = self.read_body()
            if self.path.startswith(CONTROL):
                self.send(self.control(method, body), method)
                return
            site, path = portal.locate(self.headers.get("Host", ""), self.path)
            response = portal.answer(method, site, path, body)
            fault = portal.faults.pick(site.slug if site else None, path)
            if fault is not None:
                self.inject(fault, response, path, method)
            else:
                self.send(self.conditional(response, method), method)
        except Exception as error:  # noqa: BLE001 - a bad request must not kill the server
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            if not self.status_sent:
                self.send(Response(500, f"sandbox error: {error}".encode(), "text/plain; charset=utf-8"), method)
        finally:
            if slot is not None:
                portal.log(slot, method, self.path, self.status_sent, self.bytes_sent, body.decode("latin-1"))

    def conditional(self, response: Response, method: str) -> Response:
        """ETag and Last-Modified on every page and document; 304 when the client has it already."""
        if response.status != 200 or response.modified is None or method not in ("GET", "HEAD"):
            return response
        etag = '"' + hashlib.sha1(response.body).hexdigest()[:20] + '"'
        modified = response.modified.replace(microsecond=0)
        response.headers["ETag"] = etag
        response.headers["Last-Modified"] = formatdate(modified.timestamp(), usegmt=True)
        if _not_modified(self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"), etag, modified):
            return Response(304, b"", response.content_type, {k: response.headers[k] for k in ("ETag", "Last-Modified")})
        return response

    def send(self, response: Response, method: str) -> None:
        self.send_head(response)
        if method != "HEAD" and response.status != 304:
            self.wfile.write(response.body)
            self.bytes_sent += len(response.body)

    def send_head(self, response: Response) -> None:
        """Status line and headers, Content-Length always that of the whole body."""
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        if response.status != 304:
            self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    # ------------------------------------------------------------ faults
    def inject(self, fault: Fault, response: Response, path: str, method: str) -> None:
        kind = fault.kind
        if kind == "status_500":
            self.send(Response.html("<html><body><h1>500 Internal Server Error</h1></body></html>", status=500), method)
        elif kind == "status_429":
            self.send(Response(429, b"Too Many Requests", "text/plain; charset=utf-8",
                               {"Retry-After": str(fault.retry_after)}), method)
        elif kind == "challenge":
            self.send(Response.html(CHALLENGE_PAGE), method)
        elif kind in ("redirect_loop", "redirect_offsite", "redirect_private"):
            self.send(Response.redirect(_redirect_target(fault, path)), method)
        elif kind == "timeout":
            self.owner.stopping.wait(fault.seconds)
            self.close_connection = True
        else:
            self.close_connection = True
            self.send_partial(kind, fault, response, method)

    def send_partial(self, kind: str, fault: Fault, response: Response, method: str) -> None:
        """slow_drip, truncated and reset: the real headers, then not quite the real body."""
        body = response.body
        self.send_head(response)
        if method == "HEAD":
            return
        try:
            if kind == "slow_drip":
                for position in range(len(body)):
                    if self.owner.stopping.wait(fault.interval):
                        return
                    self.wfile.write(body[position:position + 1])
                    self.bytes_sent += 1
                return
            half = body[: len(body) // 2]
            self.wfile.write(half)
            self.bytes_sent += len(half)
            if kind == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
        except OSError:
            pass   # the client gave up, which is what a client should do

    # ------------------------------------------------------------ control API
    def control(self, method: str, body: bytes) -> Response:
        if not self.client_address[0].startswith("127."):
            return _json({"error": "control API is for 127.0.0.1 only"}, 403)
        owner, action = self.owner, self.path[len(CONTROL):].split("?", 1)[0]
        try:
            data = json.loads(body or b"{}") if method in ("POST", "DELETE") else {}
            if method == "GET" and action == "sites":
                return _json(owner.portal.summary())
            if method == "GET" and action == "requests":
                return _json([list(entry) for entry in owner.requests])
            if method == "POST" and action == "publish":
                document = data["name"] if "name" in data and "content_base64" not in data else _document(data)
                return _json(owner.publish(data["site"], document).summary())
            if method == "POST" and action == "replace":
                new = (owner.portal.named_document(data["with"]).content if "with" in data
                       else base64.b64decode(data["content_base64"]))
                new_bytes = new if isinstance(new, bytes) else new.read_bytes()
                return _json(owner.replace(data["target"], new_bytes).summary())
            if method == "POST" and action == "move":
                return _json({"list_url": owner.move_column(data["site"], data["list_path"],
                                                            bool(data.get("redirect", False)))})
            if method == "POST" and action == "faults":
                return _json(owner.add_fault(data).to_dict())
            if method == "DELETE" and action == "faults":
                owner.clear_faults()
                return _json({"faults": []})
        except (KeyError, ValueError, TypeError) as error:
            return _json({"error": str(error)}, 400)
        return _json({"error": f"no control action {method} {action!r}"}, 404)


def _not_modified(if_none_match: str | None, if_modified_since: str | None, etag: str, modified: datetime) -> bool:
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return modified <= since
    return False


def _redirect_target(fault: Fault, path: str) -> str:
    if fault.kind == "redirect_offsite":
        return OFFSITE + path
    if fault.kind == "redirect_private":
        return fault.target
    bare, _, query = path.partition("?")
    return bare if "_loop=1" in query else f"{bare}?_loop=1"


def _document(data: dict) -> Document:
    return Document(title=data["title"], content=base64.b64decode(data["content_base64"]),
                    name=data.get("name"), form=data.get("form", "word-pdf"), kind=data.get("kind", "report"),
                    media_type=data.get("media_type", "application/pdf"),
                    published=data.get("published", datetime.now(UTC).date().isoformat()),
                    filename=data.get("filename"), year=data.get("year"))


def _json(payload: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8"),
                    "application/json; charset=utf-8")
