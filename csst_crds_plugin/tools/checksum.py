"""``csst-crds checksum``: write the integrity manifest; rewrite mapping ``sha1sum``s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from csst_crds_plugin.cache import CacheLayout, digest_file, read_manifest, update_manifest
from csst_crds_plugin.cache.layout import atomic_open
from csst_crds_plugin.cache.manifest import Digest
from csst_crds_plugin.errors import CacheError, ReadOnlyCacheError
from csst_crds_plugin.rules import set_sha1sum
from csst_crds_plugin.settings import get_settings
from csst_crds_plugin.tools.verify import iter_references

__all__ = ["ManifestUpdate", "rewrite_sha1sums", "write_manifest"]


@dataclass
class ManifestUpdate:
    """What ``write_manifest`` recorded."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0


def write_manifest(cache: str | Path | None = None, observatory: str = "csst", *,
                   names: Sequence[str] = (), rehash: bool = False) -> ManifestUpdate:
    """Record SHA-256 and size of the cache's files in ``config/<obs>/manifest.json``.

    Files not yet in the manifest are added. A recorded file is re-hashed only when named in
    `names` or with `rehash` (so a corrupted file is never silently blessed).
    """
    settings = get_settings()
    layout = CacheLayout(cache if cache is not None else settings.cache_root, observatory,
                         readonly=settings.readonly)
    layout.require_writable(str(layout.config_dir / "manifest.json"))
    current = read_manifest(layout)
    files = list(iter_references(layout))
    if layout.mappings_dir.is_dir():
        files += sorted(p for p in layout.mappings_dir.iterdir()
                        if p.suffix in (".pmap", ".imap", ".rmap") and not p.name.startswith("."))
    known = {path.name for path in files}
    missing = [name for name in names if name not in known]
    if missing:
        raise CacheError(f"not in the cache {layout.root}: {', '.join(missing)}")
    result = ManifestUpdate()
    updates: dict[str, Digest] = {}
    for path in files:
        if path.name in current and not rehash and path.name not in names:
            result.unchanged += 1
            continue
        digest = digest_file(path)
        if current.get(path.name) == digest:
            result.unchanged += 1
            continue
        updates[path.name] = digest
        (result.updated if path.name in current else result.added).append(path.name)
    update_manifest(layout, updates)
    return result


def rewrite_sha1sums(paths: Sequence[str | Path]) -> list[str]:
    """Recompute the ``sha1sum`` of mapping files in place (atomically); return changed paths."""
    if get_settings().readonly:
        raise ReadOnlyCacheError("CSST_CRDS_READONLY is set: mapping files cannot be rewritten")
    changed = []
    for item in paths:
        path = Path(item)
        text = path.read_text(encoding="utf-8")
        new = set_sha1sum(text)
        if new != text:
            with atomic_open(path) as stream:
                stream.write(new.encode("utf-8"))
            changed.append(str(path))
    return changed
