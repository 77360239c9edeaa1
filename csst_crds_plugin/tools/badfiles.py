"""Mark files scientifically invalid (bad) or valid again, in ``config/<obs>/contexts.json``.

CRDS keeps the list on its server; here it is the ``bad_files`` of ``contexts.json``, changed
under the rules lock (so no delivery runs meanwhile) and the config lock, by an atomic rewrite.
Every change is appended to the cache's audit log (who, from the CLI or the console, why).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from csst_crds_plugin.cache import CacheLayout, check_name, load_config
from csst_crds_plugin.cache.config import (
    CONTEXTS_NAME,
    CacheConfig,
    config_from_files,
    render_contexts_json,
)
from csst_crds_plugin.errors import CacheError
from csst_crds_plugin.tools.audit import append_audit, local_user
from csst_crds_plugin.tools.delivery.lock import rules_lock

__all__ = ["bad_files", "mark_bad"]


def bad_files(layout: CacheLayout) -> list[str]:
    """Return the files marked bad (``contexts.json`` and a CRDS ``server_config``), sorted."""
    return sorted(load_config(layout).bad_files)


def mark_bad(layout: CacheLayout, names: Iterable[str], bad: bool = True, *,
             user: str | None = None, source: str = "cli", reason: str = "") -> list[str]:
    """Mark `names` bad (or, with ``bad=False``, valid again); return the names that changed.

    A name must be a cached mapping or reference: marking a typo would protect nothing. A
    change is audited as `user` (default: the system user) from `source` with `reason`.
    """
    names = [check_name(name, "file") for name in names]
    unknown = [n for n in names if not layout.has_mapping(n) and layout.find_reference(n) is None]
    if unknown and bad:
        raise CacheError(f"not in the cache {layout.root}: {', '.join(unknown)}; give the "
                         "names of cached mappings or references")
    layout.require_writable("the bad-file list")
    path = layout.config_dir / CONTEXTS_NAME
    with rules_lock(layout), layout.config_lock():
        try:
            own = config_from_files(layout.observatory, {CONTEXTS_NAME: path.read_bytes()},
                                    str(layout.config_dir))
        except FileNotFoundError:
            own = CacheConfig(observatory=layout.observatory)
        current = set(own.bad_files)
        wanted = current | set(names) if bad else current - set(names)
        changed = sorted(wanted ^ current)
        if changed:
            new = dataclasses.replace(own, bad_files=frozenset(wanted))
            layout.write_bytes(path, render_contexts_json(new))
    if changed:
        append_audit(layout, user=user or local_user(), action="mark bad" if bad else
                     "unmark bad", files=changed, source=source, detail=reason)
    return changed
