"""What discovery hands back: records (title, URL, date) and the requests that carry more of them."""

from __future__ import annotations

from dataclasses import dataclass, field

# Form fields that change from page to page of an ASP.NET pager without naming another page.
_STATE_FIELDS = ("__VIEWSTATE", "__EVENTVALIDATION", "__VIEWSTATEGENERATOR", "__PREVIOUSPAGE")


@dataclass(frozen=True)
class Record:
    url: str
    title: str
    date: str | None = None     # ISO date as listed


@dataclass(frozen=True)
class Follow:
    """A further request that carries rows of the same column.

    kind: page (another page of the list), frame (the document of an <iframe> holding the rows),
    column (a sub-column such as 2019年度), data (a JSON/JS answer a script would have asked for),
    script (an external script holding the list as a JS literal).
    """

    url: str
    kind: str = "page"
    method: str = "GET"
    form: tuple[tuple[str, str], ...] = ()      # POST fields, in order
    page_param: str | None = None               # data: the parameter that numbers the pages
    page: int = 1
    page_size: int | None = None
    base: str | None = None                     # the page whose script asked (relative URLs in the answer)

    @property
    def key(self) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        """What makes two follows the same request (ASP.NET view state left out)."""
        return self.method, self.url, tuple(f for f in self.form if not f[0].startswith(_STATE_FIELDS))

    def to_meta(self) -> dict:
        return {"kind": self.kind, "page_param": self.page_param, "page": self.page, "page_size": self.page_size,
                "method": self.method, "form": [list(f) for f in self.form], "base": self.base}

    @classmethod
    def from_meta(cls, url: str, meta: dict | None) -> Follow | None:
        if not meta:
            return None
        return cls(url, meta.get("kind", "page"), meta.get("method", "GET"),
                   tuple((str(k), str(v)) for k, v in meta.get("form") or ()), meta.get("page_param"),
                   int(meta.get("page") or 1), meta.get("page_size"), meta.get("base"))


@dataclass
class Found:
    records: list[Record] = field(default_factory=list)
    follows: list[Follow] = field(default_factory=list)

    def extend(self, other: Found) -> Found:
        self.records += other.records
        self.follows += other.follows
        return self
