"""The sandbox portal: a local replica of government portals serving the corpus.

    from sandbox.portal import PortalServer, PortalConfig, Fault
    with PortalServer(PortalConfig(sites=["hongze", "huaian"])) as portal:
        portal.list_url("hongze")            # http://127.0.0.1:PORT/hongze/xxgk/xxgknb/index.html
        portal.add_fault(kind="status_429", site="huaian", times=2, retry_after=1)
        portal.publish("hongze", "hongze-2024-word-pdf")
        portal.replace(url_or_name, b"new bytes")
        portal.move_column("hongze", "/xxgk/nb/index.html")
        portal.requests                      # [(method, path, status, bytes), ...]
"""

from __future__ import annotations

from sandbox.portal.config import PortalConfig, SiteSpec, load_faults
from sandbox.portal.documents import Document, Item
from sandbox.portal.faults import FAULT_KINDS, Fault
from sandbox.portal.portal import LoggedRequest
from sandbox.portal.server import PortalServer


def main(argv: list[str]) -> int:
    from sandbox.portal.cli import main as cli_main

    return cli_main(argv)


__all__ = ["FAULT_KINDS", "Document", "Fault", "Item", "LoggedRequest", "PortalConfig", "PortalServer",
           "SiteSpec", "load_faults", "main"]
