"""Generic discovery: from one page as served (its URL and text) to the records it lists and the
further requests that carry more of them — whatever the CMS.

Pure functions over an lxml tree or a text, so a page rendered by a browser can be fed to the
same functions as one fetched plainly:

    from crawler.discovery.lists import discover_page, discover_text

    found = discover_page(root, url, columns=[start_url])     # an HTML list page
    found = discover_text(text, url, follow)                  # a JSON or JS answer to a Follow
    found.records   # [Record(url, title, date)]
    found.follows   # [Follow(url, kind, method, form, …)]: pages, frames, year columns, data, scripts

See docs/reach.md for the shapes handled and how to add one.
"""

# The link helpers discovery reads pages with live in crawler.families.base, and the generic
# adapter imports discovery: loading the families first makes either import order work.
import crawler.families  # noqa: F401  (import order, see above)
from crawler.discovery.model import Follow, Found, Record

__all__ = ["Follow", "Found", "Record"]
