"""``certify --comparison-context``: what submitted references change against a context's rules.

For each reference, the rmap of its instrument and type in the comparison context receives it
as ``insert`` would: either it replaces the file of an existing rule (same match values and
USEAFTER), and then the two files are compared (header keywords, arrays, table rows, as
``csst-crds diff``), or it adds a new rule. CRDS's ``--comparison-context`` does the same
comparison against the file it replaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from csst_crds_plugin.cache import CacheLayout, load_config
from csst_crds_plugin.cache.config import resolve_context
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.rules import parse_mapping
from csst_crds_plugin.rules.ir import MAPPING_EXTENSIONS

__all__ = ["Comparison", "compare_with_context"]


@dataclass
class Comparison:
    """One submitted reference against the comparison context."""

    path: str
    rmap: str | None = None
    replaces: str | None = None
    rule: tuple[str, ...] = ()
    changes: list[str] = field(default_factory=list)
    problem: str | None = None

    def lines(self) -> list[str]:
        """Human-readable lines."""
        if self.problem:
            return [f"COMPARE {self.path}: {self.problem}"]
        where = " / ".join(self.rule)
        head = (f"COMPARE {self.path}: replaces {self.replaces} in {self.rmap} at {where}"
                if self.replaces else f"COMPARE {self.path}: adds a rule to {self.rmap} at {where}")
        return [head, *[f"  {change}" for change in self.changes]]

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready form."""
        return {"path": self.path, "rmap": self.rmap, "replaces": self.replaces,
                "rule": list(self.rule), "changes": self.changes, "problem": self.problem}


def _entry(layout: CacheLayout, mapping: str, key: str) -> str | None:
    ir = parse_mapping(layout.mapping_path(mapping).read_text(encoding="utf-8"), mapping)
    for entry, value in ir.selector.entries:
        if str(entry).lower() == key.lower():
            return str(value)
    return None


def _compare_one(layout: CacheLayout, pmap: str, path: Path) -> Comparison:
    from csst_crds_plugin.tools.delivery.insert import RmapInserter
    from csst_crds_plugin.tools.delivery.mappings import read_cached
    from csst_crds_plugin.tools.delivery.submission import read_header
    from csst_crds_plugin.tools.diffing.references import diff_reference_files

    result = Comparison(str(path))
    header = read_header(path)
    instrument = str(header.get("INSTRUME", "")).strip()
    reftype = str(header.get("REFTYPE", "")).strip()
    imap = _entry(layout, pmap, instrument)
    rmap = _entry(layout, imap, reftype) if imap and imap.endswith(".imap") else None
    if not rmap or not rmap.endswith(".rmap"):
        result.problem = f"{pmap} has no rules for {instrument or '?'} {reftype or '?'}: a new type"
        return result
    result.rmap = rmap
    insertion = RmapInserter(read_cached(layout, rmap)).insert(header, path.name, str(path))
    result.rule = tuple(repr(key) for key in insertion.path)
    if insertion.replaced is None:
        return result
    result.replaces = str(insertion.replaced)
    old = layout.find_reference(result.replaces)
    if old is None:
        result.changes = [f"{result.replaces} is not in the cache: contents not compared"]
        return result
    changes = diff_reference_files(old, path)
    result.changes = [str(change) for change in changes] or ["no difference in content"]
    return result


def compare_with_context(paths: Iterable[str | Path], layout: CacheLayout,
                         context: str) -> list[Comparison]:
    """Compare each submitted reference (mappings are skipped) with `context`'s rules."""
    pmap = resolve_context(context, load_config(layout), "--comparison-context")
    found = []
    for item in paths:
        path = Path(item)
        if path.suffix.lower() in MAPPING_EXTENSIONS:
            continue
        try:
            found.append(_compare_one(layout, pmap, path))
        except CsstCrdsError as exc:
            found.append(Comparison(str(path), problem=str(exc).splitlines()[0]))
    return found
