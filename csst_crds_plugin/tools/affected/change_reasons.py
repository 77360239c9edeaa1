"""Explain a change: for one dataset, which mapping or rule change moved its selection.

For each affected type (outcomes.py) the explanation names where the two contexts part: the
pmap entry of the instrument, the imap entry of the type (an rmap, N/A or OMIT), or, when both
name rmaps, the rule changes of :func:`csst_crds_plugin.tools.diffing.diff_rules` that put in the
new file or took out the old one, kept to the Match rules this dataset's parameters match.
The per-context lookup traces (:func:`csst_crds_plugin.explain.explain`) come with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from csst_crds_plugin.context import PipelineMapping, ReferenceMapping, condition_parameters
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.explain import Explanation, explain
from csst_crds_plugin.provider import ReferenceProvider
from csst_crds_plugin.results import UNDEFINED
from csst_crds_plugin.selectors import MatchSelector
from csst_crds_plugin.tools.affected.outcomes import ALL_TYPES, compare_rows, outcome_text
from csst_crds_plugin.tools.diffing import RuleChange, diff_rules

__all__ = ["ChangeExplanation", "TypeChange", "explain_change"]


@dataclass
class TypeChange:
    """Why one reference type of the dataset selects differently."""

    reftype: str
    old: object
    new: object
    where: str = ""
    rule_changes: list[RuleChange] = field(default_factory=list)
    traces: tuple[Explanation | None, Explanation | None] = (None, None)

    def lines(self, verbose: bool = False) -> list[str]:
        """Return the explanation as text lines."""
        out = [f"{self.reftype}: {outcome_text(self.old)} -> {outcome_text(self.new)}"]
        if isinstance(self.old, dict) and "message" in self.old:
            out.append(f"  before: {self.old['message']}")
        if isinstance(self.new, dict) and "message" in self.new:
            out.append(f"  after:  {self.new['message']}")
        if self.where:
            out.append(f"  {self.where}")
        out.extend(f"  rule change: {change}" for change in self.rule_changes)
        if verbose:
            for label, trace in zip(("old", "new"), self.traces, strict=True):
                if trace is not None:
                    out.append(f"  lookup under the {label} context:")
                    out.extend("    " + line for line in str(trace).splitlines())
        return out


@dataclass
class ChangeExplanation:
    """The affected types of one dataset under two contexts, each with its reason."""

    old: str
    new: str
    parameters: dict[str, object]
    changes: list[TypeChange] = field(default_factory=list)

    def __str__(self) -> str:
        """Render the explanation for people, without the lookup traces."""
        return self.render()

    def render(self, verbose: bool = False) -> str:
        """Text for people; `verbose` adds both lookup traces."""
        head = [f"{self.old} -> {self.new}"]
        if not self.changes:
            return "\n".join([*head, "no reference type selects differently"])
        return "\n".join(head + [line for c in self.changes for line in c.lines(verbose)])


def _result(provider: ReferenceProvider, parameters: Mapping[str, object]) -> Any:
    try:
        return provider.best_references(parameters, errors="collect")
    except CsstCrdsError as exc:
        return exc


def _entry(pmap: PipelineMapping, instrument: str | None, reftype: str) -> tuple[str, str]:
    """(imap entry of the instrument, imap entry of the type), as written or '(none)'."""
    if instrument is None:
        return "(none)", "(none)"
    imap_name = pmap.entries.get(instrument, "(none)")
    try:
        imap = pmap.imap(instrument)
    except CsstCrdsError:
        return imap_name, "(none)"
    return imap_name, imap.entries.get(reftype, "(none)")


def _instrument(pmap: PipelineMapping, header: Mapping[str, str]) -> str | None:
    try:
        return pmap.find_instrument(header)
    except CsstCrdsError:
        return None


def _rmap(provider: ReferenceProvider, instrument: str, reftype: str) -> ReferenceMapping:
    return provider.pmap.imap(instrument).rmap(reftype)


def _matches(rmap: ReferenceMapping, change: RuleChange, header: Mapping[str, str]) -> bool:
    """Whether the dataset matches the change's top-level Match rule (True when unsure)."""
    selector = rmap.selector
    if not isinstance(selector, MatchSelector) or not change.path:
        return True
    try:
        row = selector.raw_keys.index(change.path[0])
    except ValueError:
        return True
    values = [header.get(name, UNDEFINED) for name in selector.parameters]
    return all(m.match(v) != -1 for m, v in zip(selector.matchers[row], values, strict=True))


def _rule_changes(old: ReferenceProvider, new: ReferenceProvider, instrument: str,
                  reftype: str, change: TypeChange, header: Mapping[str, str]
                  ) -> list[RuleChange]:
    before, after = _rmap(old, instrument, reftype), _rmap(new, instrument, reftype)
    changes = diff_rules(before.ir, after.ir)
    old_files = set(_files(change.old))
    new_files = set(_files(change.new))
    moved = [c for c in changes
             if old_files & set(c.old_files()) or new_files & set(c.new_files())]
    kept = [c for c in moved if _matches(before if c.action == "deleted" else after, c, header)]
    return kept or moved or changes


def _files(outcome: object) -> list[str]:
    if isinstance(outcome, str):
        return [outcome]
    if isinstance(outcome, list):
        return [name for item in outcome for name in _files(item)]
    if isinstance(outcome, dict) and "map" in outcome:
        return [name for item in outcome["map"].values() for name in _files(item)]
    return []


def explain_change(old: ReferenceProvider, new: ReferenceProvider,
                   parameters: Mapping[str, object],
                   reftypes: list[str] | None = None) -> ChangeExplanation:
    """Explain, type by type, why `parameters` select differently under `old` and `new`."""
    found = compare_rows(_result(old, parameters), _result(new, parameters))
    wanted = None if reftypes is None else {t.lower() for t in reftypes}
    out = ChangeExplanation(old.context, new.context, dict(parameters))
    header = condition_parameters(parameters, old.observatory)
    instruments = (_instrument(old.pmap, header), _instrument(new.pmap, header))
    for reftype, (before, after) in found.items():
        if wanted is not None and reftype not in wanted:
            continue
        change = TypeChange(reftype, before, after)
        out.changes.append(change)
        if reftype == ALL_TYPES:
            change.where = "the whole lookup fails differently (instrument or context)"
            continue
        change.traces = (explain(old, parameters, reftype), explain(new, parameters, reftype))
        old_imap, old_entry = _entry(old.pmap, instruments[0], reftype)
        new_imap, new_entry = _entry(new.pmap, instruments[1], reftype)
        both = old_imap.endswith(".imap") and new_imap.endswith(".imap")
        if instruments[0] != instruments[1] or (old_imap != new_imap and not both):
            change.where = (f"instrument {str(instruments[1] or instruments[0]).upper()}: "
                            f"{old.context} names {old_imap}, {new.context} names {new_imap}")
        elif old_entry != new_entry and not (old_entry.endswith(".rmap")
                                             and new_entry.endswith(".rmap")):
            change.where = f"{reftype} in {old_imap}: {old_entry}; in {new_imap}: {new_entry}"
        elif old_entry == new_entry:
            change.where = (f"{reftype}: the same rules ({old_entry}); the instrument's lookup "
                            "keys changed, which its expressions see")
        else:
            change.where = f"{reftype}: {old_entry} -> {new_entry}"
            instrument = instruments[1]
            if instrument is not None:  # two rmaps: both contexts found the instrument
                minimal = new.pmap.minimise(header, new.pmap.imap(instrument))
                change.rule_changes = _rule_changes(old, new, instrument, reftype, change,
                                                    minimal)
    return out
