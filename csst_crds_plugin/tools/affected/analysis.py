"""The affected-dataset analysis of one catalogue part: vectorised, under both contexts.

A part's rows are grouped by instrument (found once per distinct value of the instrument
keys). Groups of instruments the :class:`ChangePlan` skips are never looked up; the others are
looked up with :meth:`ReferenceProvider.best_references_many` under the old and the new context,
for the changed reference types only, and compared column by column (outcomes.py defines what
differs). The result holds only the affected rows, so parts from many processes or a Dask
cluster merge cheaply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from csst_crds_plugin.context import (
    INSTRUMENT_KEYS,
    InstrumentMapping,
    PipelineMapping,
    ReferenceMapping,
)
from csst_crds_plugin.errors import CsstCrdsError, MissingInstrumentError
from csst_crds_plugin.provider import ReferenceProvider
from csst_crds_plugin.results import encode_value
from csst_crds_plugin.selectors.bulk import BulkSelections, factorize
from csst_crds_plugin.selectors.values import condition_value, is_na_value, is_omit_value
from csst_crds_plugin.tools.affected.catalog import Catalog
from csst_crds_plugin.tools.affected.catalog_io import CatalogPart
from csst_crds_plugin.tools.affected.outcomes import ALL_TYPES, error_outcome, outcome_key
from csst_crds_plugin.tools.affected.plan import ChangePlan

__all__ = ["AffectedJob", "PartResult", "analyse_part", "providers_for"]

_PROVIDERS: dict[tuple[str, str, str, bool], ReferenceProvider] = {}
Found = tuple[np.ndarray, str, dict[str, tuple[np.ndarray, list[int], list[int]]]]
"""(affected rows of a group, instrument label, {reftype: (rows, old indexes, new indexes)})."""


@dataclass(frozen=True)
class AffectedJob:
    """Everything a worker needs besides its part: the cache, the contexts and the plan."""

    cache: str
    observatory: str
    old: str
    new: str
    plan: ChangePlan
    ignore_checksum: bool = False


@dataclass
class PartResult:
    """The affected rows of one part, in catalogue order.

    ``changes[reftype] = (positions, old, new)``: entries ``positions`` of ``rows`` changed
    that type, from ``outcomes[old[i]]`` to ``outcomes[new[i]]``.
    """

    start: int
    count: int
    examined: int = 0
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ids: list[object] = field(default_factory=list)
    instruments: list[str] = field(default_factory=list)
    changes: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    outcomes: list[object] = field(default_factory=list)
    unusable: list[tuple[object, str]] = field(default_factory=list)
    """(id, why) of rows whose instrument neither context can find: never compared."""


def providers_for(job: AffectedJob) -> tuple[ReferenceProvider, ReferenceProvider]:
    """Return the old and new providers, made once per process."""
    found = []
    for context in (job.old, job.new):
        key = (job.cache, job.observatory, context, job.ignore_checksum)
        provider = _PROVIDERS.get(key)
        if provider is None:
            provider = _PROVIDERS[key] = ReferenceProvider(
                cache=Path(job.cache), context=context, observatory=job.observatory,
                ignore_checksum=job.ignore_checksum)
        found.append(provider)
    return found[0], found[1]


def _instrument(pmap: PipelineMapping, header: dict[str, str]) -> str | None:
    try:
        return pmap.find_instrument(header)
    except MissingInstrumentError:
        return None


def _imap(pmap: PipelineMapping, instrument: str | None) -> InstrumentMapping | None:
    if instrument is None:
        return None
    try:
        imap = pmap.imap(instrument)
        imap.required_keys  # noqa: B018 (loads the rmaps; a broken one fails the whole lookup)
    except CsstCrdsError:
        return None
    return imap


def _groups(catalog: Catalog, old: PipelineMapping, new: PipelineMapping, names: dict[str, str]
            ) -> dict[tuple[str | None, str | None], np.ndarray]:
    """Rows by (instrument under old, instrument under new)."""
    keys = [k for k in dict.fromkeys((old.instrument_key, new.instrument_key, *INSTRUMENT_KEYS))
            if k in names]
    columns = [catalog.columns[names[k]] for k in keys]
    first, combo = factorize([c.codes.astype(np.int64) + 1 for c in columns],
                             [len(c.values) + 1 for c in columns], len(catalog))
    by_pair: dict[tuple[str | None, str | None], list[int]] = {}
    for position, row in enumerate(first.tolist()):
        header = {}
        for key, column in zip(keys, columns, strict=True):
            text = column.text(row)
            if text is not None:
                header[key] = condition_value(text)
        pair = (_instrument(old, header), _instrument(new, header))
        by_pair.setdefault(pair, []).append(position)
    if len(by_pair) == 1:
        return {pair: np.arange(len(catalog)) for pair in by_pair}
    return {pair: np.flatnonzero(np.isin(combo, positions))
            for pair, positions in by_pair.items()}


def _unusable(catalog: Catalog, rows: np.ndarray, names: dict[str, str],
              keys: tuple[str, ...]) -> list[tuple[int, object, str]]:
    """Why each of these rows has no instrument in either context."""
    looked = tuple(dict.fromkeys((*keys, *INSTRUMENT_KEYS)))
    found = []
    for row, dataset in zip(rows.tolist(), catalog.ids_of(rows), strict=True):
        given = {k: text for k in looked if k in names
                 and (text := catalog.columns[names[k]].text(row)) is not None}
        found.append((row, dataset, f"no {' or '.join(dict.fromkeys(keys))} value" if not given
                      else ", ".join(f"{k}={v!r}" for k, v in given.items())
                      + " is an instrument of neither context"))
    return found


def analyse_part(part: CatalogPart | Catalog, job: AffectedJob) -> PartResult:
    """Find the affected rows of one part."""
    catalog = part if isinstance(part, Catalog) else part.load()
    result = PartResult(catalog.start, len(catalog))
    if not len(catalog):
        return result
    old_provider, new_provider = providers_for(job)
    old, new = old_provider.pmap, new_provider.pmap
    names = {name.upper(): name for name in catalog.columns}
    found: list[Found] = []
    outcomes: dict[str, int] = {}
    table: list[object] = []
    known = ({str(k).lower() for k in old.entries}, {str(k).lower() for k in new.entries})
    unusable: list[tuple[int, object, str]] = []
    for (old_name, new_name), rows in _groups(catalog, old, new, names).items():
        if old_name not in known[0] and new_name not in known[1]:
            unusable += _unusable(catalog, rows, names, (old.instrument_key,
                                                         new.instrument_key))
        types = job.plan.types_for(old_name if old_name == new_name else None)
        if types is False:  # an unchanged instrument (or none): nothing can differ
            continue
        result.examined += len(rows)
        imaps = (_imap(old, old_name), _imap(new, new_name))
        columns = _lookup_columns(catalog, rows, names, imaps, old, new,
                                  types if isinstance(types, tuple) else None,
                                  job.plan.everything)
        bulks = []
        for provider, imap in zip((old_provider, new_provider), imaps, strict=True):
            entries = None if imap is None else imap.entries
            listed = None if types is None or entries is None else \
                [t for t in types if t in entries]
            bulks.append(provider.best_references_many(columns, listed))
        local, changes = _compare(bulks[0], bulks[1], outcomes, table)
        if len(local):
            label = (new_name or old_name or "?").upper()
            found.append((rows[local], label,
                          {t: (rows[r], o, n) for t, (r, o, n) in changes.items()}))
    result.outcomes = table
    result.unusable = [(dataset, why) for _, dataset, why in sorted(unusable,
                                                                   key=lambda e: e[0])]
    _collect(result, catalog, found)
    return result


def _lookup_columns(catalog: Catalog, rows: np.ndarray, names: dict[str, str],
                    imaps: tuple[InstrumentMapping | None, ...], old: PipelineMapping,
                    new: PipelineMapping, types: tuple[str, ...] | None,
                    everything: bool) -> Any:
    """Return the parameter columns the lookups of these rows can use, as text arrays.

    A plain rmap (no expressions) reads only its own keys, so for the compared types those
    are enough; an rmap with expressions sees the instrument's whole minimised header.
    """
    keys = {old.instrument_key, new.instrument_key, *INSTRUMENT_KEYS}
    for imap in imaps:
        if imap is None:
            continue
        plain: list[ReferenceMapping] = []
        all_plain = True
        for reftype in imap.entries if types is None else types:
            entry = imap.entries.get(reftype)
            if entry is None or is_na_value(entry) or is_omit_value(entry):
                continue
            rmap = imap.rmap(reftype)
            if not rmap.plain:
                all_plain = False
                break
            plain.append(rmap)
        if not all_plain:
            keys.update(imap.required_keys)
        else:
            keys.update(k for rmap in plain for k in rmap.required_keys)
    if everything:
        keys = set(names)
    columns = {names[k]: catalog.columns[names[k]].lookup_values(rows)
               for k in sorted(keys) if k in names}
    return columns if columns else [{} for _ in range(len(rows))]


def _types(bulk: BulkSelections) -> list[str]:
    return [t for types, _ in bulk.groups for t in types]


def _keys(bulk: BulkSelections, reftype: str, ids: dict[tuple[Any, ...], int]
          ) -> tuple[np.ndarray, np.ndarray]:
    """Return (key, present) per row.

    Equal keys mean the same outcome; present means the type is in the row's results (a value
    or an error of its own, not omitted and not a failed lookup).
    """
    absent = ids.setdefault(outcome_key(None), len(ids))
    keys = np.full(bulk.count, absent, dtype=np.int64)
    codes = bulk.codes.get(reftype)
    if codes is not None:
        table = bulk.tables[reftype]
        used = np.unique(codes[codes >= 0])  # tables hold every choice of a selector
        lookup = np.full(len(table) + 1, absent, dtype=np.int64)
        lookup[used] = [ids.setdefault(outcome_key(table[c]), len(ids)) for c in used.tolist()]
        keys = lookup[np.where(codes >= 0, codes, len(table))]
        for row, exc in bulk.errors[reftype].items():
            keys[row] = ids.setdefault(outcome_key(exc), len(ids))
    present = keys != absent
    for row, exc in bulk.row_errors.items():
        keys[row] = ids.setdefault(outcome_key(exc), len(ids))
        present[row] = False
    return keys, present


def _outcome(bulk: BulkSelections, reftype: str, row: int) -> object:
    if row in bulk.row_errors:
        return error_outcome(bulk.row_errors[row])
    if reftype == ALL_TYPES:
        return None
    value = bulk.value(reftype, row) if reftype in bulk.codes else None
    if isinstance(value, BaseException):
        return error_outcome(value)
    return None if value is None else encode_value(value)


def _outcome_indexes(bulk: BulkSelections, reftype: str, rows: np.ndarray,
                     outcomes: dict[str, int], table: list[object]) -> list[int]:
    """Return the report outcome (an index into `table`) of each of `rows` for one type."""
    codes = bulk.codes[reftype][rows] if reftype in bulk.codes else \
        np.full(len(rows), BulkSelections.ABSENT, dtype=np.int64)
    if bulk.row_errors:
        codes = np.where(np.isin(rows, list(bulk.row_errors)), BulkSelections.FAILED, codes)
    result = np.empty(len(rows), dtype=np.int64)
    plain = codes >= 0
    if plain.any():
        unique, inverse = np.unique(codes[plain], return_inverse=True)
        values = bulk.tables[reftype]
        result[plain] = np.array([_index(encode_value(values[c]), outcomes, table)
                                  for c in unique.tolist()], dtype=np.int64)[inverse]
    absent = codes == BulkSelections.ABSENT
    if absent.any():
        result[absent] = _index(None, outcomes, table)
    for position in np.flatnonzero(codes == BulkSelections.FAILED).tolist():
        result[position] = _index(_outcome(bulk, reftype, int(rows[position])), outcomes, table)
    return result.tolist()


def _index(outcome: object, outcomes: dict[str, int], table: list[object]) -> int:
    key = json.dumps(outcome, sort_keys=True)
    found = outcomes.get(key)
    if found is None:
        found = outcomes[key] = len(table)
        table.append(outcome)
    return found


def _compare(old: BulkSelections, new: BulkSelections, outcomes: dict[str, int],
             table: list[object]
             ) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, list[int], list[int]]]]:
    """(affected local rows, {reftype: (local rows, old outcome indexes, new ...)})."""
    ids: dict[tuple[Any, ...], int] = {}
    types = sorted(set(_types(old)) | set(_types(new)))
    differs: dict[str, np.ndarray] = {}
    listed = np.zeros(old.count, dtype=bool)  # rows with a type in either result
    for reftype in types:
        (old_keys, old_present), (new_keys, new_present) = \
            _keys(old, reftype, ids), _keys(new, reftype, ids)
        present = old_present | new_present
        listed |= present
        mask = (old_keys != new_keys) & present
        if mask.any():
            differs[reftype] = np.flatnonzero(mask)
    if old.row_errors or new.row_errors:  # no types at all: compare the whole lookups
        ok = ids.setdefault(("ok",), len(ids))
        sides = []
        for bulk in (old, new):
            keys = np.full(old.count, ok, dtype=np.int64)
            for row, exc in bulk.row_errors.items():
                keys[row] = ids.setdefault(outcome_key(exc), len(ids))
            sides.append(keys)
        mask = (sides[0] != sides[1]) & ~listed
        if mask.any():
            differs[ALL_TYPES] = np.flatnonzero(mask)
    changes: dict[str, tuple[np.ndarray, list[int], list[int]]] = {}
    for reftype, rows in differs.items():
        changes[reftype] = (rows, _outcome_indexes(old, reftype, rows, outcomes, table),
                            _outcome_indexes(new, reftype, rows, outcomes, table))
    affected = np.unique(np.concatenate(list(differs.values()))) if differs else \
        np.zeros(0, dtype=np.int64)
    return affected, changes


def _collect(result: PartResult, catalog: Catalog, found: list[Found]) -> None:
    """Merge the groups' findings into rows sorted by catalogue position."""
    if not found:
        return
    all_rows = np.concatenate([rows for rows, _, _ in found])
    labels = [label for rows, label, _ in found for _ in range(len(rows))]
    order = np.argsort(all_rows, kind="stable")
    local = all_rows[order]
    result.rows = local + catalog.start
    result.ids = catalog.ids_of(local)
    result.instruments = [labels[i] for i in order.tolist()]
    by_type: dict[str, list[tuple[np.ndarray, list[int], list[int]]]] = {}
    for _rows, _label, changes in found:
        for reftype, entry in changes.items():
            by_type.setdefault(reftype, []).append(entry)
    for reftype, entries in sorted(by_type.items()):
        rows = np.concatenate([r for r, _, _ in entries])
        old = np.array([i for _, o, _ in entries for i in o], dtype=np.int64)
        new = np.array([i for _, _, n in entries for i in n], dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        result.changes[reftype] = (np.searchsorted(local, rows[order]), old[order], new[order])
