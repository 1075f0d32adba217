"""The source registry: `sources/*.yaml`, one entry per agency or portal column.

Entries are validated with pydantic; every error names the file and line it comes
from (the YAML node marks), so `nianbao sources check` can point at it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from report.agencies import Kind, Level

SANDBOX_PLACEHOLDER = "{sandbox}"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when present; both keep node marks


class Overrides(BaseModel):
    """Per-site knobs for when the family's defaults do not fit."""

    model_config = ConfigDict(extra="forbid")

    list_selector: str | None = None        # CSS selector of the listing container
    article_pattern: str | None = None      # regex an article/document URL must match
    title_pattern: str | None = None        # extra regex a report title may match
    allowed_domains: list[str] = Field(default_factory=list)  # more hosts documents may live on
    column: str | None = None               # gkmlpt column id / jcms column id
    jcms_params: dict[str, str] = Field(default_factory=dict)  # dataproxy.jsp form fields
    max_pages: int | None = Field(default=None, ge=1)


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    agency: str = Field(min_length=2)
    region_code: str = Field(pattern=r"^\d{6}$")
    level: Level
    kind: Kind
    family: str                             # a CMS family: a key of crawler.families.ADAPTERS
    adapter: str | None = None              # crawler.sites.<module>:<Class>, a subclass of the family's
    list_urls: list[str] = Field(min_length=1)
    expected: bool = True
    first_year: int = Field(ge=2008, le=2100)
    allow_private: bool = False
    verified: bool = False
    mirror: bool = False
    render: bool = False                    # load the list pages in headless Chromium (crawler.render)
    notes: str | None = None
    overrides: Overrides = Field(default_factory=Overrides)

    @field_validator("family")
    @classmethod
    def _family_is_known(cls, family: str) -> str:
        from crawler.families import ADAPTERS  # here: the adapters import this module

        if family not in ADAPTERS:
            raise ValueError(f"unknown family {family!r}; one of: {', '.join(ADAPTERS)}")
        return family

    @field_validator("adapter")
    @classmethod
    def _adapter_extends_the_family(cls, adapter: str | None, info: ValidationInfo) -> str | None:
        from crawler.families import site_adapter

        if adapter is not None and "family" in info.data:   # an unknown family is its own error
            site_adapter(adapter, info.data["family"])      # AdapterPathError is a ValueError
        return adapter

    @field_validator("list_urls")
    @classmethod
    def _urls_are_http(cls, urls: list[str]) -> list[str]:
        for url in urls:
            concrete = url.replace(SANDBOX_PLACEHOLDER, "http://sandbox.invalid", 1)
            parts = urlsplit(concrete)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"not an http(s) URL: {url!r}")
        return urls

    def resolved_urls(self, sandbox_url: str | None) -> list[str]:
        return [resolve_url(url, sandbox_url) for url in self.list_urls]

    def hosts(self, sandbox_url: str | None) -> set[str]:
        """Domains this source's documents may live on (with their subdomains): the list pages'
        hosts (www. dropped, so that file.example.gov.cn is allowed too) plus overrides."""
        hosts = {urlsplit(url).hostname or "" for url in self.resolved_urls(sandbox_url)}
        hosts = {h.removeprefix("www.") if h.count(".") >= 3 else h for h in hosts}
        return {h for h in hosts | set(self.overrides.allowed_domains) if h}


def resolve_url(url: str, sandbox_url: str | None) -> str:
    if SANDBOX_PLACEHOLDER not in url:
        return url
    if not sandbox_url:
        raise ValueError(f"{url!r} needs the sandbox URL (--sandbox-url or NIANBAO_SANDBOX_URL)")
    return url.replace(SANDBOX_PLACEHOLDER, sandbox_url.rstrip("/"), 1)


@dataclass(frozen=True)
class RegistryError:
    file: str
    line: int
    message: str
    source_id: str | None = None

    def __str__(self) -> str:
        who = f" [{self.source_id}]" if self.source_id else ""
        return f"{self.file}:{self.line}:{who} {self.message}"


@dataclass
class Registry:
    sources: list[Source] = field(default_factory=list)
    errors: list[RegistryError] = field(default_factory=list)
    origin: dict[str, tuple[str, int]] = field(default_factory=dict)  # id -> (file, line)

    def get(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)

    def select(self, ids: list[str] | None) -> list[Source]:
        if not ids:
            return list(self.sources)
        unknown = [i for i in ids if i not in {s.id for s in self.sources}]
        if unknown:
            raise KeyError(f"unknown source id(s): {', '.join(unknown)}")
        return [s for s in self.sources if s.id in ids]


def load_registry(directory: Path | str) -> Registry:
    """Load and validate every `*.yaml` in `directory`; errors are collected, never raised."""
    registry = Registry()
    files = sorted(Path(directory).glob("*.yaml"))
    if not files:
        registry.errors.append(RegistryError(str(directory), 0, "no *.yaml source files"))
    for path in files:
        _load_file(path, registry)
    return registry


def _load_file(path: Path, registry: Registry) -> None:
    text = path.read_text(encoding="utf-8")
    loader = _Loader(text)
    try:   # one parse: the node tree keeps the line numbers, the data is constructed from it
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        registry.errors.append(RegistryError(str(path), (mark.line + 1) if mark else 0, f"YAML: {exc}"))
        return
    if root is None:
        return
    if not isinstance(root, yaml.SequenceNode) or not isinstance(data, list):
        registry.errors.append(RegistryError(str(path), root.start_mark.line + 1,
                                             "a source file is a YAML list of entries"))
        return
    for node, entry in zip(root.value, data, strict=True):
        _load_entry(path, node, entry, registry)


def _load_entry(path: Path, node: yaml.Node, entry: Any, registry: Registry) -> None:
    line = node.start_mark.line + 1
    if not isinstance(entry, dict):
        registry.errors.append(RegistryError(str(path), line, "an entry must be a mapping"))
        return
    source_id = entry.get("id") if isinstance(entry.get("id"), str) else None
    try:
        source = Source.model_validate(entry)
    except ValidationError as exc:
        for error in exc.errors():
            where = _line_of(node, error["loc"]) or line
            field_path = ".".join(str(part) for part in error["loc"]) or "entry"
            registry.errors.append(RegistryError(str(path), where, f"{field_path}: {error['msg']}", source_id))
        return
    if source.id in registry.origin:
        first_file, first_line = registry.origin[source.id]
        registry.errors.append(RegistryError(str(path), line, f"duplicate id (first at {first_file}:{first_line})",
                                             source.id))
        return
    registry.origin[source.id] = (str(path), line)
    registry.sources.append(source)


def _line_of(node: yaml.Node, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the value at `loc` inside `node`, as deep as the path exists."""
    best = node.start_mark.line + 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node, best = child, child.start_mark.line + 1
    return best


def registry_hosts(sources: list[Source], sandbox_url: str | None) -> set[str]:
    hosts: set[str] = set()
    for source in sources:
        hosts |= source.hosts(sandbox_url)
    return hosts


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


SHIPPED_SOURCES = Path(__file__).resolve().parents[1] / "sources"


def split_ids(values: str | Iterable[str] | None) -> list[str]:
    """Source ids as people give them: one string or several, separated by commas and/or spaces."""
    if values is None:
        return []
    items = [values] if isinstance(values, str) else values
    return [part for value in items for part in str(value).replace(",", " ").split()]
