"""Mark and unmark bad files of a cache (CRDS's "scientifically invalid" list), audited.

The list is ``bad_files`` of ``config/<obs>/contexts.json``. A change takes the rules lock (no
delivery or activation runs at the same time), rewrites the file atomically under the config
lock, and appends an entry to the audit log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from csst_crds_plugin.cache.config import (
    CONTEXTS_NAME,
    CacheConfig,
    config_from_files,
    load_config,
    render_contexts_json,
)
from csst_crds_plugin.cache.layout import CacheLayout, check_name
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.settings import get_settings
from csst_crds_plugin.tools.audit import append_audit, local_user
from csst_crds_plugin.tools.delivery.lock import rules_lock

__all__ = ["BadFilesError", "bad_files", "mark_bad", "unmark_bad"]

_MAPPINGS = (".pmap", ".imap", ".rmap")


class BadFilesError(CsstCrdsError, ValueError):
    """A file to mark is not in the cache, or one to unmark is not marked here."""


def _layout(cache: str | Path | CacheLayout | None, observatory: str) -> CacheLayout:
    if isinstance(cache, CacheLayout):
        return cache
    settings = get_settings()
    return CacheLayout(cache if cache is not None else settings.cache_root, observatory,
                       readonly=settings.readonly)


def bad_files(cache: str | Path | CacheLayout | None, observatory: str = "csst") -> list[str]:
    """The bad files of a cache, sorted (from every config file)."""
    return sorted(load_config(_layout(cache, observatory)).bad_files)


def _known(layout: CacheLayout, name: str) -> bool:
    if name.endswith(_MAPPINGS):
        return layout.has_mapping(name)
    return layout.find_reference(name) is not None


def _change(cache: str | Path | CacheLayout | None, names: Iterable[str], mark: bool, *,
            user: str | None, source: str, reason: str, observatory: str,
            lock_timeout: float) -> list[str]:
    layout = _layout(cache, observatory)
    layout.require_writable("the bad-file list")
    wanted = [check_name(Path(str(n)).name, "file") for n in names]
    if not wanted:
        raise BadFilesError("name one or more files")
    path = layout.config_dir / CONTEXTS_NAME
    with rules_lock(layout, lock_timeout), layout.config_lock():
        try:
            own = config_from_files(layout.observatory, {CONTEXTS_NAME: path.read_bytes()},
                                    str(layout.config_dir))
        except FileNotFoundError:
            own = CacheConfig(observatory=layout.observatory)
        if mark:
            unknown = [n for n in wanted if not _known(layout, n)]
            if unknown:
                raise BadFilesError(f"{', '.join(unknown)}: not a file of the cache "
                                    f"{layout.root}; name cached references or mappings")
            changed = [n for n in wanted if n not in own.bad_files]
            new = own.bad_files | set(wanted)
        else:
            elsewhere = sorted(set(wanted) & (load_config(layout).bad_files - own.bad_files))
            if elsewhere:
                raise BadFilesError(f"{', '.join(elsewhere)}: marked bad by server_config or "
                                    f"bad_files.txt in {layout.config_dir}; edit that file")
            missing = [n for n in wanted if n not in own.bad_files]
            if missing:
                raise BadFilesError(f"{', '.join(missing)}: not marked bad in {path}")
            changed = wanted
            new = own.bad_files - set(wanted)
        layout.write_bytes(path, render_contexts_json(
            dataclasses.replace(own, bad_files=frozenset(new))))
    append_audit(layout, user=user or local_user(), action="mark bad" if mark else "unmark bad",
                 files=changed, source=source, detail=reason)
    return changed


def mark_bad(cache: str | Path | CacheLayout | None, names: Iterable[str], *,
             user: str | None = None, source: str = "cli", reason: str = "",
             observatory: str = "csst", lock_timeout: float = 600.0) -> list[str]:
    """Mark cached files bad; return the names newly marked. Audited."""
    return _change(cache, names, True, user=user, source=source, reason=reason,
                   observatory=observatory, lock_timeout=lock_timeout)


def unmark_bad(cache: str | Path | CacheLayout | None, names: Iterable[str], *,
               user: str | None = None, source: str = "cli", reason: str = "",
               observatory: str = "csst", lock_timeout: float = 600.0) -> list[str]:
    """Remove files from the bad list of ``contexts.json``; return them. Audited."""
    return _change(cache, names, False, user=user, source=source, reason=reason,
                   observatory=observatory, lock_timeout=lock_timeout)
