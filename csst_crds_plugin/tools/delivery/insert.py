"""Insert references into an rmap with CRDS's insertion semantics (RULES.md §10.4).

The reference header is turned into a dataset header (``reference_to_dataset``; ``USEAFTER``
becomes the date parameters of the UseAfter/ClosestTime levels, ``YYYY-MM-DD HH:MM:SS``;
``parkey_relevance`` with comments kept; ``extra_keys`` and ``reffile_switch`` forced to N/A).
Then the selector tree is walked level by level: the level key is made by the class of the
selector found there (Match: the or-compressed values, one parameter giving a scalar; UseAfter,
ClosestTime: the values joined by a space; VersionAfter: joined by ``.``; Bracket and
GeometricallyNearest: a float). A key equal *after conditioning* (``C|B`` = ``B|C``, comment
parkeys ignored) is reused: a nested selector is descended into, a terminal at a non-final level
is replaced by a new path, and at the final level the terminal is replaced (same date) or added.
Missing levels are created from the header's ``classes`` (default Match, UseAfter).

Match keys are checked for CRDS's equal-weight ambiguity. As in CRDS, a new key that is an
equal-weight special case of an existing one is refused (a warning only for HST with merging
on); this engine also refuses the converse (a new key that is an equal-weight generalisation of
an existing one), which CRDS insert lets through and CRDS certify then rejects.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csst_crds_plugin.cache.layout import check_name
from csst_crds_plugin.errors import CsstCrdsError, RuleValidationError
from csst_crds_plugin.observatories import get_observatory
from csst_crds_plugin.results import UNDEFINED
from csst_crds_plugin.rule_mapping import tupled
from csst_crds_plugin.rules import (
    DictNode,
    Expression,
    ExpressionError,
    ExpressionSyntaxError,
    MappingIR,
    SelectorNode,
)
from csst_crds_plugin.selectors import MatchSelector, condition_value, selector_class
from csst_crds_plugin.selectors.dates import DateFormatError, reformat_date
from csst_crds_plugin.selectors.matchers import glob_list
from csst_crds_plugin.tools.delivery.errors import InsertionError
from csst_crds_plugin.tools.delivery.mappings import render_new_version

__all__ = [
    "Insertion",
    "RmapInserter",
    "different_match_weight",
    "match_superset",
]

log = logging.getLogger(__name__)

DEFAULT_CLASSES = ("Match", "UseAfter")
_DATED = ("UseAfter", "ClosestTime")
_NUMERIC = ("Bracket", "GeometricallyNearest")
_KNOWN = ("Match", "UseAfter", "ClosestTime", "VersionAfter", "SelectVersion", *_NUMERIC)


@dataclass(frozen=True, slots=True)
class Insertion:
    """One reference inserted: its name, the raw key at each level, what it replaced."""

    filename: str
    origin: str
    path: tuple[Any, ...]
    replaced: object = None


def match_superset(general: Sequence[str], special: Sequence[str]) -> bool:
    """Tell whether conditioned Match key `general` matches whenever `special` does (as CRDS)."""
    for v1, v2 in zip(general, special, strict=True):
        if v1 == v2 or v1 == "*" or v2 == "N/A" or (v1 == "N/A" and v2 == "*"):
            continue
        if v2 == "*" or not set(glob_list(v1)) > set(glob_list(v2)):
            return False
    return True


def different_match_weight(special: Sequence[str], general: Sequence[str]) -> bool:
    """Return True if the keys have different numbers of N/A (don't care) positions."""
    special_count = general_count = len(special)
    for v1, v2 in zip(special, general, strict=True):
        if v1 == "N/A" and v2 != "N/A":
            special_count -= 1
        elif v2 == "N/A" and v1 != "N/A":
            general_count -= 1
    return special_count != general_count


@dataclass
class _Node:
    """A mutable selector: rule name and [key, choice] pairs (choices: _Node or terminals)."""

    name: str
    entries: list[list[Any]] = field(default_factory=list)

    @classmethod
    def from_ir(cls, node: SelectorNode) -> _Node:
        items = dict(node.entries).items()  # Python's duplicate-key semantics
        return cls(node.name, [[k, cls.from_ir(v) if isinstance(v, SelectorNode) else v]
                               for k, v in items])

    def to_ir(self) -> SelectorNode:
        return SelectorNode(self.name, DictNode(tuple(
            (k, v.to_ir() if isinstance(v, _Node) else v) for k, v in self.entries)))


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "T" if value else "F"
    return str(value).strip()


def _compress(value: str) -> str:
    return "|".join(glob_list(value))


class RmapInserter:
    """Inserts references into one rmap's selector tree and renders the new version.

    Parameters
    ----------
    ir : MappingIR
        The rmap (parsed, checksum verified by the caller).
    """

    def __init__(self, ir: MappingIR) -> None:
        self.ir = ir
        self.name = Path(ir.path).name
        raw = ir.header_dict()
        if str(raw.get("mapping", "")).upper() != "REFERENCE":
            raise InsertionError(f"{ir.path}: not an rmap (header 'mapping' is "
                                 f"{raw.get('mapping')!r}); references go into .rmap files")
        if not isinstance(ir.selector, SelectorNode):
            raise InsertionError(f"{ir.path}: the selector is not a selector call such as "
                                 "Match({...}); nothing can be inserted")
        self.observatory = str(raw.get("observatory", "")).lower()
        self.parkey = tuple(tuple(str(p).upper() for p in tupled(level))
                            for level in tupled(raw.get("parkey", ())))
        self.classes = tuple(str(c) for c in tupled(raw.get("classes", DEFAULT_CLASSES)))
        if len(self.parkey) != len(self.classes) or set(self.classes) - set(_KNOWN):
            raise InsertionError(
                f"{ir.path}: parkey {self.parkey!r} and classes {self.classes!r} must have one "
                f"entry per nesting level, classes among {', '.join(_KNOWN)}; fix the header"
            )
        self.comment_parkeys = {str(k).upper() for k in tupled(raw.get("comment_parkeys", ()))}
        # header dicts as the rule parser gives them (a bad rmap fails as dict() refuses it)
        to_dataset: Any = raw.get("reference_to_dataset") or {}
        relevance: Any = raw.get("parkey_relevance") or {}
        self.to_dataset = {str(k).upper(): str(v).upper() for k, v in dict(to_dataset).items()}
        switch = str(raw.get("reffile_switch", "NONE")).upper()
        self.forced_na = {str(k).upper() for k in tupled(raw.get("extra_keys", ()))}
        if switch != "NONE":
            self.forced_na.add(switch)
        merge = raw.get("merge_overlaps")
        self.merge = merge is None or str(merge).upper() in ("TRUE", "1")
        self.required = tuple(dict.fromkeys(p for level in self.parkey for p in level))
        self.relevance = {str(k).upper(): self._compile(str(text))
                          for k, text in dict(relevance).items()}
        for key in self.comment_parkeys:
            self.relevance.setdefault(key, Expression("keep_comments"))
        self.root = _Node.from_ir(ir.selector)
        self.insertions: list[Insertion] = []
        self._paths: dict[tuple[Any, ...], str] = {}

    def _compile(self, text: str) -> Expression:
        for key in self.required:
            if "." in key:
                text = text.replace(key, key.replace(".", "_"))
        try:
            return Expression(text)
        except ExpressionSyntaxError as exc:
            raise InsertionError(f"{self.ir.path}: parkey_relevance {text!r}: {exc}") from exc

    # -- the dataset header --------------------------------------------------------------------
    def dataset_header(self, reference: Mapping[str, object], origin: str) -> dict[str, str]:
        """Return the values the rmap selects on, from a reference header (RULES.md §10.4, 1-4)."""
        ref = {str(k).upper(): v for k, v in reference.items()}
        for ref_key, dataset_key in self.to_dataset.items():
            if ref_key in ref:
                ref[dataset_key] = ref[ref_key]
        useafter = ref.get("USEAFTER", ref.get("META.USEAFTER"))
        dated = [level for level, cls in zip(self.parkey, self.classes, strict=True)
                 if cls in _DATED]
        if useafter is not None and dated:
            self._spread_date(ref, dated, useafter, origin)
        header = {p: UNDEFINED if ref.get(p) is None else _text(ref[p]) for p in self.required}
        header.update(dict.fromkeys(self.forced_na & set(header), "N/A"))
        if self.relevance:
            space: dict[str, object] = {k: condition_value(_text(v)) for k, v in ref.items()
                                        if not isinstance(v, (dict, list))}
            space.update({k: condition_value(v) for k, v in header.items()})
            space.update({k.replace(".", "_"): v for k, v in list(space.items()) if "." in k})
            space["keep_comments"] = True
            for key, expression in self.relevance.items():
                try:
                    relevant = expression.evaluate(space)
                except ExpressionError as exc:
                    raise InsertionError(
                        f"{origin}: parkey_relevance of {key} in {self.name} "
                        f"({expression.text!r}) cannot be evaluated: {exc}; add the keywords "
                        "it uses to the reference header"
                    ) from exc
                if not relevant and key in header:
                    header[key] = "N/A"
        missing = [p for p in self.required if header[p] == UNDEFINED]
        if missing:
            dates = " (set USEAFTER)" if any(p in level for level in dated for p in missing) \
                else ""
            raise InsertionError(
                f"{origin}: keyword(s) {', '.join(missing)} missing{dates}; {self.name} "
                f"selects on {self.parkey}. Add them to the reference header ('N/A' where a "
                "parameter does not apply)"
            )
        return header

    @staticmethod
    def _spread_date(ref: dict[str, object], dated: list[tuple[str, ...]], useafter: object,
                     origin: str) -> None:
        try:
            date = reformat_date(str(useafter).strip())
        except DateFormatError as exc:
            raise InsertionError(
                f"{origin}: USEAFTER={useafter!r} is not a date/time ({exc}); write it as "
                "YYYY-MM-DDThh:mm:ss, e.g. 2027-01-01T00:00:00"
            ) from exc
        for level in dated:
            if len(level) == 1:
                ref[level[0]] = date
            elif len(level) == 2:
                ref[level[0]], ref[level[1]] = date.split(" ", 1)
            else:
                raise InsertionError(f"{origin}: USEAFTER cannot fill the {len(level)} date "
                                     f"parameters {level}; give each of them in the header")

    # -- keys ----------------------------------------------------------------------------------
    def make_key(self, rule: str, header: Mapping[str, str], params: tuple[str, ...],
                 origin: str) -> Any:
        """Return the raw key for one level, as CRDS's ``_make_key`` of that selector class."""
        values = [header[p] for p in params]
        if rule in _DATED:
            return " ".join(values)
        if rule == "VersionAfter":
            return _compress(".".join(values))
        if rule in _NUMERIC:
            try:
                return float(values[0])
            except (ValueError, IndexError) as exc:
                raise InsertionError(f"{origin}: {params[0] if params else '?'}="
                                     f"{values[0] if values else None!r} is not a number, "
                                     f"but {rule} in {self.name} needs one") from exc
        key = tuple(_compress(v) for v in values)
        return key[0] if len(key) == 1 else key

    def _condition(self, rule: str, key: Any, params: tuple[str, ...], origin: str) -> Any:
        try:
            return selector_class(rule).condition_key(key, params)
        except (RuleValidationError, ValueError, TypeError) as exc:
            raise InsertionError(f"{origin}: {rule} key {key!r} in {self.name} is not valid "
                                 f"for parameters {params}: {exc}") from exc

    def _same(self, rule: str, a: Any, b: Any, params: tuple[str, ...]) -> bool:
        if rule != "Match":
            return bool(a == b)
        return all(x == y for x, y, p in zip(a, b, params, strict=True)
                   if p not in self.comment_parkeys)

    def _find(self, node: _Node, conditioned: Any, params: tuple[str, ...],
              origin: str) -> int | None:
        for index, (old, _choice) in enumerate(node.entries):
            if self._same(node.name, self._condition(node.name, old, params, origin),
                          conditioned, params):
                return index
        return None

    def _check_ambiguity(self, node: _Node, key: Any, conditioned: tuple[str, ...],
                         params: tuple[str, ...], origin: str) -> None:
        for old, _choice in node.entries:
            other = MatchSelector.condition_key(old, params)
            if other == conditioned:
                continue
            for general, special, how in ((other, conditioned, "special case"),
                                          (conditioned, other, "generalisation")):
                if match_superset(general, special) and \
                        not different_match_weight(special, general):
                    text = (f"{origin}: Match case {key!r} would be an equal-weight {how} of "
                            f"the existing case {old!r} in {self.name}: for some exposures "
                            "both match equally well. Give the reference parameter values "
                            "that coincide with an existing case, or change the rules")
                    if self.merge and \
                            get_observatory(self.observatory).merge_ambiguity == "warning":
                        log.warning("%s", text)
                        return
                    raise InsertionError(text)

    # -- insertion -----------------------------------------------------------------------------
    def insert(self, reference: Mapping[str, object], filename: str,
               origin: str | None = None) -> Insertion:
        """Insert `filename` with its reference header; return what happened."""
        origin = origin or filename
        check_name(filename, "reference")
        header = self.dataset_header(reference, origin)
        path: list[Any] = []
        conditioned_path: list[Any] = []
        replaced = self._insert(self.root, header, filename, self.parkey, self.classes, origin,
                                path, conditioned_path)
        key = tuple(conditioned_path)
        if key in self._paths:
            raise InsertionError(f"{origin}: inserted at the same match path {tuple(path)!r} "
                                 f"as {self._paths[key]}; two files of one submission cannot "
                                 "share a match path (change USEAFTER or a parameter)")
        self._paths[key] = origin
        done = Insertion(filename, origin, tuple(path), replaced)
        self.insertions.append(done)
        return done

    def _insert(self, node: _Node, header: Mapping[str, str], filename: str,
                levels: Sequence[tuple[str, ...]], classes: Sequence[str], origin: str,
                path: list[Any], conditioned_path: list[Any]) -> object:
        params = levels[0]
        key = self.make_key(node.name, header, params, origin)
        conditioned = self._condition(node.name, key, params, origin)
        if node.name == "Match":
            self._check_ambiguity(node, key, conditioned, params, origin)
        index = self._find(node, conditioned, params, origin)
        path.append(key)
        conditioned_path.append(conditioned)
        if len(classes) > 1:
            if index is None:
                node.entries.append([key, self._create(header, filename, levels[1:], classes[1:],
                                                       origin, path, conditioned_path)])
                return None
            old_key, old_choice = node.entries[index]
            if isinstance(old_choice, _Node):
                return self._insert(old_choice, header, filename, levels[1:], classes[1:],
                                    origin, path, conditioned_path)
            node.entries[index] = [old_key, self._create(header, filename, levels[1:],
                                                         classes[1:], origin, path,
                                                         conditioned_path)]
            return old_choice
        if index is None:
            node.entries.append([key, filename])
            return None
        replaced = node.entries[index][1]
        node.entries[index] = [key, filename]
        return replaced.to_ir() if isinstance(replaced, _Node) else replaced

    def _create(self, header: Mapping[str, str], filename: str,
                levels: Sequence[tuple[str, ...]], classes: Sequence[str], origin: str,
                path: list[Any], conditioned_path: list[Any]) -> Any:
        if not classes:
            return filename
        key = self.make_key(classes[0], header, levels[0], origin)
        path.append(key)
        conditioned_path.append(self._condition(classes[0], key, levels[0], origin))
        nested = self._create(header, filename, levels[1:], classes[1:], origin, path,
                              conditioned_path)
        return _Node(classes[0], [[key, nested]])

    # -- output --------------------------------------------------------------------------------
    def render(self, new_name: str) -> str:
        """Render the new rmap: canonical, ``name`` = `new_name`, ``derived_from`` the old name."""
        try:
            return render_new_version(self.ir, new_name, self.name, self.root.to_ir())
        except CsstCrdsError:
            raise
        except (TypeError, ValueError) as exc:
            raise InsertionError(f"{self.ir.path}: cannot write the new version: {exc}") from exc
