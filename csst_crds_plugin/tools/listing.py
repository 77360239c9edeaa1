"""``csst-crds list``: what a cache holds (contexts, mappings, references, config, status)."""

from __future__ import annotations

from pathlib import Path

from csst_crds_plugin.cache import CacheLayout, load_config, read_manifest
from csst_crds_plugin.cache.config import CONFIG_FILES
from csst_crds_plugin.rules.ir import MAPPING_EXTENSIONS
from csst_crds_plugin.settings import get_settings
from csst_crds_plugin.tools.verify import iter_references

__all__ = ["layout_for", "list_config", "list_contexts", "list_mappings", "list_references",
           "status"]


def layout_for(cache: str | Path | None, observatory: str) -> CacheLayout:
    """Return the layout of `cache` (default: the settings' root)."""
    settings = get_settings()
    return CacheLayout(cache if cache is not None else settings.cache_root, observatory,
                       readonly=settings.readonly)


def _mappings(layout: CacheLayout, extensions: tuple[str, ...]) -> list[Path]:
    if not layout.mappings_dir.is_dir():
        return []
    return sorted(p for p in layout.mappings_dir.iterdir()
                  if p.suffix in extensions and not p.name.startswith("."))


def list_contexts(layout: CacheLayout) -> list[str]:
    """One line per cached pmap, marked operational/latest, with its activation date."""
    config = load_config(layout)
    activated = {e.context: e for e in config.history}
    lines = []
    for path in _mappings(layout, (".pmap",)):
        marks = [m for m, n in (("operational", config.operational),
                                ("latest", config.latest_context)) if n == path.name]
        entry = activated.get(path.name)
        when = f"  activated {entry.activated.isoformat()}" if entry else ""
        note = f"  {entry.description}" if entry and entry.description else ""
        lines.append(f"{path.name}{'  [' + ', '.join(marks) + ']' if marks else ''}{when}{note}")
    cached = {p.name for p in _mappings(layout, (".pmap",))}
    lines += [f"{e.context}  activated {e.activated.isoformat()}  (not cached)"
              for e in config.history if e.context not in cached]
    return lines


def list_mappings(layout: CacheLayout) -> list[str]:
    """Every cached mapping with its size."""
    return [f"{p.name}  {p.stat().st_size}" for p in
            _mappings(layout, MAPPING_EXTENSIONS)]


def list_references(layout: CacheLayout) -> list[str]:
    """Every cached reference: relative path, size, and whether the manifest records it."""
    manifest = read_manifest(layout)
    bad = load_config(layout).bad_files
    lines = []
    for path in iter_references(layout):
        flags = [] if path.name in manifest else ["unrecorded"]
        if path.name in bad:
            flags.append("BAD")
        rel = path.relative_to(layout.references_dir)
        lines.append(f"{rel}  {path.stat().st_size}{'  ' + ','.join(flags) if flags else ''}")
    return lines


def list_config(layout: CacheLayout) -> list[str]:
    """Return the config files present and what they say."""
    config = load_config(layout)
    lines = [f"config folder: {layout.config_dir}"]
    for name in (*CONFIG_FILES, "ref_cache_subdir_mode", "manifest.json"):
        path = layout.config_dir / name
        lines.append(f"  {name}: {'present' if path.is_file() else 'absent'}")
    lines += [
        f"operational context: {config.operational or '-'}",
        f"latest context: {config.latest_context or '-'}",
        f"reference layout: {layout.subdir_mode()}",
        f"mirror: {config.mirror or '-'}",
        "history:",
        *[f"  {e.activated.isoformat()}  {e.context}  {e.description}".rstrip()
          for e in config.history],
        f"bad files ({len(config.bad_files)}):",
        *[f"  {name}" for name in sorted(config.bad_files)],
    ]
    return lines


def status(layout: CacheLayout) -> list[str]:
    """Return a summary: root, read-only, operational context, counts, sizes, bad files."""
    config = load_config(layout)
    mappings = _mappings(layout, MAPPING_EXTENSIONS)
    references = iter_references(layout)
    manifest = read_manifest(layout)
    ref_bytes = sum(p.stat().st_size for p in references)
    unrecorded = sum(1 for p in references if p.name not in manifest)
    return [
        f"cache root: {layout.root}",
        f"observatory: {layout.observatory}",
        f"read-only: {'yes' if layout.readonly else 'no'}",
        f"operational context: {config.operational or '- (none: csst-crds sync --source ...)'}",
        f"latest context: {config.latest_context or '-'}",
        f"contexts in history: {len(config.history)}",
        f"mappings: {len(mappings)} ({sum(p.stat().st_size for p in mappings)} bytes)",
        f"references: {len(references)} ({ref_bytes} bytes), {unrecorded} not in the manifest",
        f"reference layout: {layout.subdir_mode()}",
        f"bad files: {len(config.bad_files)}",
    ]
