"""Certify checks of a mapping's selector tree.

The checks are duplicate keys, Match ambiguity, UseAfter dates, terminal values, and the keys
where the engine's compatibility policy matters (D1, D2, D4, D5, D7; RULES.md §7).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.observatories import get_observatory
from csst_crds_plugin.rules import DictNode, MappingIR, SelectorNode
from csst_crds_plugin.rules.ir import Key
from csst_crds_plugin.selectors import MatchSelector
from csst_crds_plugin.selectors.dates import DateFormatError, parse_date
from csst_crds_plugin.selectors.values import NA_VALUES, OMIT_VALUES
from csst_crds_plugin.tools.certify.ambiguity import find_overlaps
from csst_crds_plugin.tools.certify.report import FileReport

__all__ = ["check_dict_duplicates", "check_tree", "level_selectors", "rmap_levels",
           "terminal_names"]

_CANONICAL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$")
_RELATIONAL_WORDS = re.compile(r" (AND|OR) ")


def rmap_levels(header: dict[Any, Any]) -> list[tuple[str, ...]]:
    """Return the rmap ``parkey`` as one tuple of upper-case names per nesting level."""
    parkey = header.get("parkey", ())
    levels = parkey if isinstance(parkey, tuple) else (parkey,)
    return [tuple(str(p).upper() for p in (level if isinstance(level, tuple) else (level,)))
            for level in levels]


def level_selectors(selector: SelectorNode | DictNode) -> list[str]:
    """Return the selector names along the first path of the tree, one per nesting level."""
    names = []
    node: object = selector
    while isinstance(node, SelectorNode):
        names.append(node.name)
        node = next((v for _k, v in node.entries if isinstance(v, SelectorNode)), None)
    return names


def terminal_names(selector: SelectorNode | DictNode) -> set[str]:
    """Every file name the tree can select (N/A and OMIT values excluded)."""
    found: set[str] = set()
    stack: list[object] = [selector]
    while stack:
        node = stack.pop()
        if isinstance(node, SelectorNode):
            stack.extend(v for _k, v in node.entries)
        elif isinstance(node, DictNode):
            stack.extend(v for _k, v in node.entries)
        elif isinstance(node, tuple):
            stack.extend(node)
        elif isinstance(node, str):
            found.add(node)
    return {name for name in found if name not in NA_VALUES and name not in OMIT_VALUES}


class _Walker:
    def __init__(self, report: FileReport, ir: MappingIR, levels: list[tuple[str, ...]],
                 ambiguity: str) -> None:
        self.report, self.ir, self.levels, self.ambiguity = report, ir, levels, ambiguity

    def line(self, offset: int) -> int:
        return self.ir.source.locate(offset)[0]

    def walk(self, node: SelectorNode, depth: int) -> None:
        if depth >= len(self.levels):
            self.report.error(f"line {self.line(node.offset)}: {node.name} is nested deeper "
                              f"than parkey has levels ({len(self.levels)})")
            return
        check_dict_duplicates(self.report, self.ir, node.body, f"selector {node.name}")
        parameters = self.levels[depth]
        if node.name == "Match":
            self.match(node, parameters)
        elif node.name == "UseAfter":
            self.useafter(node)
        for (_key, value), offset in zip(node.entries, _offsets(node.body), strict=True):
            if isinstance(value, SelectorNode):
                self.walk(value, depth + 1)
            else:
                self.terminal(value, offset)

    def terminal(self, value: object, offset: int) -> None:
        if type(value) is str and value != "temp_omit":
            return  # the common case, checked without locating it
        if isinstance(value, DictNode):
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.entries):
                self.report.error(f"line {self.line(offset)}: a dict result must map names to "
                                  "file names")
            return
        items = value if isinstance(value, tuple) else (value,)
        if not items or not all(isinstance(item, str) for item in items):
            self.report.error(f"line {self.line(offset)}: the result {value!r} must be a file "
                              "name, a tuple of file names or a dict of names")
        elif "temp_omit" in items:
            self.report.warn(f"line {self.line(offset)}: 'temp_omit' means OMIT here but is an "
                             "ordinary value in CRDS (departure D4); write 'OMIT'")

    def match(self, node: SelectorNode, parameters: tuple[str, ...]) -> None:
        keys: list[tuple[str, ...]] = []
        rows: list[tuple[Key, int, bool]] = []
        for (key, value), offset in zip(node.entries, _offsets(node.body), strict=True):
            self.relational(key, offset)
            try:
                conditioned = MatchSelector.condition_key(key, parameters)
            except CsstCrdsError as exc:
                self.report.error(f"line {self.line(offset)}: {exc}")
                continue
            keys.append(conditioned)
            rows.append((key, offset, isinstance(value, SelectorNode)))
        for special, general, kind in find_overlaps(keys):
            (key, offset, nested), (other, other_offset, other_nested) = \
                rows[special], rows[general]
            where = f"line {self.line(offset)}: Match rule {key!r}"
            there = f"{other!r} (line {self.line(other_offset)})"
            if kind == "equal":
                text = (f"{where} is the same rule as {there} after conditioning "
                        f"({', '.join(keys[special])}); merge them into one rule")
            elif kind == "partial":
                self.report.warn(
                    f"{where} overlaps {there}: some {'/'.join(parameters)} values match both "
                    "equally well, so lookups merge or tie them (CRDS does not report this); "
                    "make the rules disjoint")
                continue
            else:
                text = (f"{where} is an equal weight special case of {there}: for some "
                        f"{'/'.join(parameters)} values both match equally well, so lookups "
                        "merge or tie them; make the rules disjoint")
            if nested != other_nested:
                text += ("; one gives a file and the other a selector: CRDS fails internally, "
                         "this engine fails with 'ambiguous' (departure D5)")
            self.report.error(text) if self.ambiguity == "error" else self.report.warn(text)

    def relational(self, key: object, offset: int) -> None:
        """D1 and D2: ``#...#`` keys whose text CRDS reads differently from what it says."""
        for element in key if isinstance(key, tuple) else (key,):
            if not (isinstance(element, str) and len(element) > 2
                    and element.startswith("#") and element.endswith("#")):
                continue
            line = self.line(offset)
            if element[1].isspace():
                self.report.warn(
                    f"line {line}: Match key {element!r} has a space after its opening '#', so "
                    "CRDS and this engine read it as a literal that never matches (D1); "
                    f"write {'#' + element[1:-1].strip() + '#'!r}")
            if len(_RELATIONAL_WORDS.findall(element.upper())) > 1:
                self.report.warn(
                    f"line {line}: Match key {element!r} has more than two and/or terms; CRDS "
                    "and this engine use only the first two (D2); split the rule")

    def useafter(self, node: SelectorNode) -> None:
        parsed: list[tuple[str, Any, int]] = []
        for key, offset in zip((k for k, _ in node.entries), _offsets(node.body), strict=True):
            if not isinstance(key, str):
                continue  # the engine's load reports it
            try:
                when = parse_date(key)
            except DateFormatError as exc:
                self.report.error(f"line {self.line(offset)}: UseAfter date {key!r} is not a "
                                  f"date ({exc}); write 'YYYY-MM-DD HH:MM:SS'")
                continue
            if not _CANONICAL_DATE.match(key):
                self.report.warn(
                    f"line {self.line(offset)}: UseAfter date {key!r} is not canonical "
                    "('YYYY-MM-DD HH:MM:SS'); dates are compared as text (D7, as CRDS), so it "
                    "may sort wrongly against other dates")
            parsed.append((key, when, offset))
        _check_date_order(self.report, self.ir, parsed)


