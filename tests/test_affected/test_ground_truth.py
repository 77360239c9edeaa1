"""Ground truth: the affected set equals the rows whose per-row bestrefs differ, one row at a time.

The truth is computed here from the generated rows (not from the catalogue the tool reads) with
``ReferenceProvider.best_references`` under each context, and compared by the rule of
docs/affected.md: the types in either result are compared, each as a value, an error category
or absent; a failure of the whole lookup stands for every type the other context gives.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.results import NOT_APPLICABLE
from csst_crds_plugin.tools.affected import find_affected

OLD, NEW = "csst_0001.pmap", "csst_0002.pmap"
ROWS = 100_000


def _encode(value: object) -> object:
    if value is NOT_APPLICABLE:
        return "N/A"
    assert isinstance(value, str), value  # these rules have only single-file terminals
    return value


def _error(exc: BaseException) -> dict[str, str]:
    return {"error": getattr(exc, "category", "other"), "message": str(exc)}


def _outcomes(provider: ReferenceProvider, row: dict[str, Any]) -> dict[str, Any] | Exception:
    try:
        found = provider.best_references(row, errors="collect")
    except CsstCrdsError as exc:
        return exc
    return {t: _error(s.error) if s.error is not None else _encode(s.value)
            for t, s in found.items()}


def _same(a: object, b: object) -> bool:
    """Outcomes are the same when equal, errors when their categories are."""
    if isinstance(a, dict) and isinstance(b, dict) and "error" in a and "error" in b:
        return a["error"] == b["error"]
    return a == b


def _truth(contexts: Path, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    old = ReferenceProvider(cache=contexts, context=OLD)
    new = ReferenceProvider(cache=contexts, context=NEW)
    truth = {}
    for number, row in enumerate(rows):
        before, after = _outcomes(old, row), _outcomes(new, row)
        types = sorted({t for side in (before, after) if isinstance(side, dict) for t in side})
        changes = {}
        for reftype in types:
            a = _error(before) if isinstance(before, Exception) else before.get(reftype)
            b = _error(after) if isinstance(after, Exception) else after.get(reftype)
            if not _same(a, b):
                changes[reftype] = {"old": a, "new": b}
        if not types and (isinstance(before, Exception) or isinstance(after, Exception)):
            a = _error(before) if isinstance(before, Exception) else None
            b = _error(after) if isinstance(after, Exception) else None
            if not _same(a, b):  # no type on either side: the whole lookups are compared
                changes["*"] = {"old": a, "new": b}
        if changes:
            truth[f"ds{number:06d}"] = changes
    return truth


@pytest.fixture(scope="module")
def rows(rows_maker: Callable[..., list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return rows_maker(ROWS)


def test_affected_set_equals_per_row_ground_truth(
        contexts: Path, rows: list[dict[str, Any]], tmp_path: Path,
        jsonl_writer: Callable[[Path, list[dict[str, Any]]], Path]) -> None:
    catalogue = jsonl_writer(tmp_path / "catalogue.jsonl", rows)
    report = find_affected(catalogue, OLD, NEW, cache=contexts, rows_per_part=40_000)
    got = {d["id"]: d["changes"] for d in report.datasets()}
    truth = _truth(contexts, rows)
    assert got == truth  # same datasets, same types, same old and new outcomes

    # The contexts differ only for MSC (bias, flat) and IFS (new), so only rows naming those
    # instruments are looked up; MCI (same imap), CPIC (N/A in both) and the rest are skipped.
    looked_up = sum(1 for r in rows if str(r.get("INSTRUME", "")).upper() in ("MSC", "IFS"))
    assert report.total == ROWS and report.examined == looked_up < ROWS
    assert report.affected == len(truth)
    # the comparison covers the kinds of change the rules were written to produce
    changes = [c for d in truth.values() for c in d.values()]
    kinds = {(type(c["old"]).__name__, type(c["new"]).__name__) for c in changes}
    assert {("str", "str"), ("dict", "str")} <= kinds  # file -> file, error -> file
    assert any(c["old"] == "N/A" for c in changes) and any(c["new"] == "N/A" for c in changes)
    # IFS mask is omitted for FAST readout, so only the other rows compare it
    ifs = [(rows[int(k[2:])].get("READMODE"), d) for k, d in truth.items()
           if rows[int(k[2:])].get("INSTRUME") == "IFS"]
    assert ifs and all(("mask" in d) == (mode != "FAST") for mode, d in ifs)
    assert not any(d["instrument"] == "MCI" for d in report.datasets())
