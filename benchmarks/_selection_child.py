"""One measurement in a fresh process: ``python _selection_child.py ENGINE SCENARIO CACHE``.

ENGINE is ``engine`` (this package), ``crds`` (the CRDS library) or ``baseline-engine`` /
``baseline-crds`` (imports only, for the memory baseline). Prints one JSON object: load time,
first lookup, steady per-lookup latency, bulk throughput and the process's peak RSS
(``ru_maxrss``), so both engines are measured the same way.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import rulegen

STEADY_BATCHES = 3
CHECKED = 100  # leading bulk rows whose selections both engines report, to compare


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _steady(lookup: Any, scenario: rulegen.Scenario, count: int) -> float:
    """Best of a few batches of distinct parameter sets; microseconds per lookup."""
    best = float("inf")
    reftype = [scenario.reftypes[0]]
    for batch in range(STEADY_BATCHES):
        rows = rulegen.make_parameters(scenario, count, seed=100 + batch)
        start = time.perf_counter()
        for row in rows:
            lookup(row, reftype)
        best = min(best, (time.perf_counter() - start) / count)
    return best * 1e6


def run_engine(scenario: rulegen.Scenario, cache: Path, args: dict[str, Any]) -> dict[str, Any]:
    """Run this engine through its public API."""
    from csst_crds_plugin import ReferenceProvider

    start = time.perf_counter()
    provider = ReferenceProvider(cache=cache, context=scenario.context,
                                 **args.get("provider", {}))
    imap = provider.pmap.imap("tinstr")
    for reftype in scenario.reftypes:
        imap.rmap(reftype)
    load = time.perf_counter() - start
    row = rulegen.make_parameters(scenario, 1, seed=7)[0]
    start = time.perf_counter()
    first = provider.best_references(row, [scenario.reftypes[0]])
    first_s = time.perf_counter() - start
    steady = _steady(provider.best_references, scenario, args["steady"])
    peak = _peak_mb()  # loaded and looked up; before the bulk arrays exist
    columns = rulegen.make_column_arrays(scenario, args["bulk"], seed=200)
    count = len(columns["INSTRUME"])
    provider.best_references_many({k: v[:100] for k, v in columns.items()},
                                  list(scenario.reftypes))  # warm (encoded dates)
    start = time.perf_counter()
    bulk = provider.best_references_many(columns, list(scenario.reftypes))
    bulk_s = time.perf_counter() - start
    check = [str(v) for v in bulk.values(scenario.reftypes[0])[:CHECKED]]
    return {"load_s": load, "first_s": first_s, "steady_us": steady,
            "bulk_rows": count, "bulk_lookups_per_s": count * len(scenario.reftypes) / bulk_s,
            "bulk_rows_per_s": count / bulk_s, "peak_mb": peak, "bulk_peak_mb": _peak_mb(),
            "first_value": str(first[scenario.reftypes[0]].value), "check": check}


def run_crds(scenario: rulegen.Scenario, cache: Path, args: dict[str, Any]) -> dict[str, Any]:
    """Run CRDS offline: load with get_cached_mapping, look up with getrecommendations."""
    os.environ.update(CRDS_PATH=str(cache), CRDS_MODE="local", CRDS_OBSERVATORY="tobs",
                      CRDS_SERVER_URL="https://tobs-serverless-mode.invalid")
    import crds
    from crds.core import rmap

    start = time.perf_counter()
    pmap = rmap.get_cached_mapping(scenario.context)
    imap = pmap.get_imap("tinstr")
    for reftype in scenario.reftypes:
        imap.get_rmap(reftype)
    load = time.perf_counter() - start

    def lookup(row: dict[str, str], reftypes: list[str]) -> dict[str, str]:
        return crds.getrecommendations(row, reftypes, context=scenario.context,
                                       observatory="tobs", fast=True)

    row = rulegen.make_parameters(scenario, 1, seed=7)[0]
    start = time.perf_counter()
    first = lookup(row, [scenario.reftypes[0]])
    first_s = time.perf_counter() - start
    steady = _steady(lookup, scenario, args["steady"])
    peak = _peak_mb()
    columns = rulegen.make_column_arrays(scenario, args["bulk_total"], seed=200)
    rows = [{k: str(v[i]) for k, v in columns.items()} for i in range(args["bulk"])]
    check = []
    start = time.perf_counter()
    for row in rows:  # CRDS has no bulk call: one getrecommendations per row, all types
        values = lookup(row, list(scenario.reftypes))
        check.append(values[scenario.reftypes[0]])
    bulk_s = time.perf_counter() - start
    return {"load_s": load, "first_s": first_s, "steady_us": steady,
            "bulk_rows": len(rows), "bulk_lookups_per_s": len(rows) * len(scenario.reftypes)
            / bulk_s, "bulk_rows_per_s": len(rows) / bulk_s, "peak_mb": peak,
            "bulk_peak_mb": _peak_mb(), "first_value": str(first[scenario.reftypes[0]]),
            "check": check[:CHECKED]}


def main() -> None:
    engine, name, cache = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    args = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    scenario = rulegen.SCENARIOS[name]
    if engine == "baseline-engine":
        import numpy  # noqa: F401

        import csst_crds_plugin  # noqa: F401
        result: dict[str, Any] = {"peak_mb": _peak_mb()}
    elif engine == "baseline-crds":
        import crds  # noqa: F401

        result = {"peak_mb": _peak_mb()}
    elif engine == "engine":
        result = run_engine(scenario, cache, args)
    else:
        result = run_crds(scenario, cache, args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
