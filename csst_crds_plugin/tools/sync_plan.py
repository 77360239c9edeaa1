"""CRDS's sync options around the transfer: default mirror, ranges, dataset files, purges, dry runs.

- The mirror: ``--source``, else ``CSST_CRDS_MIRROR`` (CRDS's ``CRDS_SERVER_URL``), else the
  mirror recorded in ``contexts.json`` by the last sync.
- ``--range N:M``: the contexts ``<obs>_NNNN.pmap`` with N <= NNNN <= M that the mirror has.
- ``--dataset-files``: the references that FITS/ASDF datasets select under the contexts.
- ``--purge-mappings`` / ``--purge-references``: remove the cached mappings / references that
  no kept context names (the synced contexts and the operational one), as CRDS does.
- ``--dry-run``: say what would be fetched and purged; write nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from csst_crds_plugin.cache import CacheLayout, load_config
from csst_crds_plugin.cache.manifest import update_manifest
from csst_crds_plugin.context import InstrumentMapping, PipelineMapping, ReferenceMapping
from csst_crds_plugin.errors import ConfigurationError, CsstCrdsError
from csst_crds_plugin.loader import MappingLoader
from csst_crds_plugin.rules.ir import MAPPING_EXTENSIONS
from csst_crds_plugin.settings import get_settings
from csst_crds_plugin.tools.verify import iter_references

__all__ = [
    "Closure", "PurgeReport", "context_range", "dataset_references", "default_source",
    "local_closure", "purge",
]

_RANGE = re.compile(r"^\s*(\d+)\s*[:-]\s*(\d+)\s*$")


def default_source(layout: CacheLayout, source: str | None) -> str | None:
    """``--source``, else ``CSST_CRDS_MIRROR``, else the mirror ``contexts.json`` records."""
    if source:
        return source
    settings = get_settings()
    if settings.mirror:
        return settings.mirror
    try:
        return load_config(layout).mirror
    except CsstCrdsError:
        return None


def context_range(names: Iterable[str], observatory: str, spec: str) -> list[str]:
    """Return the pmap names among `names` whose serial lies in ``N:M`` (both included)."""
    found = _RANGE.match(spec)
    if found is None:
        raise ConfigurationError(f"--range {spec!r}: give two context numbers, e.g. 3:7")
    low, high = sorted(int(n) for n in found.groups())
    pattern = re.compile(rf"^{re.escape(observatory)}_(\d+)\.pmap$")
    chosen = sorted(n for n in set(names) if (m := pattern.match(n)) and
                    low <= int(m.group(1)) <= high)
    if not chosen:
        raise ConfigurationError(f"--range {spec}: the mirror has no {observatory}_NNNN.pmap "
                                 f"numbered {low} to {high}")
    return chosen


@dataclass
class Closure:
    """Every mapping and reference a set of contexts names."""

    mappings: set[str] = field(default_factory=set)
    references: set[str] = field(default_factory=set)


def local_closure(layout: CacheLayout, contexts: Iterable[str]) -> Closure:
    """Return the closure of cached `contexts` (listing but not loading absent mappings)."""
    settings = get_settings()
    loader = MappingLoader(layout.read_mapping_data, layout.has_mapping,
                           ignore_checksum=settings.ignore_checksum,
                           label=str(layout.mappings_dir))
    closure = Closure()
    pending = list(contexts)
    while pending:
        name = pending.pop()
        if name in closure.mappings:
            continue
        closure.mappings.add(name)
        if not layout.has_mapping(name):
            continue
        mapping = loader.load(name)
        # the loader builds each kind from the name's extension
        if isinstance(mapping, PipelineMapping):
            pending += [v for v in mapping.entries.values()
                        if str(v).lower() not in ("n/a", "omit")]
        elif isinstance(mapping, InstrumentMapping):
            pending += list(mapping.rmap_names())
        elif isinstance(mapping, ReferenceMapping):
            closure.references.update(mapping.reference_names())
    return closure


def dataset_references(layout: CacheLayout, contexts: Sequence[str],
                       files: Sequence[str]) -> dict[str, str]:
    """Map each reference the datasets `files` select under a cached context to that context."""
    from csst_crds_plugin.provider import ReferenceProvider
    from csst_crds_plugin.tools.affected.scan import scan_file

    wanted: dict[str, str] = {}
    parameters = [scan_file(path) for path in files]
    for context in contexts:
        provider = ReferenceProvider(cache=layout.root, context=context,
                                     observatory=layout.observatory)
        for row in parameters:
            for selection in provider.best_references(row, errors="collect").values():
                for name in selection.files():
                    wanted.setdefault(name, context)
    return wanted


@dataclass
class PurgeReport:
    """What a purge removed (or, in a dry run, would remove)."""

    mappings: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)


def purge(layout: CacheLayout, keep: Iterable[str], *, mappings: bool, references: bool,
          dry_run: bool = False) -> PurgeReport:
    """Remove what the kept contexts and the operational context do not name."""
    kept = set(keep)
    operational = load_config(layout).operational
    if operational:
        kept.add(operational)
    if not kept:
        raise ConfigurationError("nothing to keep: name the contexts to keep (--contexts, "
                                 "--range, --all); a purge never empties a cache")
    closure = local_closure(layout, kept)
    report = PurgeReport()
    if mappings and layout.mappings_dir.is_dir():
        report.mappings = sorted(p.name for p in layout.mappings_dir.iterdir()
                                 if p.name.endswith(MAPPING_EXTENSIONS)
                                 and p.name not in closure.mappings)
    doomed = []
    if references:
        doomed = [p for p in iter_references(layout) if p.name not in closure.references]
        report.references = sorted(p.name for p in doomed)
    if dry_run or not (report.mappings or doomed):
        return report
    layout.require_writable("purged files")
    for path in doomed:
        path.unlink(missing_ok=True)
    order = {".pmap": 0, ".imap": 1, ".rmap": 2}  # top-down: no visible context loses a child
    for name in sorted(report.mappings, key=lambda n: (order.get(n[-5:], 3), n)):
        layout.mapping_path(name).unlink(missing_ok=True)
    update_manifest(layout, {}, removals=[*report.mappings, *report.references])
    return report
