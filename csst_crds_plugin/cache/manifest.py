"""The integrity manifest ``config/<obs>/manifest.json``: ``{name: {"sha256": hex, "size": n}}``.

References are verified by SHA-256 and size from the manifest (mappings by their own
``sha1sum``, as in CRDS; a manifest may list them too). ``csst-crds checksum`` writes it and
``csst-crds sync`` merges the entries of the files it fetched, under the config lock, replacing the
file atomically, so readers always see a whole manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from csst_crds_plugin.cache.layout import CacheLayout
from csst_crds_plugin.cache.safe_read import loads_json
from csst_crds_plugin.errors import CacheError, InputLimitError, IntegrityError

__all__ = [
    "MANIFEST_NAME",
    "Digest",
    "check_recorded_size",
    "digest_file",
    "digest_stream",
    "parse_manifest",
    "read_manifest",
    "render_manifest",
    "update_manifest",
]

MANIFEST_NAME = "manifest.json"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Digest:
    """The SHA-256 hex digest and size in bytes of one file."""

    sha256: str
    size: int

    def as_json(self) -> dict[str, object]:
        """The manifest entry."""
        return {"sha256": self.sha256, "size": self.size}


def digest_stream(stream: BinaryIO) -> Digest:
    """Digest everything readable from `stream`."""
    sha = hashlib.sha256()
    size = 0
    while chunk := stream.read(_CHUNK):
        sha.update(chunk)
        size += len(chunk)
    return Digest(sha.hexdigest(), size)


def digest_file(path: Path) -> Digest:
    """Digest one file."""
    with path.open("rb") as stream:
        return digest_stream(stream)


def parse_manifest(data: bytes, origin: str) -> dict[str, Digest]:
    """Parse manifest JSON; a malformed manifest is a CacheError naming `origin`."""
    try:
        raw = loads_json(data, origin)
        if not isinstance(raw, dict):
            raise TypeError("the top level must be an object {name: {sha256, size}}")
        return {
            str(name): Digest(str(entry["sha256"]).lower(), int(entry["size"]))
            for name, entry in raw.items()
        }
    except InputLimitError as exc:
        raise CacheError(f"{exc}; regenerate it with `csst-crds checksum`") from exc
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CacheError(
            f"{origin}: not a valid manifest ({exc}); regenerate it with `csst-crds checksum`"
        ) from exc


_CACHE: dict[str, tuple[tuple[int, int, int], dict[str, Digest]]] = {}


def read_manifest(layout: CacheLayout) -> dict[str, Digest]:
    """The cache's manifest (empty if absent); re-read only when the file changes."""
    path = layout.config_dir / MANIFEST_NAME
    try:
        with path.open("rb") as stream:
            stat = os.fstat(stream.fileno())
            key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
            found = _CACHE.get(str(path))
            if found is not None and found[0] == key:
                return found[1]
            entries = parse_manifest(stream.read(), str(path))
    except FileNotFoundError:
        return {}
    _CACHE[str(path)] = (key, entries)
    return entries


def render_manifest(entries: Mapping[str, Digest]) -> bytes:
    """Canonical manifest JSON: names sorted, one entry per line."""
    lines = [f"  {json.dumps(name)}: {json.dumps(entries[name].as_json())}"
             for name in sorted(entries)]
    return ("{\n" + ",\n".join(lines) + "\n}\n").encode("utf-8")


def update_manifest(layout: CacheLayout, updates: Mapping[str, Digest],
                    removals: Iterable[str] = ()) -> dict[str, Digest]:
    """Merge `updates` into the manifest (and drop `removals`) under the config lock."""
    removals = set(removals)
    if not updates and not removals:
        return read_manifest(layout)
    with layout.config_lock():
        entries = dict(read_manifest(layout))
        entries.update(updates)
        for name in removals:
            entries.pop(name, None)
        layout.write_bytes(layout.config_dir / MANIFEST_NAME, render_manifest(entries))
    return entries


def check_recorded_size(layout: CacheLayout, name: str, path: Path) -> None:
    """Compare a file's size with its manifest entry (cheap; the full hash is for sync --verify).

    Hashing a large reference on every lookup would be too slow, so lookups check the size only.
    """
    entry = read_manifest(layout).get(name)
    if entry is None:
        return
    size = path.stat().st_size
    if size != entry.size:
        raise IntegrityError(
            f"{path}: {size} bytes, but the manifest {layout.config_dir / MANIFEST_NAME} records "
            f"{entry.size} for {name}; the file is truncated or corrupt. Repair it with "
            "`csst-crds sync --source MIRROR --verify --repair`"
        )
