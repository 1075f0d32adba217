"""The raw store: bytes kept once under their SHA-256, on a local directory or any fsspec URL.

Keys look like `sha256/ab/cd/<sha256>`. Writes are atomic (a temporary name renamed into
place on local disks; a single object PUT elsewhere) and idempotent; a write that fails (a full
disk, a refused PUT) leaves no temporary behind and raises StoreError. Every host of a
deployment shares one store: `s3://bucket/prefix` (s3fs) in production.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid

import fsspec


class StoreError(OSError):
    """The raw store could not keep some bytes."""


class RawStore:
    def __init__(self, url: str) -> None:
        self.url = str(url)
        self.fs, self.root = fsspec.core.url_to_fs(self.url)
        self._local = "file" in _protocols(self.fs)
        self._folders: set[str] = set()      # local folders known to exist: one mkdir each per store
        if self._local:
            self.fs.makedirs(self.root, exist_ok=True)

    @staticmethod
    def key(sha256: str) -> str:
        return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def _path(self, sha256: str) -> str:
        return f"{self.root.rstrip('/')}/{self.key(sha256)}"

    def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if self.exists(sha256):
            return sha256
        path = self._path(sha256)
        try:
            if self._local:
                self._put_local(path, data)
            else:
                self.fs.pipe_file(path, data)
        except OSError as exc:
            raise StoreError(f"could not store {sha256} ({len(data)} bytes) in {self.url}: {exc}") from exc
        return sha256

    def _put_local(self, path: str, data: bytes) -> None:
        # plain os calls: the crawl stores every document on one thread, and fsspec's local layer
        # costs more CPU than the write itself
        folder = path.rsplit("/", 1)[0]
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        temporary = f"{path}.{uuid.uuid4().hex}.part"
        try:
            with open(temporary, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def get(self, sha256: str) -> bytes:
        return self.fs.cat_file(self._path(sha256))

    def exists(self, sha256: str) -> bool:
        path = self._path(sha256)
        return os.path.exists(path) if self._local else bool(self.fs.exists(path))

    def location(self, sha256: str) -> str:
        """A URL (or local path) of the stored bytes, for readers that want a file."""
        protocol = _protocols(self.fs)[0]
        path = self._path(sha256)
        return path if self._local else f"{protocol}://{path}"


def _protocols(fs: fsspec.AbstractFileSystem) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)
