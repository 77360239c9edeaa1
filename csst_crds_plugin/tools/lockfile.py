"""Lock files: a context's closure with the sha256 of every file, and syncing exactly that.

``csst-crds lock CONTEXT -o lock.json`` writes ``{"format", "observatory", "context", "files":
{name: {"kind", "sha256", "size"}}}`` for the context, its imaps and rmaps and every reference
they name, hashed from the cache. ``csst-crds sync --lock lock.json`` fetches that context and
those references from the mirror and then checks each file against the lock: a file whose
sha256 differs, or that is missing, fails the sync by name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from csst_crds_plugin.cache import CacheLayout, digest_file, load_config
from csst_crds_plugin.cache.config import resolve_context
from csst_crds_plugin.cache.layout import atomic_open
from csst_crds_plugin.errors import CacheError, ConfigurationError
from csst_crds_plugin.tools.sync_plan import local_closure

__all__ = ["LOCK_FORMAT", "check_lock", "make_lock", "read_lock", "sync_lock", "write_lock"]

LOCK_FORMAT = "csst-crds-lock/1"


def _path(layout: CacheLayout, name: str, kind: str) -> Path | None:
    if kind == "mapping":
        return layout.mapping_path(name) if layout.has_mapping(name) else None
    return layout.find_reference(name)


def make_lock(layout: CacheLayout, context: str) -> dict[str, Any]:
    """Return the lock of `context` (a pmap name or spec), hashed from the cache."""
    pmap = resolve_context(context, load_config(layout), "the context")
    closure = local_closure(layout, [pmap])
    files: dict[str, dict[str, object]] = {}
    missing = []
    for kind, names in (("mapping", closure.mappings), ("reference", closure.references)):
        for name in sorted(names):
            path = _path(layout, name, kind)
            if path is None:
                missing.append(name)
                continue
            digest = digest_file(path)
            files[name] = {"kind": kind, "sha256": digest.sha256, "size": digest.size}
    if missing:
        raise CacheError(f"{pmap} names files that are not in the cache {layout.root}: "
                         f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}; "
                         f"fetch them with `csst-crds sync --contexts {pmap} --references`")
    return {"format": LOCK_FORMAT, "observatory": layout.observatory, "context": pmap,
            "files": files}


def write_lock(lock: Mapping[str, Any], path: str | Path) -> None:
    """Write a lock atomically."""
    with atomic_open(Path(path)) as stream:
        stream.write((json.dumps(lock, indent=1, sort_keys=True) + "\n").encode("utf-8"))


def read_lock(path: str | Path) -> dict[str, Any]:
    """Read and check a lock file."""
    try:
        lock = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path}: not a readable lock file: {exc}") from exc
    if not isinstance(lock, dict) or lock.get("format") != LOCK_FORMAT or \
            not isinstance(lock.get("files"), dict) or not isinstance(lock.get("context"), str):
        raise ConfigurationError(f"{path}: not a {LOCK_FORMAT} lock; write one with "
                                 "`csst-crds lock CONTEXT -o lock.json`")
    return lock


def check_lock(layout: CacheLayout, lock: Mapping[str, Any]) -> dict[str, str]:
    """{name: problem} for each locked file the cache lacks or holds with another sha256."""
    problems = {}
    for name, entry in sorted(lock["files"].items()):
        path = _path(layout, name, str(entry.get("kind")))
        if path is None:
            problems[name] = "missing from the cache"
            continue
        digest = digest_file(path)
        if digest.sha256 != entry.get("sha256") or digest.size != entry.get("size"):
            problems[name] = (f"sha256 {digest.sha256[:16]}... ({digest.size} bytes) differs "
                              f"from the lock's {str(entry.get('sha256'))[:16]}... "
                              f"({entry.get('size')} bytes)")
    return problems


def sync_lock(layout: CacheLayout, source: str | None, path: str | Path, *, jobs: int = 4,
              dry_run: bool = False) -> Any:
    """Fetch a lock's context and references, then hold every file to the lock's sha256.

    Returns the SyncReport (its ``failed`` names every file that differs from the lock), or
    with `dry_run` None after printing nothing: the caller prints `check_lock`'s problems.
    """
    from csst_crds_plugin.tools.sync import SyncReport, sync

    lock = read_lock(path)
    if lock.get("observatory") != layout.observatory:
        raise ConfigurationError(f"{path} locks a {lock.get('observatory')} context, not "
                                 f"{layout.observatory}; pass --observatory")
    if dry_run:
        return SyncReport(contexts=[lock["context"]], failed=check_lock(layout, lock))
    if source is None:
        raise ConfigurationError("no mirror: give --source DIR|URL or set CSST_CRDS_MIRROR")
    references = [n for n, e in lock["files"].items() if e.get("kind") == "reference"]
    report = sync(layout.root, source, observatory=layout.observatory,
                  contexts=[lock["context"]], files=references, jobs=jobs)
    report.failed.update({n: f"against {Path(path).name}: {why}"
                          for n, why in check_lock(layout, lock).items()})
    return report
