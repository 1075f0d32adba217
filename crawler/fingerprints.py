"""The request fingerprinter of the crawl (REQUEST_FINGERPRINTER_CLASS): what makes two requests one.

Scrapy's own fingerprint canonicalises the URL first (w3lib's canonicalize_url: query arguments
sorted, escapes re-encoded), which costs more than everything else the duplicate filter does. The
crawl's URLs need none of it: every one is joined from a page's own link and already made safe by
`Request` (its escapes normalised), so the same link gives the same string. A request is its
method, its URL without the fragment (a fragment never reaches the server) and its body.
"""

from __future__ import annotations

import hashlib

from scrapy import Request


class ExactRequestFingerprinter:
    def fingerprint(self, request: Request) -> bytes:
        url = request.url.partition("#")[0]
        return hashlib.sha1(b"\n".join((request.method.encode("ascii"), url.encode("utf-8"), request.body)),
                            usedforsecurity=False).digest()
