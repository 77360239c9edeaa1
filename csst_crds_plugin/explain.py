"""Explain a selection: the rule path, each candidate's per-key verdicts, and the winner."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from csst_crds_plugin.context import (
    PipelineMapping,
    ReferenceMapping,
    condition_parameters,
)
from csst_crds_plugin.errors import CsstCrdsError, ReferenceLookupError
from csst_crds_plugin.results import NOT_APPLICABLE, OMITTED, UNDEFINED
from csst_crds_plugin.selectors import FallbackNoMatchError, MatchSelector, Selector
from csst_crds_plugin.selectors.useafter import UseAfterSelector, lookup_date
from csst_crds_plugin.selectors.values import is_na_value, is_omit_value


class Selecting(Protocol):
    """What a trace needs of a `ReferenceProvider`: its context, loaded and by name."""

    @property
    def context(self) -> str:
        """The pipeline context name."""

    @property
    def pmap(self) -> PipelineMapping:
        """The loaded pipeline context."""

    @property
    def observatory(self) -> str:
        """The observatory (for conditioning the parameters)."""

__all__ = ["Explanation", "Selecting", "explain"]

_VERDICT = {1: "match", 0: "don't care", -1: "NO MATCH"}
_MAX_ROWS = 12


@dataclass
class Explanation:
    """A readable trace of one lookup; ``str()`` renders it as a table."""

    context: str
    reftype: str
    parameters: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    result: object = None
    error: str | None = None
    category: str | None = None

    def __str__(self) -> str:
        """Render the trace as a table."""
        head = [f"context:   {self.context}", f"reftype:   {self.reftype}"]
        if self.parameters:
            head.append("parameters (conditioned):")
            head.extend(f"    {k} = {v!r}" for k, v in self.parameters.items())
        tail = [f"error ({self.category}): {self.error}"] if self.error else \
            [f"result:    {_show(self.result)}"]
        return "\n".join(head + self.lines + tail)


def _show(value: object) -> str:
    if value is NOT_APPLICABLE:
        return "N/A (not applicable)"
    if value is OMITTED:
        return "omitted (OMIT)"
    return repr(value)


def explain(provider: Selecting, parameters: Mapping[str, object],
            reftype: str) -> Explanation:
    """Trace the lookup of `reftype` for `parameters` in the provider's context."""
    reftype = reftype.lower()
    out = Explanation(provider.context, reftype)
    try:
        pmap = provider.pmap
        header = condition_parameters(parameters, provider.observatory)
        instrument = pmap.find_instrument(header)
        imap = pmap.imap(instrument)
        out.lines.append(f"instrument: {instrument.upper()} -> {imap.name}")
        entry = imap.entries.get(reftype)
        out.lines.append(f"{imap.name}: {reftype!r} -> {entry!r}")
        minimal = pmap.minimise(header, imap)
        if entry is not None and not (is_na_value(entry) or is_omit_value(entry)):
            rmap = imap.rmap(reftype)
            out.parameters = {k: minimal.get(k, UNDEFINED) for k in rmap.required_keys}
            _trace_rmap(out, rmap, minimal)
        _, results = pmap.best_references(header, [reftype], conditioned=True)
    except CsstCrdsError as exc:
        out.error, out.category = str(exc), getattr(exc, "category", "other")
        return out
    value = results.get(reftype, OMITTED)
    if isinstance(value, Exception):
        out.error, out.category = str(value), getattr(value, "category", "other")
    else:
        out.result = value
    return out


