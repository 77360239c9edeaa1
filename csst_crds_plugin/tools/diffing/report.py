"""``diff_files``: compare two mappings or two references given as paths or cache names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csst_crds_plugin.cache import CacheLayout, observatory_of
from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY
from csst_crds_plugin.rules.ir import MAPPING_EXTENSIONS
from csst_crds_plugin.settings import get_settings
from csst_crds_plugin.tools.diffing.changes import FileChange
from csst_crds_plugin.tools.diffing.mappings import (
    EntryChange,
    HeaderChange,
    MappingFinder,
    diff_mapping_files,
)
from csst_crds_plugin.tools.diffing.references import diff_reference_files
from csst_crds_plugin.tools.diffing.rules import DiffInputError, RuleChange

__all__ = ["DiffReport", "diff_files", "locate_file", "observatory_for"]


Difference = HeaderChange | EntryChange | RuleChange | FileChange


@dataclass
class DiffReport:
    """The differences between two files; ``same`` when there are none."""

    old: str
    new: str
    kind: str
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        """True when nothing differs (hidden boring header fields aside)."""
        return not self.differences

    @property
    def exit_code(self) -> int:
        """CRDS's convention: 0 same, 1 different."""
        return 0 if self.same else 1

    def lines(self) -> list[str]:
        """One line per difference, then the notes."""
        return [str(d) for d in self.differences] + [f"note: {n}" for n in self.notes]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {"old": self.old, "new": self.new, "kind": self.kind, "same": self.same,
                "differences": [d.to_dict() for d in self.differences], "notes": self.notes}


def _layout(cache: str | Path | None, observatory: str) -> CacheLayout:
    settings = get_settings()
    return CacheLayout(cache if cache is not None else settings.cache_root, observatory,
                       readonly=settings.readonly)


def observatory_for(name: str, cache: str | Path | None) -> str:
    """Return the observatory of a CRDS-style name.

    That is the observatory the name carries if the cache has mappings for it, else the default
    observatory.
    """
    guess = observatory_of(name) if "_" in name else ""
    if guess.isalnum() and guess != DEFAULT_OBSERVATORY:
        root = Path(cache) if cache is not None else get_settings().cache_root
        if (root / "mappings" / guess).is_dir():
            return guess
    return DEFAULT_OBSERVATORY


def locate_file(arg: str | Path, layout: CacheLayout) -> Path:
    """Return a file given as a path, or as a plain name of a mapping or reference in the cache."""
    path = Path(arg)
    if path.is_file():
        return path
    name = str(arg)
    if path.name == name and name not in (".", ".."):
        if name.endswith(MAPPING_EXTENSIONS):
            if layout.has_mapping(name):
                return layout.mapping_path(name)
        else:
            found = layout.find_reference(name)
            if found is not None:
                return found
    if path.name != name:
        raise DiffInputError(f"{name}: no such file")
    raise DiffInputError(f"{name}: no such file, and no file of that name in the cache "
                         f"{layout.root} (observatory {layout.observatory}); give a path or "
                         "a cached name, and --cache DIR")


def diff_files(old: str | Path, new: str | Path, *, cache: str | Path | None = None,
               observatory: str | None = None, recurse: bool = True, boring: bool = False,
               row_key: Sequence[str] = (), limit: int = 50) -> DiffReport:
    """Compare two mappings (recursively for pmaps and imaps) or two reference files.

    Parameters
    ----------
    old, new : path or name
        Files, or plain names looked up in the cache.
    cache, observatory :
        Where names and sub-mappings are looked up (default: the settings' cache root and the
        observatory of the first name).
    recurse : bool
        Compare the replaced imaps and rmaps of a pmap or imap pair too.
    boring : bool
        Also report ``name``, ``derived_from`` and ``sha1sum`` header changes.
    row_key, limit :
        Table rows are paired by these columns (default by position); at most `limit` differing
        rows per table are listed.
    """
    layout = _layout(cache, observatory or observatory_for(Path(old).name, cache))
    old_path, new_path = locate_file(old, layout), locate_file(new, layout)
    mappings = [p.name.endswith(MAPPING_EXTENSIONS) for p in (old_path, new_path)]
    if mappings[0] != mappings[1]:
        raise DiffInputError(f"cannot compare {old_path} with {new_path}: one is a mapping and "
                             "the other a reference file")
    if mappings[0]:
        finder = MappingFinder([old_path.parent, new_path.parent], layout)
        found = diff_mapping_files(old_path, new_path, finder=finder, recurse=recurse)
        shown: list[Difference] = [d for d in found.differences
                 if boring or not (isinstance(d, HeaderChange) and d.boring)]
        return DiffReport(str(old_path), str(new_path), "mapping", shown, found.notes)
    changes: list[Difference] = [*diff_reference_files(old_path, new_path, row_key=row_key,
                                                       limit=limit)]
    return DiffReport(str(old_path), str(new_path), "reference", changes)
