"""Mirrors that ``csst-crds sync`` copies from: a directory or a static HTTP(S) file tree.

A mirror has the cache layout (``mappings/<obs>/``, ``references/<obs>/[<instr>/]``,
``config/<obs>/``). HTTP uses the standard library's ``urllib``: a static file tree needs only
GET, the engine gains no dependency, and the proxy variables (``https_proxy``, ``no_proxy``) are
honoured as everywhere else in Python. Transfers are I/O bound, so threads give the parallelism.
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from csst_crds_plugin.errors import CacheError

__all__ = ["DirectoryMirror", "HttpMirror", "Mirror", "open_mirror"]

log = logging.getLogger(__name__)

_RETRIES = 3
_TIMEOUT = 60.0


class Mirror(Protocol):
    """Where files come from; paths are relative, built from checked names."""

    label: str

    def read(self, relpath: str) -> bytes | None:
        """Return the whole file, or None if the mirror has none."""

    def stream(self, relpath: str) -> Iterator[tuple[BinaryIO, int | None]]:
        """Context manager: an open stream and its length if known; FileNotFoundError if absent."""

    def list_names(self, relfolder: str) -> list[str] | None:
        """Plain file names in a folder, or None if the mirror cannot list."""


class DirectoryMirror:
    """A mirror on a (possibly network) file system."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().absolute()
        self.label = str(self.root)
        if not self.root.is_dir():
            raise CacheError(f"mirror {self.root} is not a directory")

    def read(self, relpath: str) -> bytes | None:
        """Return the whole file, or None if absent."""
        try:
            return (self.root / relpath).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    @contextmanager
    def stream(self, relpath: str) -> Iterator[tuple[BinaryIO, int | None]]:
        """Yield an open file and its size."""
        path = self.root / relpath
        with path.open("rb") as handle:
            yield handle, path.stat().st_size

    def list_names(self, relfolder: str) -> list[str] | None:
        """File names in a folder (hidden and temporary files skipped)."""
        folder = self.root / relfolder
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_file()
                      and not p.name.startswith("."))


class HttpMirror:
    """A static HTTP(S) file tree, read with ``urllib``; retries transient failures."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/") + "/"
        self.label = base_url.rstrip("/")

    def _url(self, relpath: str) -> str:
        return urllib.parse.urljoin(self.base, urllib.parse.quote(relpath))

    def _open(self, relpath: str) -> BinaryIO:
        url = self._url(relpath)
        for attempt in range(1, _RETRIES + 1):
            try:
                # S310: open_mirror makes an HttpMirror for http(s) URLs only.
                response = urllib.request.urlopen(url, timeout=_TIMEOUT)  # noqa: S310
            except urllib.error.HTTPError as exc:
                if exc.code in (403, 404, 410):
                    exc.close()
                    raise FileNotFoundError(f"{url}: HTTP {exc.code}") from None
                exc.close()
                if attempt == _RETRIES or exc.code < 500:
                    raise CacheError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if attempt == _RETRIES:
                    raise CacheError(f"{url}: {getattr(exc, 'reason', exc)}; is the mirror "
                                     "reachable?") from exc
            else:
                return response  # type: ignore[no-any-return]  # urlopen gives a binary response
            log.info("retrying %s (attempt %d)", url, attempt + 1)
            time.sleep(0.2 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def read(self, relpath: str) -> bytes | None:
        """Return the whole file, or None on 404."""
        try:
            with self._open(relpath) as response:
                return response.read()
        except FileNotFoundError:
            return None

    @contextmanager
    def stream(self, relpath: str) -> Iterator[tuple[BinaryIO, int | None]]:
        """Yield the response stream and its Content-Length."""
        with self._open(relpath) as response:
            length = response.headers.get("Content-Length")  # type: ignore[attr-defined]  # HTTP response
            yield response, int(length) if length and length.isdigit() else None

    def list_names(self, relfolder: str) -> list[str] | None:
        """Return None: a static tree cannot be listed (its manifest and config name the files)."""
        return None


def open_mirror(source: str) -> DirectoryMirror | HttpMirror:
    """Return a mirror for a directory path or an ``http(s)://`` URL."""
    scheme = urllib.parse.urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        return HttpMirror(source)
    if scheme == "file":
        return DirectoryMirror(urllib.parse.urlsplit(source).path)
    if scheme and len(scheme) > 1:
        raise CacheError(f"unsupported mirror {source!r}: give a directory or an http(s):// URL")
    return DirectoryMirror(source)
