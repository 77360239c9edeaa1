"""The sha256 of each reference a step used, for the output's provenance (``H_<TYPE>``).

A reference chosen by the rules takes the sha256 of the cache's manifest: the lookup that
served it has already checked the file against that entry (`check_recorded_size`), so the
gigabytes are not hashed again. An override is hashed from its path, once per process while
its size and modification time stay the same; N/A and model overrides have no file.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from pathlib import Path

from csst_crds_plugin.cache import digest_file, read_manifest
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.results import RefSource
from csst_crds_plugin.stpipe_integration._activation import get_provider
from csst_crds_plugin.stpipe_integration._provenance import ReferenceUse

__all__ = ["file_checksum", "with_checksums"]

_HASHED: dict[tuple[str, int, int], str] = {}


def file_checksum(path: Path) -> str:
    """``sha256:<hex>`` of a file (memoised on path, size and modification time)."""
    status = path.stat()
    key = (str(path.resolve()), status.st_size, status.st_mtime_ns)
    found = _HASHED.get(key)
    if found is None:
        found = _HASHED[key] = "sha256:" + digest_file(path).sha256
    return found


def _path(use: ReferenceUse, observatory: str) -> Path | None:
    if use.source == RefSource.OVERRIDE:
        path = Path(use.name)
        return path if path.is_file() else None
    if use.source != RefSource.RULE:
        return None
    try:
        return get_provider(observatory).layout.find_reference(use.name)
    except (CsstCrdsError, OSError):
        return None


def _recorded(use: ReferenceUse, observatory: str) -> str | None:
    """The manifest's sha256 of a reference the rules chose (checked when it was served)."""
    if use.source != RefSource.RULE:
        return None
    try:
        entry = read_manifest(get_provider(observatory).layout).get(use.name)
    except (CsstCrdsError, OSError):
        return None
    return None if entry is None else "sha256:" + entry.sha256


def with_checksums(uses: Iterable[ReferenceUse], observatory: str) -> list[ReferenceUse]:
    """`uses` with the checksum of each file found."""
    done = []
    for use in uses:
        recorded = _recorded(use, observatory)
        if recorded is not None:
            done.append(dataclasses.replace(use, checksum=recorded))
            continue
        path = _path(use, observatory)
        checksum = file_checksum(path) if path is not None and os.access(path, os.R_OK) else None
        done.append(dataclasses.replace(use, checksum=checksum))
    return done
