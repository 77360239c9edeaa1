"""Rules for new reference types, and the first context of an empty cache.

``add_reference_types(cache, ["msc:bias", "msc:dark", ...])`` writes an empty rmap
(``Match({})``) per new type, with the parkeys of :data:`CSST_PARKEYS` (CSST.md §5.5) unless
given, and publishes a context that includes them: derived from the latest context, or, in an
empty cache, ``<obs>_0001.pmap`` with fresh imaps. Deliveries then fill the rmaps.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from csst_crds_plugin.cache.config import load_config
from csst_crds_plugin.cache.layout import CacheLayout
from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY
from csst_crds_plugin.rules import DictNode, MappingIR
from csst_crds_plugin.settings import get_settings
from csst_crds_plugin.tools.delivery.errors import DeliveryError
from csst_crds_plugin.tools.delivery.journal import transaction
from csst_crds_plugin.tools.delivery.lock import rules_lock
from csst_crds_plugin.tools.delivery.mappings import (
    read_cached,
    render_new_version,
    write_mapping,
)
from csst_crds_plugin.tools.delivery.newcontext import (
    GENERATED,
    RmapUpdate,
    derive_context,
    fresh_mapping,
)
from csst_crds_plugin.tools.delivery.publish import commit_context, latest_context

__all__ = ["CSST_PARKEYS", "TypesAdded", "add_reference_types", "parse_type"]

_DATE = ("DATE-OBS", "TIME-OBS")
Parkey = tuple[tuple[str, ...], ...]

CSST_PARKEYS: Mapping[str, Parkey] = {
    "msc:bias": (("DETECTOR", "READMODE"), _DATE),
    "msc:dark": (("DETECTOR", "READMODE"), _DATE),
    "msc:flat": (("DETECTOR", "FILTER"), _DATE),
    "msc:sflat": (("DETECTOR", "FILTER"), _DATE),
    "msc:gain": (("DETECTOR", "READMODE"), _DATE),
    "msc:readnoise": (("DETECTOR", "READMODE"), _DATE),
    "msc:mask": (("DETECTOR", "READMODE"), _DATE),
    "msc:crosstalk": (("DETECTOR",), _DATE),
    "msc:psf": (("DETECTOR", "FILTER", "BREAPHAS"), _DATE),
    "mci:bias": (("DETECTOR",), _DATE),
    "mci:dark": (("DETECTOR",), _DATE),
    "mci:flat": (("DETECTOR", "FILTER"), _DATE),
    "mci:mask": (("DETECTOR",), _DATE),
    "ifs:bias": (("DETECTOR",), _DATE),
    "ifs:dark": (("DETECTOR",), _DATE),
    "ifs:flat": (("DETECTOR",), _DATE),
    "ifs:stdstar": (("DETECTOR",), _DATE),
    "ifs:arc": (("DETECTOR", "OBSTYPE"), _DATE),
    "ifs:sky": (("DETECTOR", "OBSTYPE"), _DATE),
}
"""Match parkeys, then the UseAfter date, per ``instrument:reftype`` (CSST.md §5.5)."""


@dataclass(frozen=True, slots=True)
class TypesAdded:
    """The context published for new types (None if every type existed already)."""

    context: str | None
    derived_from: str | None
    rmaps: tuple[str, ...]
    skipped: tuple[str, ...]
    activated: bool


def parse_type(text: str) -> tuple[str, str]:
    """``'msc:bias'`` → ``('msc', 'bias')``."""
    instrument, sep, reftype = text.strip().lower().partition(":")
    if not sep or not instrument or not reftype:
        raise DeliveryError(f"{text!r}: name a reference type as INSTRUMENT:TYPE, e.g. msc:bias")
    return instrument, reftype


def _present(layout: CacheLayout, base: str | None) -> set[tuple[str, str]]:
    if base is None:
        return set()
    found = set()
    pmap = read_cached(layout, base).selector
    for instrument, imap in pmap.entries if isinstance(pmap, DictNode) else ():
        if str(imap).endswith(".imap"):
            selector = read_cached(layout, str(imap)).selector
            for reftype, rmap in selector.entries if isinstance(selector, DictNode) else ():
                if str(rmap).endswith(".rmap"):
                    found.add((str(instrument).lower(), str(reftype).lower()))
    return found


def _render_generated(ir: MappingIR, name: str) -> str:
    """Render the generated mapping `ir` named `name` (a `write_mapping` renderer)."""
    return render_new_version(ir, name, GENERATED)


def add_reference_types(cache: str | Path | None, reftypes: Iterable[str], *,
                        parkeys: Mapping[str, Parkey] | None = None,
                        observatory: str = DEFAULT_OBSERVATORY, activate: bool | None = None,
                        description: str | None = None,
                        lock_timeout: float = 600.0) -> TypesAdded:
    """Publish a context with an empty rmap for each new ``instrument:type``.

    `parkeys` overrides :data:`CSST_PARKEYS`; `activate` None activates the new context when
    the cache has no operational one yet (a fresh cache).
    """
    settings = get_settings()
    layout = CacheLayout(cache if cache is not None else settings.cache_root, observatory,
                         readonly=settings.readonly)
    table = {**CSST_PARKEYS, **(parkeys or {})}
    wanted = list(dict.fromkeys(parse_type(t) for t in reftypes))
    for instrument, reftype in wanted:
        if f"{instrument}:{reftype}" not in table:
            raise DeliveryError(f"no parkeys known for {instrument}:{reftype}; give them "
                                f"(known: {', '.join(sorted(table))})")
    with rules_lock(layout, lock_timeout):
        base = latest_context(layout)
        present = _present(layout, base)
        new = [t for t in wanted if t not in present]
        skipped = tuple(f"{i}:{r}" for i, r in wanted if (i, r) in present)
        if not new:
            return TypesAdded(None, base, (), skipped, False)
        if activate is None:
            activate = load_config(layout).operational is None
        written: list[str] = []
        with transaction(layout, "new reference types", base):
            updates = []
            for instrument, reftype in new:
                empty = fresh_mapping("REFERENCE", layout.observatory,
                                      table[f"{instrument}:{reftype}"], instrument=instrument,
                                      filekind=reftype, selector="Match({\n})")
                name = write_mapping(layout, f"{layout.observatory}_{instrument}_{reftype}.rmap",
                                     functools.partial(_render_generated, empty))
                written.append(name)
                updates.append(RmapUpdate(instrument, reftype, name))
            context = derive_context(layout, base, updates, description=description)
            written.extend(context.written)
            commit_context(layout, context.pmap, written, base, activate=activate,
                           description=description or "new reference types: "
                           + ", ".join(f"{i}:{r}" for i, r in new))
    return TypesAdded(context.pmap, base, tuple(written[:len(new)]), skipped, activate)
