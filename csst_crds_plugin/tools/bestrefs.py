"""Bulk best references: case lines in, one result line per case out (DESIGN.md §6).

With two contexts (:func:`compare_cases`) each line says instead which types select
differently, by the rule of the affected-datasets analysis (tools/affected/outcomes.py).
Cases come from a JSONL file (:func:`iter_cases`) or from FITS/ASDF files (:func:`iter_files`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from csst_crds_plugin.cache.safe_read import loads_json
from csst_crds_plugin.errors import CsstCrdsError, InputLimitError
from csst_crds_plugin.provider import ReferenceProvider
from csst_crds_plugin.results import category_of, encode_value

__all__ = [
    "Case", "compare_cases", "evaluate_case", "failed",
    "iter_cases", "iter_files", "run_cases",
]


def _error(exc: BaseException) -> dict[str, str]:
    return {"error": category_of(exc), "message": str(exc)}


Case = dict[str, Any] | CsstCrdsError
"""A case, or the error that made its input unreadable (reported on its own result line)."""


def iter_cases(path: str | Path) -> Iterator[tuple[object, Case]]:
    """Yield (id, case) for each non-blank line of a JSONL file; flat objects become cases.

    A line that is not a JSON object yields (line number, CsstCrdsError naming file and line);
    a file that cannot be opened raises InputLimitError naming it.
    """
    try:
        stream = Path(path).open(encoding="utf-8", errors="replace")  # noqa: SIM115
    except OSError as exc:
        raise InputLimitError(f"{path}: cannot read the parameter sets: "
                              f"{exc.strerror or exc}") from None
    with stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                obj = loads_json(line, f"{path}:{number}")
            except json.JSONDecodeError as exc:
                yield number, CsstCrdsError(f"{path}:{number}: not a JSON object: {exc.msg}")
                continue
            except CsstCrdsError as exc:
                yield number, exc
                continue
            if not isinstance(obj, dict):
                yield number, CsstCrdsError(f"{path}:{number}: expected a JSON object")
            elif isinstance(obj.get("parameters"), dict):
                yield obj.get("id", number), obj
            else:
                yield number, {"parameters": obj}


def failed(line: Mapping[str, Any]) -> bool:
    """True when a result line holds an error (a failed lookup or an unreadable input)."""
    if "error" in line:
        return True
    results = line.get("results")
    return isinstance(results, dict) and any(
        isinstance(value, dict) and "error" in value for value in results.values())


def evaluate_case(
    case: Mapping[str, Any],
    *,
    cache: str | Path | None,
    context: str | None,
    reftypes: Iterable[str] | None = None,
    ignore_checksum: bool = False,
    providers: dict[tuple[str | None, bool], ReferenceProvider] | None = None,
) -> dict[str, object]:
    """Best references for one case as a ``{reftype: encoded value}`` dict."""
    context = case.get("context") or context
    types = case.get("reftypes") or (list(reftypes) if reftypes else None)
    providers = {} if providers is None else providers
    key = (context, ignore_checksum)
    try:
        provider = providers.get(key)
        if provider is None:
            provider = providers[key] = ReferenceProvider(
                cache=cache, context=context, ignore_checksum=ignore_checksum
            )
        selections = provider.best_references(case["parameters"], types, errors="collect")
    except CsstCrdsError as exc:
        if not types:
            return {"*": _error(exc)}
        return {t.lower(): _error(exc) for t in types}
    results: dict[str, object] = {}
    for reftype, selection in selections.items():
        results[reftype] = _error(selection.error) if selection.error is not None \
            else encode_value(selection.value)
    return results


def run_cases(
    cases: Iterable[tuple[object, Mapping[str, Any] | CsstCrdsError]],
    *,
    cache: str | Path | None,
    context: str | None,
    reftypes: Iterable[str] | None = None,
    ignore_checksum: bool = False,
) -> Iterator[dict[str, object]]:
    """Yield ``{"id", "results"}`` for each case; ``{"id", "error"}`` for an unreadable one."""
    providers: dict[tuple[str | None, bool], ReferenceProvider] = {}
    types = list(reftypes) if reftypes else None
    for case_id, case in cases:
        if isinstance(case, CsstCrdsError):
            yield {"id": case_id, "error": _error(case)}
            continue
        yield {
            "id": case_id,
            "results": evaluate_case(case, cache=cache, context=context, reftypes=types,
                                     ignore_checksum=ignore_checksum, providers=providers),
        }


def iter_files(paths: Iterable[str | Path]) -> Iterator[tuple[object, Case]]:
    """Yield (path, case) for FITS/ASDF files, read as ``csst-crds catalog build`` reads them.

    An unreadable file yields (path, the CsstCrdsError naming it and why) and the rest go on.
    """
    from csst_crds_plugin.tools.affected.scan import scan_file

    for path in paths:
        try:
            yield str(path), {"parameters": scan_file(path)}
        except CsstCrdsError as exc:
            yield str(path), exc


def compare_cases(
    cases: Iterable[tuple[object, Mapping[str, Any] | CsstCrdsError]],
    *,
    cache: str | Path | None,
    old_context: str,
    new_context: str,
    reftypes: Iterable[str] | None = None,
    ignore_checksum: bool = False,
) -> Iterator[dict[str, object]]:
    """Yield ``{"id", "changes": {reftype: {"old", "new"}}}`` for each case (only changed types).

    A case's own ``context`` field is not used here; its ``reftypes`` are.
    """
    from csst_crds_plugin.tools.affected.outcomes import compare_rows

    old = ReferenceProvider(cache=cache, context=old_context, ignore_checksum=ignore_checksum)
    new = ReferenceProvider(cache=old.cache_root, context=new_context,
                            observatory=old.observatory, ignore_checksum=ignore_checksum)
    types = list(reftypes) if reftypes else None

    def outcome(provider: ReferenceProvider, case: Mapping[str, Any]) -> Any:
        try:
            return provider.best_references(case["parameters"], case.get("reftypes") or types,
                                            errors="collect")
        except CsstCrdsError as exc:
            return exc

    for case_id, case in cases:
        if isinstance(case, CsstCrdsError):
            yield {"id": case_id, "error": _error(case)}
            continue
        changes = compare_rows(outcome(old, case), outcome(new, case))
        yield {"id": case_id,
               "changes": {t: {"old": o, "new": n} for t, (o, n) in changes.items()}}
