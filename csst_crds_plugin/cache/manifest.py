"""The integrity manifest ``config/<obs>/manifest.json``: ``{name: {"sha256": hex, "size": n}}``.

References are verified by SHA-256 and size from the manifest (mappings by their own
``sha1sum``, as in CRDS; a manifest may list them too). ``csst-crds checksum`` writes it and
``csst-crds sync`` merges the entries of the files it fetched, under the config lock, replacing the
file atomically, so readers always see a whole manifest.

References are never served modified: a lookup (:func:`check_recorded_size`) compares the
selected file with its entry. Hashing a large file on every lookup would be too slow, so the
(device, inode, size, mtime_ns, ctime_ns) at which a file's SHA-256 last matched its entry is
remembered, in the process and, when the cache is writable, in ``config/<obs>/verified.json``
(written atomically; a read-only cache works without it). Any change to the file changes one of
them (``ctime`` cannot be set back by a user), and the file is hashed again. A file changed
within the last two seconds is not remembered, since a second change within the file system's
timestamp granularity could keep its times: it is hashed on each lookup until it is older.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from csst_crds_plugin.cache.layout import CacheLayout
from csst_crds_plugin.cache.safe_read import loads_json
from csst_crds_plugin.errors import (
    CacheError,
    InputLimitError,
    IntegrityError,
    ModifiedReferenceError,
)

__all__ = [
    "MANIFEST_NAME",
    "STAMPS_NAME",
    "Digest",
    "check_recorded_size",
    "check_references",
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
        """Return the manifest entry."""
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


def _entries(raw: object) -> dict[str, Digest]:
    """Return the digests of decoded manifest JSON; TypeError, KeyError... if malformed."""
    if not isinstance(raw, dict):
        raise TypeError("the top level must be an object {name: {sha256, size}}")
    return {
        str(name): Digest(str(entry["sha256"]).lower(), int(entry["size"]))
        for name, entry in raw.items()
    }


def parse_manifest(data: bytes, origin: str) -> dict[str, Digest]:
    """Parse manifest JSON; a malformed manifest is a CacheError naming `origin`."""
    try:
        return _entries(loads_json(data, origin))
    except InputLimitError as exc:
        raise CacheError(f"{exc}; regenerate it with `csst-crds checksum`") from exc
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CacheError(
            f"{origin}: not a valid manifest ({exc}); regenerate it with `csst-crds checksum`"
        ) from exc


_CACHE: dict[str, tuple[tuple[int, int, int], dict[str, Digest]]] = {}


def read_manifest(layout: CacheLayout) -> dict[str, Digest]:
    """Return the cache's manifest (empty if absent); re-read only when the file changes."""
    path = layout.config_dir / MANIFEST_NAME
    found = _CACHE.get(str(path))
    if found is not None:  # a stat is cheaper than an open; a change alters the key
        with contextlib.suppress(OSError):
            status = path.stat()
            if found[0] == (status.st_ino, status.st_size, status.st_mtime_ns):
                return found[1]
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


STAMPS_NAME = "verified.json"
_RACY_NS = 2_000_000_000
_MEMO: dict[str, tuple[tuple[int, ...], str]] = {}
_MEMO_LIMIT = 1 << 16
_STAMPS: dict[str, tuple[tuple[int, int, int], dict[str, tuple[tuple[int, ...], str]]]] = {}

Key = tuple[int, ...]


def _key(status: os.stat_result) -> Key:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns,
            status.st_ctime_ns)


def _read_stamps(layout: CacheLayout) -> dict[str, tuple[Key, str]]:
    """Return the persisted stamps (empty if absent or unreadable: they are only a shortcut)."""
    path = layout.config_dir / STAMPS_NAME
    try:
        with path.open("rb") as stream:
            status = os.fstat(stream.fileno())
            version = (status.st_ino, status.st_size, status.st_mtime_ns)
            known = _STAMPS.get(str(path))
            if known is not None and known[0] == version:
                return known[1]
            raw = loads_json(stream.read(), str(path))
        stamps = {str(name): (tuple(int(v) for v in entry[:5]), str(entry[5]))
                  for name, entry in raw.items()}
    except (OSError, ValueError, TypeError, AttributeError, IndexError):
        return {}
    _STAMPS[str(path)] = (version, stamps)
    return stamps


