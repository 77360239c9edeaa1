"""Checks across the references certified together and against the rules that would take them.

The checks are identical selections, dependencies (R_BIAS, R_DARK), and a dry-run insertion
into the context's rmap (required parkeys, the ambiguity check of RULES.md §10.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.rules import MappingIR, SelectorNode, parse_mapping
from csst_crds_plugin.selectors import MatchSelector
from csst_crds_plugin.selectors.values import NA_VALUES, OMIT_VALUES, condition_value
from csst_crds_plugin.tools.certify.ambiguity import find_overlaps
from csst_crds_plugin.tools.certify.cache_index import CacheIndex
from csst_crds_plugin.tools.certify.readers import read_reference
from csst_crds_plugin.tools.certify.report import FileReport
from csst_crds_plugin.tools.certify.tree_checks import level_selectors, rmap_levels

__all__ = ["ContextRules", "Submitted", "check_against_rules", "check_batch"]

_SELECTION = ("INSTRUME", "REFTYPE", "DETECTOR", "FILTER", "READMODE", "USEAFTER")
_DEPENDENCIES = ("R_BIAS", "R_DARK")


@dataclass
class Submitted:
    """A reference certified in this run, with its header."""

    report: FileReport
    header: dict[str, Any]


@dataclass
class _Rmap:
    name: str
    ir: MappingIR
    header: dict[Any, Any]


class ContextRules:
    """The rmaps of one context in a cache, found by instrument and type, parsed once."""

    def __init__(self, index: CacheIndex, context: str) -> None:
        self.index, self.context = index, Path(context).name
        self._parsed: dict[str, MappingIR | str] = {}

    def _parse(self, name: str) -> MappingIR | str:
        if name not in self._parsed:
            path = self.index.layout.mappings_dir / name
            try:
                self._parsed[name] = parse_mapping(path.read_text(encoding="utf-8"), str(path))
            except (OSError, CsstCrdsError) as exc:
                self._parsed[name] = f"{name} cannot be read ({str(exc).splitlines()[0]})"
        return self._parsed[name]

    def rmap(self, instrument: str, reftype: str) -> _Rmap | str:
        """Return the rmap receiving `instrument`/`reftype` references, or why there is none."""
        pmap = self._parse(self.context)
        if isinstance(pmap, str):
            return pmap
        imap_name = _entry(pmap, instrument)
        if imap_name is None:
            return f"the context {self.context} has no instrument {instrument.upper()}"
        imap = self._parse(imap_name)
        if isinstance(imap, str):
            return imap
        rmap_name = _entry(imap, reftype)
        if rmap_name is None:
            return (f"the context {self.context} has no rules for {instrument.upper()} "
                    f"{reftype} references ({imap_name} has no {reftype!r} entry)")
        rmap = self._parse(rmap_name)
        if isinstance(rmap, str):
            return rmap
        return _Rmap(rmap_name, rmap, rmap.header_dict())


def _entry(ir: MappingIR, key: str) -> str | None:
    for entry_key, value in ir.selector.entries:
        if str(entry_key).lower() == key.lower() and isinstance(value, str) \
                and value not in NA_VALUES and value not in OMIT_VALUES:
            return value
    return None


def check_against_rules(item: Submitted, rules: ContextRules) -> tuple[str, ...] | None:
    """Check one reference against its rmap; return its selection key in that rmap."""
    header, report = item.header, item.report
    instrument = str(header.get("INSTRUME", ""))
    reftype = str(header.get("REFTYPE", "")).lower()
    if not instrument or not reftype:
        return None
    rmap = rules.rmap(instrument, reftype)
    if isinstance(rmap, str):
        report.error(f"cannot be inserted: {rmap}")
        return None
    levels = rmap_levels(rmap.header)
    names = level_selectors(rmap.ir.selector)
    to_reference = {str(v).upper(): str(k).upper() for k, v in
                    dict(rmap.header.get("reference_to_dataset") or {}).items()}
    values: list[str] = []
    match_parameters: tuple[str, ...] = ()
    for level, selector in zip(levels, names, strict=False):
        if selector != "Match":
            continue
        for parameter in level:
            keyword = to_reference.get(parameter, parameter)
            if keyword not in header:
                report.error(f"the rmap {rmap.name} selects on {parameter}, but the reference "
                             f"has no {keyword} keyword; add it (or 'N/A')")
                return None
            values.append(str(header[keyword]))
        if not match_parameters:
            match_parameters = level
    selection = (*map(condition_value, values), str(header.get("USEAFTER", "")))
    top = rmap.ir.selector
    if isinstance(top, SelectorNode) and top.name == "Match":
        key = MatchSelector.condition_key(tuple(values[:len(match_parameters)]),
                                          match_parameters)
        _dry_run(report, rmap.name, top, key, match_parameters)
    return selection


def _dry_run(report: FileReport, rmap_name: str, selector: SelectorNode, key: tuple[str, ...],
             parameters: tuple[str, ...]) -> None:
    """Check that inserting `key` into Match `selector` makes no equal-weight special case."""
    existing: list[tuple[str, ...]] = []
    raws: list[object] = []
    for raw, _value in selector.entries:
        try:
            existing.append(MatchSelector.condition_key(raw, parameters))
            raws.append(raw)
        except CsstCrdsError:
            continue
    if key in existing:
        return  # joins an existing rule
    new = len(existing)
    for special, general, kind in find_overlaps([*existing, key]):
        if new not in (special, general):
            continue
        other = raws[general if special == new else special]
        if kind == "partial":
            report.warn(f"inserting it into {rmap_name} would add the Match rule {key!r}, "
                        f"which partially overlaps the rule {other!r} at equal weight")
            continue
        relation = ("an equal weight special case of" if special == new
                    else "more general than, at equal weight,")
        report.error(f"inserting it into {rmap_name} would add the Match rule {key!r}, "
                     f"{relation} the rule {other!r}: lookups would tie; make the "
                     f"{'/'.join(parameters)} values disjoint from that rule")


def check_batch(items: list[Submitted], keys: dict[int, tuple[str, ...] | None],
                index: CacheIndex | None) -> None:
    """Check the batch for identical selections and for its dependencies.

    A missing dependency is an error; one of another instrument or chip is a warning.
    """
    seen: dict[tuple[Any, ...], Submitted] = {}
    for position, item in enumerate(items):
        key = keys.get(position)
        selection = (str(item.header.get("INSTRUME", "")).upper(),
                     str(item.header.get("REFTYPE", "")).upper(),
                     *(key if key is not None else
                       (str(item.header.get(k, "")).upper() for k in _SELECTION[2:])))
        first = seen.setdefault(selection, item)
        if first is not item:
            for one, other in ((item, first), (first, item)):
                one.report.error(f"selects exactly like {Path(other.report.path).name} "
                                 f"(same rule and USEAFTER): one would replace the other")
    by_name = {Path(item.report.path).name: item for item in items}
    for item in items:
        for keyword in _DEPENDENCIES:
            name = item.header.get(keyword)
            if isinstance(name, str) and name.strip().upper() != "N/A":
                _check_dependency(item, keyword, name, by_name, index)


def _check_dependency(item: Submitted, keyword: str, name: str,
                      by_name: dict[str, Submitted], index: CacheIndex | None) -> None:
    other: dict[str, Any] | None = None
    if name in by_name:
        other = by_name[name].header
    elif index is not None:
        path = index.references.get(name)
        if path is None:
            item.report.error(f"keyword {keyword}={name!r} names a reference that is neither "
                              f"in the cache {index.describe()} nor certified with it; "
                              "deliver that reference first or together with this one")
            return
        try:
            other = read_reference(path).header
        except Exception:  # noqa: BLE001 (its own certify reports it)
            return
    if other is None:
        return
    for field in ("INSTRUME", "DETECTOR"):
        mine, theirs = item.header.get(field), other.get(field)
        if mine is not None and theirs is not None and str(mine) != str(theirs):
            # A warning for now: the delivery tests build every chip on one seed bias.
            item.report.warn(f"keyword {keyword}={name!r} names a reference of {field} "
                             f"{theirs!r}, but this reference has {field} {mine!r}")