def _trace_rmap(out: Explanation, rmap: ReferenceMapping, header: Mapping[str, str]) -> None:
    out.lines.append(f"rmap:      {rmap.name} (parkey {rmap.parkey!r})")
    if rmap.omit is not None:
        out.lines.append(f"  rmap_omit {rmap.omit.text!r}")
    if rmap.relevance is not None:
        out.lines.append(f"  rmap_relevance {rmap.relevance.text!r}")
    try:
        early, header, irrelevant = rmap.relevant(header)
    except ReferenceLookupError as exc:  # reported by the real lookup below
        out.lines.append(f"  {exc}")
        return
    if early is not None:
        out.lines.append(f"  header expressions give {_show(early)}")
        return
    for key in irrelevant:
        out.lines.append(f"  {key} set to N/A by {rmap.parkey_relevance[key].text!r}")
    if isinstance(rmap.selector, Selector):
        _trace(out, rmap.selector, header, 1)


def _trace(out: Explanation, selector: Selector, header: Mapping[str, str], depth: int) -> None:
    pad = "  " * depth
    if isinstance(selector, MatchSelector):
        _trace_match(out, selector, header, depth)
        return
    try:
        key = selector.lookup_key(header)
    except ReferenceLookupError as exc:
        out.lines.append(f"{pad}{selector.rule_name}{selector.parameters}: {exc}")
        return
    if isinstance(selector, UseAfterSelector) and selector.rule_name == "UseAfter":
        date = lookup_date(selector, header)
        index = selector.position(date)
        out.lines.append(f"{pad}UseAfter{selector.parameters}: observation {date!r}, "
                         f"{len(selector.keys)} dates")
        if index < 0:
            first = selector.keys[0] if selector.keys else None
            out.lines.append(f"{pad}  no date <= {date!r}; the first is {first!r}")
            return
        nxt = selector.keys[index + 1] if index + 1 < len(selector.keys) else None
        out.lines.append(f"{pad}  chosen {selector.keys[index]!r} -> "
                         f"{_short(selector.choices[index])}; next date {nxt!r}")
        chosen = selector.choices[index]
        if isinstance(chosen, Selector):
            _trace(out, chosen, header, depth + 1)
        return
    out.lines.append(f"{pad}{selector.rule_name}{selector.parameters}: lookup key {key!r}")


def _short(choice: object) -> str:
    return f"{choice.rule_name}(...)" if isinstance(choice, Selector) else repr(choice)


def _trace_match(out: Explanation, selector: MatchSelector, header: Mapping[str, str],
                 depth: int) -> None:
    pad = "  " * depth
    names = selector.parameters
    values = [header.get(n, UNDEFINED) for n in names]
    shown = ', '.join(f'{n}={v!r}' for n, v in zip(names, values, strict=True))
    out.lines.append(f"{pad}Match on {shown}")
    try:
        selector.lookup_key(header)
    except ReferenceLookupError as exc:
        out.lines.append(f"{pad}  pre-validation failed: {exc}")
        return
    rows = selector.nearest(values)
    for row, statuses in rows[:_MAX_ROWS]:
        verdicts = ", ".join(f"{n}:{_VERDICT[s]}" for n, s in zip(names, statuses, strict=True))
        mark = "candidate" if -1 not in statuses else "eliminated"
        out.lines.append(f"{pad}  {selector.raw_keys[row]!r}: {verdicts} [{mark}]")
    if len(rows) > _MAX_ROWS:
        out.lines.append(f"{pad}  ... and {len(rows) - _MAX_ROWS} more rules")
    groups = selector.groups(values)
    if not groups:
        out.lines.append(f"{pad}  no rule matches; nearest rules are listed first above")
        return
    for rank, group in enumerate(groups, start=1):
        keys = [selector.raw_keys[r] for r in group]
        out.lines.append(f"{pad}  candidate {rank}: {keys!r}")
        choice = selector.choices[group[0]] if len(group) == 1 else None
        if isinstance(choice, Selector):
            try:
                choice.choose(header)
            except FallbackNoMatchError as exc:
                out.lines.append(f"{pad}    falls back: {exc}")
                _trace(out, choice, header, depth + 2)
                continue
            except ReferenceLookupError:
                _trace(out, choice, header, depth + 2)
                return
            _trace(out, choice, header, depth + 2)
        return