def _save_stamps(layout: CacheLayout, fresh: dict[str, tuple[Key, str]]) -> None:
    """Add `fresh` stamps to the persisted ones, if the cache can be written (else skip)."""
    if not fresh or layout.readonly or not os.access(layout.config_dir, os.W_OK):
        return
    with contextlib.suppress(OSError):
        with layout.config_lock():
            stamps = dict(_read_stamps(layout))
            stamps.update(fresh)
            manifest = read_manifest(layout)
            lines = [f"  {json.dumps(name)}: {json.dumps([*key, sha])}"
                     for name, (key, sha) in sorted(stamps.items())
                     if name in manifest and manifest[name].sha256 == sha]
            text = "{\n" + ",\n".join(lines) + "\n}\n"
            layout.write_bytes(layout.config_dir / STAMPS_NAME, text.encode("utf-8"))


def _verify(layout: CacheLayout, name: str, path: Path, entry: Digest,
            fresh: dict[str, tuple[Key, str]]) -> None:
    status = path.stat()
    if status.st_size != entry.size:
        raise IntegrityError(
            f"{path}: {status.st_size} bytes, but the manifest {layout.config_dir / MANIFEST_NAME} "
            f"records {entry.size} for {name}; the file is truncated or corrupt. Repair it with "
            "`csst-crds sync --source MIRROR --verify --repair`"
        )
    key = _key(status)
    if _MEMO.get(str(path)) == (key, entry.sha256):
        return
    if _read_stamps(layout).get(name) == (key, entry.sha256):
        _remember(path, key, entry.sha256)
        return
    actual = digest_file(path)
    if actual.sha256 != entry.sha256:
        raise ModifiedReferenceError(
            f"{path}: its content (sha256 {actual.sha256[:16]}...) differs from the manifest "
            f"{layout.config_dir / MANIFEST_NAME} ({entry.sha256[:16]}...) for {name}; the file "
            "was modified or corrupted and is not used. Restore it with "
            "`csst-crds sync --source MIRROR --verify --repair`"
        )
    after = path.stat()
    settled = time.time_ns() - max(after.st_mtime_ns, after.st_ctime_ns) > _RACY_NS
    if _key(after) == key and settled:
        _remember(path, key, entry.sha256)
        fresh[name] = (key, entry.sha256)


def _remember(path: Path, key: Key, sha256: str) -> None:
    if len(_MEMO) >= _MEMO_LIMIT:
        _MEMO.clear()
    _MEMO[str(path)] = (key, sha256)


def check_recorded_size(layout: CacheLayout, name: str, path: Path) -> None:
    """Refuse a reference whose size or SHA-256 differs from its manifest entry.

    The size is compared on every call; the SHA-256 when the file's (device, inode, size,
    mtime, ctime) differ from those at its last successful check (see the module docstring).
    Raises IntegrityError (ModifiedReferenceError for a same-size change) naming the file and
    the repair command. A file without a manifest entry is not checked.
    """
    entry = read_manifest(layout).get(name)
    if entry is None:
        return
    fresh: dict[str, tuple[Key, str]] = {}
    _verify(layout, name, path, entry, fresh)
    _save_stamps(layout, fresh)


def check_references(layout: CacheLayout,
                     items: Iterable[tuple[str, Path]]) -> list[tuple[Path, OSError]]:
    """Check many (name, path) pairs; return (path, error) per refused file (stamps saved once).

    The error is an IntegrityError (ModifiedReferenceError for a same-size change), or the
    OSError met reading the file.
    """
    manifest = read_manifest(layout)
    fresh: dict[str, tuple[Key, str]] = {}
    problems: list[tuple[Path, OSError]] = []
    for name, path in items:
        entry = manifest.get(name)
        if entry is None:
            continue
        try:
            _verify(layout, name, path, entry, fresh)
        except OSError as exc:  # CacheError included
            problems.append((path, exc))
    _save_stamps(layout, fresh)
    return problems
