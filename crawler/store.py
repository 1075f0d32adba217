"""The raw store: bytes kept once under their SHA-256, on a local directory or any fsspec URL.

Keys look like `sha256/ab/cd/<sha256>`. Writes are atomic (a temporary name renamed into
place on local disks; a single object PUT elsewhere) and idempotent; a write that fails (a full
disk, a refused PUT) leaves no temporary behind and raises StoreError. Every host of a
deployment shares one store: `s3://bucket/prefix` (s3fs) in production.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import uuid
from typing import BinaryIO

import fsspec


class StoreError(OSError):
    """The raw store could not keep some bytes."""


class RawStore:
    def __init__(self, url: str) -> None:
        self.url = str(url)
        self.fs, self.root = fsspec.core.url_to_fs(self.url)
        self._local = "file" in _protocols(self.fs)
        self._folders: set[str] = set()      # local folders known to exist: one mkdir each per store
        # temporary names: this store's own prefix (unique across processes and hosts), then a count
        self._writer, self._writes = uuid.uuid4().hex, itertools.count()
        if self._local:
            self.fs.makedirs(self.root, exist_ok=True)

    def prepare_for_writing(self) -> None:
        """Make the store's 256 first folders (`sha256/00` … `sha256/ff`) if it has not got them
        yet — once in a store's life, one look afterwards — so that a writer makes at most the
        second-level folder of each file (a crawl writes its documents across all of them)."""
        if not self._local:
            return
        first = [f"{self.root.rstrip('/')}/sha256/{number:02x}" for number in range(256)]
        if not os.path.isdir(first[-1]):
            for folder in first:
                os.makedirs(folder, exist_ok=True)
        self._folders.update(first)

    @staticmethod
    def key(sha256: str) -> str:
        return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def _path(self, sha256: str) -> str:
        return f"{self.root.rstrip('/')}/{self.key(sha256)}"

    def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        path = self._path(sha256)
        try:
            if self._local:
                self._put_local(path, data)
            elif not self.fs.exists(path):
                self.fs.pipe_file(path, data)
        except OSError as exc:
            raise StoreError(f"could not store {sha256} ({len(data)} bytes) in {self.url}: {exc}") from exc
        return sha256

    def _put_local(self, path: str, data: bytes) -> None:
        # plain os calls, as few as can be: the crawl stores every document on one thread, and each
        # call hands the interpreter lock to the crawl's thread and back
        folder = path.rsplit("/", 1)[0]
        if not self._made(folder) and os.path.exists(path):
            return
        temporary = f"{path}.{self._writer}-{next(self._writes)}.part"
        try:
            with open(temporary, "wb", buffering=0) as file:   # unbuffered: no buffer object, no lseek
                _write_all(file, data)
            os.replace(temporary, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def _made(self, folder: str) -> bool:
        """Make `folder` when this store has not yet; whether it made it (a new folder holds no file)."""
        if folder in self._folders:
            return False
        parent = folder.rsplit("/", 1)[0]
        if parent not in self._folders:
            try:
                os.mkdir(parent)   # one call where os.makedirs would first look for the parent's parent
            except FileExistsError:
                pass
            except FileNotFoundError:
                os.makedirs(parent, exist_ok=True)
            self._folders.add(parent)
        made = True
        try:
            os.mkdir(folder)
        except FileExistsError:
            made = False
        except FileNotFoundError:   # its parent was removed since this store knew it
            os.makedirs(folder)
        self._folders.add(folder)
        return made

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


def _write_all(file: BinaryIO, data: bytes) -> None:
    """Write every byte to an unbuffered file, whose one write may write only some of them."""
    view = memoryview(data)
    while view:
        view = view[file.write(view):]


def _protocols(fs: fsspec.AbstractFileSystem) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)