def _check_date_order(report: FileReport, ir: MappingIR,
                      located: list[tuple[str, Any, int]]) -> None:
    """Equal dates, text order unlike time order (wrong selections), file order unsorted."""
    keys = [key for key, _when, _offset in located]
    if len(set(keys)) == len(keys) and keys == sorted(keys) and all(
        _CANONICAL_DATE.match(key) for key in keys
    ):
        return  # sorted distinct canonical dates: text order is time order
    parsed = [(key, when, ir.source.locate(offset)[0]) for key, when, offset in located]
    seen: dict[Any, tuple[str, int]] = {}
    for key, when, line in parsed:
        if when in seen and seen[when][0] != key:
            report.error(f"line {line}: UseAfter date {key!r} is the same time as "
                         f"{seen[when][0]!r} (line {seen[when][1]}); keep one")
        seen.setdefault(when, (key, line))
    by_text = sorted(parsed, key=lambda item: item[0])
    for (key_a, when_a, line_a), (key_b, when_b, line_b) in itertools.pairwise(by_text):
        if when_a > when_b:
            report.error(f"line {line_a}: UseAfter date {key_a!r} sorts before {key_b!r} "
                         f"(line {line_b}) as text but is later in time; lookups compare text "
                         "(D7), so they would select the wrong file; write both canonically")
    if keys != sorted(keys):
        first = next(i for i in range(1, len(keys)) if keys[i] < keys[i - 1])
        report.warn(f"line {parsed[first][2]}: UseAfter dates are not in sorted order "
                    f"({keys[first]!r} after {keys[first - 1]!r}); lookups sort them, but a "
                    "canonical rmap lists them in order: sort them")


def _offsets(body: DictNode) -> Sequence[int]:
    return body.entry_offsets or (body.offset,) * len(body.entries)


def check_dict_duplicates(report: FileReport, ir: MappingIR, body: DictNode, what: str) -> None:
    """Duplicate keys (Python's rules: 1, 1.0 and True are one key; the last value wins)."""
    first: dict[object, int] = {}
    for (key, _value), offset in zip(body.entries, _offsets(body), strict=True):
        if key in first:
            line, first_line = (ir.source.locate(o)[0] for o in (offset, first[key]))
            report.error(f"line {line}: Duplicate entry at {what} key {key!r} (first at line "
                         f"{first_line}); only the last value counts, remove one")
        else:
            first[key] = offset


def check_tree(report: FileReport, ir: MappingIR, header: dict[Any, Any]) -> None:
    """Check the selector tree of an rmap (or the dict of a pmap/imap)."""
    check_dict_duplicates(report, ir, ir.header, "header")
    selector = ir.selector
    if isinstance(selector, DictNode):
        check_dict_duplicates(report, ir, selector, "selector")
        return
    observatory = str(header.get("observatory", "")).lower()
    merge = header.get("merge_overlaps")
    merging = merge is None or str(merge).upper() in ("TRUE", "1")
    ambiguity = get_observatory(observatory).merge_ambiguity if merging else "error"
    _Walker(report, ir, rmap_levels(header), ambiguity).walk(selector, 0)
