"""Differences between mappings: headers, pmap/imap entries, and rmaps recursively.

A pmap or imap pair reports which instrument or reference type now points at another mapping,
then recurses into each replaced pair that can be found (next to the given files, or in the
cache), down to the rule differences of the rmaps, like CRDS ``diff`` with recursion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from csst_crds_plugin.cache import CacheLayout, load_config, observatory_of, resolve_context
from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY
from csst_crds_plugin.rules import DictNode, MappingIR, compute_sha1sum, sha1sum_problem
from csst_crds_plugin.rules.ir import MAPPING_KINDS
from csst_crds_plugin.selectors.values import is_na_value, is_omit_value
from csst_crds_plugin.settings import get_settings
from csst_crds_plugin.tools.diffing.rules import (
    DiffInputError,
    RuleChange,
    diff_rules,
    jsonable,
    read_ir,
)

__all__ = [
    "BORING_HEADER_KEYS",
    "EntryChange",
    "HeaderChange",
    "MappingFinder",
    "changed_mappings",
    "diff_mapping_files",
    "mapping_entries",
]

BORING_HEADER_KEYS = frozenset({"name", "derived_from", "sha1sum"})
"""Header fields that differ between any two versions (hidden unless asked for)."""



@dataclass(frozen=True, slots=True)
class HeaderChange:
    """A header field added, deleted or replaced."""

    old_mapping: str
    new_mapping: str
    key: str
    action: str
    old: Any = None
    new: Any = None

    @property
    def boring(self) -> bool:
        """True for ``name``, ``derived_from`` and ``sha1sum``."""
        return self.key in BORING_HEADER_KEYS

    def __str__(self) -> str:
        """Render the change as one line of the report."""
        if self.action == "added":
            what = f"header added {self.key!r} = {self.new!r}"
        elif self.action == "deleted":
            what = f"header deleted {self.key!r} (was {self.old!r})"
        else:
            what = f"header replaced {self.key!r}: {self.old!r} -> {self.new!r}"
        return f"{self.new_mapping}: {what}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {"type": "header", "old_mapping": self.old_mapping,
                "new_mapping": self.new_mapping, "key": self.key, "action": self.action,
                "old": jsonable(self.old), "new": jsonable(self.new), "text": str(self)}


@dataclass(frozen=True, slots=True)
class EntryChange:
    """A pmap instrument or imap reference type that points at another mapping (or N/A, OMIT)."""

    old_mapping: str
    new_mapping: str
    key: str
    action: str
    old: str | None = None
    new: str | None = None

    def __str__(self) -> str:
        """Render the change as one line of the report."""
        if self.action == "added":
            what = f"added {self.key!r} -> {self.new}"
        elif self.action == "deleted":
            what = f"deleted {self.key!r} (was {self.old})"
        else:
            what = f"replaced {self.key!r}: {self.old} -> {self.new}"
        return f"{self.new_mapping}: {what}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {"type": "entry", "old_mapping": self.old_mapping,
                "new_mapping": self.new_mapping, "key": self.key, "action": self.action,
                "old": self.old, "new": self.new, "text": str(self)}


class MappingFinder:
    """Finds sub-mappings by name: in given folders first, then in the cache's mappings folder."""

    def __init__(self, folders: Sequence[Path] = (), layout: CacheLayout | None = None) -> None:
        self.folders = list(dict.fromkeys(folders))
        self.layout = layout

    def find(self, name: str) -> Path | None:
        """Return the path of mapping `name`, or None."""
        if "/" in name or "\\" in name or name in (".", ".."):
            return None
        for folder in self.folders:
            if (folder / name).is_file():
                return folder / name
        if self.layout is not None and self.layout.has_mapping(name):
            return self.layout.mapping_path(name)
        return None

    def describe(self) -> str:
        """Where it looks, for messages."""
        places = [str(f) for f in self.folders]
        if self.layout is not None:
            places.append(str(self.layout.mappings_dir))
        return ", ".join(places) or "nowhere"


def mapping_kind(ir: MappingIR) -> str:
    """PIPELINE, INSTRUMENT or REFERENCE (by extension, else by the header)."""
    found = MAPPING_KINDS.get(Path(ir.path).suffix.lower())
    return found or str(ir.header_dict().get("mapping", "")).upper()


def mapping_entries(ir: MappingIR) -> dict[str, str]:
    """Return a pmap's or imap's entries, keys lower-cased as lookups see them."""
    if not isinstance(ir.selector, DictNode):
        raise DiffInputError(f"{ir.path}: the selector of a {mapping_kind(ir).lower()} mapping "
                             "must be a dict")
    return {str(k).lower(): str(v) for k, v in ir.selector.as_dict().items()}


def _is_mapping_name(value: str | None) -> TypeGuard[str]:
    return value is not None and not is_na_value(value) and not is_omit_value(value)


def diff_headers(old: MappingIR, new: MappingIR) -> list[HeaderChange]:
    """Header fields added, deleted and replaced (raw values, as written)."""
    old_name, new_name = Path(old.path).name, Path(new.path).name
    before = {str(k): v for k, v in old.header_dict().items()}
    after = {str(k): v for k, v in new.header_dict().items()}
    changes = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            changes.append(HeaderChange(old_name, new_name, key, "deleted", old=before[key]))
        elif key not in before:
            changes.append(HeaderChange(old_name, new_name, key, "added", new=after[key]))
        elif jsonable(before[key]) != jsonable(after[key]):
            changes.append(HeaderChange(old_name, new_name, key, "replaced", before[key],
                                        after[key]))
    return changes


