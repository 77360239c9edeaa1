"""Bulk selection: many parameter sets at once, vectorised where the rules allow.

Behind :meth:`ReferenceProvider.best_references_many`. Plain rmaps (no expressions) are
chosen column-wise by `csst_crds_plugin.selectors.bulk`; every other row goes through the
pipeline context's own lookup, so both give the same answer (a test holds them to it on the
conformance corpus).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from csst_crds_plugin.context import (
    INSTRUMENT_KEYS,
    InstrumentMapping,
    PipelineMapping,
    condition_parameters,
)
from csst_crds_plugin.errors import CsstCrdsError, ReferenceLookupError
from csst_crds_plugin.observatories import get_observatory
from csst_crds_plugin.results import NOT_APPLICABLE, OMITTED, UNDEFINED
from csst_crds_plugin.selectors.bulk import BulkSelections, Column, choose_many, factorize
from csst_crds_plugin.selectors.values import is_na_value, is_omit_value

__all__ = ["select_many"]


def select_many(
    pmap: PipelineMapping,
    parameters: Mapping[str, Sequence[object]] | Sequence[Mapping[str, object]],
    reftypes: Iterable[str] | None,
    observatory: str,
) -> BulkSelections:
    """Run the bulk lookup behind :meth:`ReferenceProvider.best_references_many`."""
    if isinstance(parameters, Mapping):
        given = {name: Column(values) for name, values in parameters.items()}
        lengths = {len(column) for column in given.values()}
        if len(lengths) > 1:
            raise ValueError(f"parameter columns differ in length: {sorted(lengths)}")
        count = lengths.pop() if lengths else 0
        names = {name: _header_name(name, observatory) for name in given
                 if isinstance(name, str)}  # type: ignore[redundant-expr]  # callers pass any keys
        if len(set(names.values())) == len(names):
            columns = {names[name]: column for name, column in given.items() if name in names}
            return _select(pmap, columns, count, reftypes,
                           lambda i: {n: c.value(i) for n, c in given.items()})
        parameters = [{n: c.value(i) for n, c in given.items()} for i in range(count)]
    rows = list(parameters)
    headers = [condition_parameters(row, observatory) for row in rows]
    keys = dict.fromkeys(key for header in headers for key in header)
    columns = {key: Column([h.get(key, UNDEFINED) for h in headers], conditioned=True)
               for key in keys}
    return _select(pmap, columns, len(rows), reftypes, rows.__getitem__)


def _header_name(name: str, observatory: str) -> str:
    return get_observatory(observatory).rule_key(name)


def _select(pmap: PipelineMapping, columns: dict[str, Column], count: int,
            reftypes: Iterable[str] | None,
            row_of: Callable[[int], Mapping[str, object]]) -> BulkSelections:
    result = BulkSelections(count)
    if not count:
        return result
    wanted = None if reftypes is None else list(dict.fromkeys(t.lower() for t in reftypes))
    instrument_keys = [k for k in dict.fromkeys((pmap.instrument_key,
                                                 pmap.instrument_key.lower(), *INSTRUMENT_KEYS))
                       if k in columns]
    parts = [columns[key].conditioned() for key in instrument_keys]
    first, combo = factorize([codes for codes, _ in parts], [len(v) for _, v in parts], count)
    groups: dict[int, list[int]] = {}
    imaps: dict[int, InstrumentMapping] = {}
    for position, row in enumerate(first.tolist()):
        header = {key: values[codes[row]]
                  for key, (codes, values) in zip(instrument_keys, parts, strict=True)}
        try:
            imap = pmap.imap(pmap.find_instrument(header))
            imap.required_keys  # noqa: B018 (loads every rmap, as minimising does)
        except CsstCrdsError as exc:
            for index in np.flatnonzero(combo == position).tolist():
                result.row_errors[index] = exc
            continue
        imaps[id(imap)] = imap
        groups.setdefault(id(imap), []).append(position)
    for key, positions in groups.items():
        imap = imaps[key]
        rows = np.flatnonzero(np.isin(combo, positions))
        types = list(imap.entries) if wanted is None else wanted
        result.group_of_row[rows] = len(result.groups)
        result.groups.append((tuple(types), imap.entries))
        memo: dict[object, object] = {}
        for reftype in types:
            _select_type(pmap, imap, reftype, columns, rows, result, row_of, memo)
    return result


def _select_type(pmap: PipelineMapping, imap: InstrumentMapping, reftype: str,
                 columns: dict[str, Column], rows: np.ndarray, result: BulkSelections,
                 row_of: Callable[[int], Mapping[str, object]], memo: dict[object, object]
                 ) -> None:
    entry = imap.entries.get(reftype)
    fallback = rows
    if entry is None or is_na_value(entry) or is_omit_value(entry):
        try:
            value = imap.lookup(reftype, {})
        except ReferenceLookupError as exc:
            for row in rows.tolist():
                result.fail(reftype, row, exc)
            return
        if value is not OMITTED:
            result.put(reftype, rows, value)
        return
    rmap = imap.rmap(reftype)
    if rmap.plain:
        choice, table, failed, specials = choose_many(rmap.selector, columns, rows, memo)
        done = ~failed
        codes = choice[done]
        omitted = []
        for position in specials:
            if is_na_value(table[position]):
                table[position] = NOT_APPLICABLE
            elif is_omit_value(table[position]):
                omitted.append(position)
        if omitted:
            codes = np.where(np.isin(codes, omitted), -1, codes)
        result.put(reftype, rows[done], codes, table)
        fallback = rows[failed]
    for row in fallback.tolist():
        _, found = pmap.best_references(row_of(row), [reftype])
        outcome = found.get(reftype)
        if isinstance(outcome, Exception):
            result.fail(reftype, row, outcome)
        elif outcome is not None:
            result.put(reftype, np.array([row]), outcome)
