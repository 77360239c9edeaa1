"""Which instruments and reference types can select differently under two contexts.

Mapping names identify their content (a changed rule gets a new name), so comparing the names
in the two pmaps and imaps is enough: an instrument whose imap name is the same in both selects
the same for every dataset, and so does a reference type whose rmap (or N/A / OMIT value) is
the same. One subtlety keeps this exact: an rmap with expressions (``rmap_relevance``,
``rmap_omit``, ``parkey_relevance``) sees the whole minimised header, which is the union of
the instrument's required keys, so when that union changes such an rmap is compared too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from csst_crds_plugin.context import InstrumentMapping, PipelineMapping
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.selectors.values import is_na_value, is_omit_value

__all__ = ["ChangePlan", "plan_changes"]


@dataclass(frozen=True)
class ChangePlan:
    """What to compare. ``instruments[name]`` is the reftypes to compare (None: every type).

    ``everything`` is set when the pmaps select the instrument by different keys: then every
    dataset is compared for every type. ``unchanged`` lists the instruments skipped.
    """

    old: str
    new: str
    instruments: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    unchanged: tuple[str, ...] = ()
    everything: bool = False

    def types_for(self, instrument: str | None) -> tuple[str, ...] | None | Literal[False]:
        """Return the reftypes to compare for an instrument, None for all, False to skip it."""
        if self.everything:
            return None
        if instrument is None or instrument not in self.instruments:
            return False
        return self.instruments[instrument]

    def describe(self) -> dict[str, object]:
        """For reports: ``{INSTRUMENT: [types] or "all"}``."""
        if self.everything:
            return {"*": "all"}
        return {name.upper(): "all" if types is None else list(types)
                for name, types in sorted(self.instruments.items())}


def _usable(name: str | None) -> bool:
    return name is not None and not is_na_value(name) and not is_omit_value(name)


def _imap(pmap: PipelineMapping, instrument: str) -> InstrumentMapping | None:
    try:
        return pmap.imap(instrument)
    except CsstCrdsError:
        return None


def plan_changes(old: PipelineMapping, new: PipelineMapping) -> ChangePlan:
    """Compare two loaded pmaps (both closures must be complete: check_closure first)."""
    if old.instrument_key != new.instrument_key:
        return ChangePlan(old.name, new.name, everything=True)
    instruments: dict[str, tuple[str, ...] | None] = {}
    unchanged = []
    for instrument in sorted(set(old.entries) | set(new.entries)):
        old_name, new_name = old.entries.get(instrument), new.entries.get(instrument)
        if old_name == new_name:
            unchanged.append(instrument)
            continue
        old_imap = _imap(old, instrument) if _usable(old_name) else None
        new_imap = _imap(new, instrument) if _usable(new_name) else None
        if old_imap is None or new_imap is None:
            instruments[instrument] = None  # datasets fail as a whole on one side
            continue
        try:
            types = _changed_types(old_imap, new_imap)
        except CsstCrdsError:  # a broken rmap: its lookups fail, so compare every type
            instruments[instrument] = None
            continue
        if types:
            instruments[instrument] = types
        else:
            unchanged.append(instrument)
    return ChangePlan(old.name, new.name, instruments, tuple(unchanged))


def _changed_types(old: InstrumentMapping, new: InstrumentMapping) -> tuple[str, ...]:
    types = [t for t in dict.fromkeys([*old.entries, *new.entries])
             if old.entries.get(t) != new.entries.get(t)]
    if set(old.required_keys) != set(new.required_keys):
        for reftype, name in old.entries.items():
            if reftype not in types and _usable(name) and not old.rmap(reftype).plain:
                types.append(reftype)
    return tuple(sorted(types))
