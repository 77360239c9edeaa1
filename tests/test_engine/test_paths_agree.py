"""The three ways to ask agree on every conformance case: one lookup, explain, and bulk.

`best_references` is held to CRDS by test_conformance; here `explain` (the tracer) and
`best_references_many` (the vectorised path) are held to `best_references`, case by case.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.results import OMITTED, Selection


def _suites(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.iterdir() if (p / "suite.json").is_file())


def _cases(root: Path) -> list[dict[str, Any]]:
    with (root / "cases.jsonl").open(encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]


def _outcome(selection: Selection | None) -> object:
    if selection is None:
        return "OMITTED"
    if selection.error is not None:
        return ("error", getattr(selection.error, "category", "other"))
    return selection.value


def _one(provider: ReferenceProvider, case: dict[str, Any]) -> dict[str, object] | tuple:
    try:
        found = provider.best_references(case["parameters"], case["reftypes"],
                                         errors="collect")
    except CsstCrdsError as exc:
        return ("call fails", getattr(exc, "category", "other"))
    return {t: _outcome(found.get(t)) for t in case["reftypes"]}


def test_explain_and_bulk_agree_with_best_references(conformance_corpus: Path) -> None:
    disagreements: list[str] = []
    checked = 0
    for root in _suites(conformance_corpus):
        meta = json.loads((root / "suite.json").read_text(encoding="utf-8"))
        providers: dict[str, ReferenceProvider] = {}
        groups: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
        for case in _cases(root):
            context = case["context"]
            provider = providers.get(context)
            if provider is None:
                provider = providers[context] = ReferenceProvider(
                    cache=root / "cache", context=context,
                    ignore_checksum=bool(meta.get("ignore_checksum")))
            expected = _one(provider, case)
            groups[(context, tuple(case["reftypes"]))].append(case)
            for reftype in case["reftypes"]:
                trace = provider.explain(case["parameters"], reftype)
                if trace.error is not None:
                    traced: object = ("error", trace.category)
                    if isinstance(expected, tuple):
                        traced = ("call fails", trace.category)
                elif trace.result is OMITTED:
                    traced = "OMITTED"
                else:
                    traced = trace.result
                want = expected if isinstance(expected, tuple) else expected[reftype]
                if traced != want:
                    disagreements.append(f"explain {case['id']} {reftype}: {traced!r} != "
                                         f"{want!r}")
                checked += 1
        for (context, reftypes), cases in groups.items():
            bulk = providers[context].best_references_many(
                [c["parameters"] for c in cases], list(reftypes))
            for index, case in enumerate(cases):
                expected = _one(providers[context], case)
                try:
                    row = bulk.row(index)
                    got: object = {t: _outcome(row.get(t)) for t in reftypes}
                except CsstCrdsError as exc:
                    got = ("call fails", getattr(exc, "category", "other"))
                if got != expected:
                    disagreements.append(f"bulk {case['id']}: {got!r} != {expected!r}")
    assert checked > 5000
    assert not disagreements, "\n".join(disagreements[:20])