def diff_entries(old: MappingIR, new: MappingIR) -> list[EntryChange]:
    """List the pmap or imap entries added, deleted and replaced."""
    old_name, new_name = Path(old.path).name, Path(new.path).name
    before, after = mapping_entries(old), mapping_entries(new)
    changes = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            changes.append(EntryChange(old_name, new_name, key, "deleted", old=before[key]))
        elif key not in before:
            changes.append(EntryChange(old_name, new_name, key, "added", new=after[key]))
        elif before[key] != after[key]:
            changes.append(EntryChange(old_name, new_name, key, "replaced", before[key],
                                       after[key]))
    return changes


@dataclass
class MappingDiff:
    """Everything found between two mappings (recursively); notes say what was not compared."""

    differences: list[HeaderChange | EntryChange | RuleChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def diff_mapping_files(old: MappingIR | str | Path, new: MappingIR | str | Path, *,
                       finder: MappingFinder | None = None, recurse: bool = True,
                       result: MappingDiff | None = None) -> MappingDiff:
    """Compare two mappings of the same kind; recurse into replaced sub-mapping pairs."""
    old_ir, new_ir = read_ir(old), read_ir(new)
    kind, other = mapping_kind(old_ir), mapping_kind(new_ir)
    if kind != other:
        raise DiffInputError(f"cannot compare {old_ir.path} ({kind.lower()}) with "
                             f"{new_ir.path} ({other.lower()}): both must be the same kind")
    result = result if result is not None else MappingDiff()
    for ir in (old_ir, new_ir):
        header = ir.header_dict()
        problem = sha1sum_problem(header, compute_sha1sum(ir.source.text), ir.path)
        if "sha1sum" in header and problem is not None:  # a missing one is no difference
            result.notes.append(f"{ir.path}: {problem}")
    result.differences.extend(diff_headers(old_ir, new_ir))
    if kind == "REFERENCE":
        result.differences.extend(diff_rules(old_ir, new_ir))
        return result
    entries = diff_entries(old_ir, new_ir)
    result.differences.extend(entries)
    if not recurse:
        return result
    finder = finder or MappingFinder([Path(old_ir.path).parent, Path(new_ir.path).parent])
    for change in entries:
        if change.action != "replaced" or not (
            _is_mapping_name(change.old) and _is_mapping_name(change.new)
        ):
            continue
        paths = [finder.find(name) for name in (change.old, change.new)]
        missing = [n for n, p in zip((change.old, change.new), paths, strict=True) if p is None]
        if missing:
            result.notes.append(f"{change.old} -> {change.new} not compared: "
                                f"{', '.join(missing)} not found in {finder.describe()}")
            continue
        diff_mapping_files(paths[0], paths[1], finder=finder,  # type: ignore[arg-type]  # both found
                           recurse=True, result=result)
    return result


def _layout(cache: str | Path | None, observatory: str) -> CacheLayout:
    settings = get_settings()
    return CacheLayout(cache if cache is not None else settings.cache_root, observatory,
                       readonly=settings.readonly)


def _context_ir(layout: CacheLayout, spec: str, finder: MappingFinder) -> MappingIR:
    name = spec if spec.strip().endswith(".pmap") else \
        resolve_context(spec, load_config(layout), "context")
    path = Path(name) if Path(name).is_file() else finder.find(Path(name).name)
    if path is None:
        raise DiffInputError(f"context {name} is not in the cache {layout.mappings_dir}")
    return read_ir(path)


def _sub_entries(finder: MappingFinder, name: str | None) -> dict[str, str]:
    if not _is_mapping_name(name):
        return {}
    path = finder.find(name)
    if path is None:
        raise DiffInputError(f"imap {name} is not in {finder.describe()}")
    return mapping_entries(read_ir(path))


def changed_mappings(cache: str | Path | None, old_context: str, new_context: str, *,
                     observatory: str | None = None,
                     ) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    """Return the rmaps that differ between two contexts of a cache.

    Returns ``{(instrument, reftype): (old rmap or None, new rmap or None)}`` in lower case, for
    every type whose rmap was replaced, added (``None`` before) or removed (``None`` after).
    A type set to N/A or OMIT has no rmap (``None``). Contexts are pmap names or specs such as
    ``csst-operational``; mapping names are immutable, so an unchanged imap name is skipped.
    """
    obs = (observatory or observatory_of(old_context if old_context.endswith(".pmap")
                                         else new_context)).lower()
    if not obs or obs.endswith(".pmap"):
        obs = DEFAULT_OBSERVATORY
    layout = _layout(cache, obs)
    finder = MappingFinder(layout=layout)
    old_imaps = mapping_entries(_context_ir(layout, old_context, finder))
    new_imaps = mapping_entries(_context_ir(layout, new_context, finder))
    changed: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    for instrument in sorted(old_imaps.keys() | new_imaps.keys()):
        old_imap, new_imap = old_imaps.get(instrument), new_imaps.get(instrument)
        if old_imap == new_imap:
            continue
        before, after = _sub_entries(finder, old_imap), _sub_entries(finder, new_imap)
        for reftype in sorted(before.keys() | after.keys()):
            old_rmap, new_rmap = before.get(reftype), after.get(reftype)
            old_rmap = old_rmap if _is_mapping_name(old_rmap) else None
            new_rmap = new_rmap if _is_mapping_name(new_rmap) else None
            if old_rmap != new_rmap:
                changed[(instrument, reftype)] = (old_rmap, new_rmap)
    return changed
