"""Selection speed of this engine and of the CRDS library on the same synthetic rules.

Run ``python benchmarks/bench_selection.py`` (about 1-3 minutes on 2 cores; ``--quick`` for a
smaller run). It writes four TOBS rule sets into a temporary CRDS-layout cache (see
``rulegen.py``), then measures each engine in fresh child processes (``_selection_child.py``):

- load: pmap, imap and every rmap, from the files (this engine: parse + build, cold);
- first lookup after loading; steady: one ``best_references(params, [reftype])`` call
  (CRDS: ``crds.getrecommendations(params, [reftype], context, fast=True)``, the local
  lookup CRDS's getreferences runs), best of three batches of distinct parameter sets;
- bulk: this engine's ``best_references_many`` over numpy columns, every type per row;
  CRDS has no bulk call, so it is a loop of ``getrecommendations`` over every type;
- peak memory: ``ru_maxrss`` of the child after loading and the single lookups (before the
  bulk step, whose parameter arrays would dominate), with each engine's import-only baseline.

CRDS on the 1 M-entry rmap runs once, with a time limit; a timeout is reported as such.
Speed is only reported here: no test asserts timings.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import rulegen

HERE = Path(__file__).resolve().parent
CHILD = HERE / "_selection_child.py"
TARGETS = (
    ("m200x25", "steady_us", 30.0, "steady lookup >= 30x faster than CRDS on 200 x 25"),
    ("m200x5000", "load_s", 20.0, "load >= 20x faster than CRDS on the 1 M-entry rmap"),
)
BULK_TARGET = 500_000.0


def _child(engine: str, name: str, cache: Path, args: dict[str, Any],
           timeout: float) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    command = [sys.executable, str(CHILD), engine, name, str(cache), json.dumps(args)]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env=env, check=False)
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - start
    return result


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "us":
        return f"{value:.1f} us"
    if unit == "/s":
        return f"{value / 1e6:.2f} M/s" if value >= 1e6 else f"{value / 1e3:.1f} k/s"
    return f"{value:.0f} MB"


def _cell(result: dict[str, Any], key: str, unit: str) -> str:
    if "timeout" in result:
        return f"timeout >{result['timeout']:.0f}s"
    if "error" in result:
        return "error"
    return _fmt(result.get(key), unit)


def _ratio(engine: dict[str, Any], crds: dict[str, Any], key: str, higher_better: bool) -> str:
    mine, theirs = engine.get(key), crds.get(key)
    if "timeout" in crds and not higher_better and mine:
        return f">{crds['timeout'] / mine:.0f}x"
    if not mine or not theirs:
        return "-"
    return f"{(mine / theirs if higher_better else theirs / mine):.1f}x"


def main() -> int:
    """Run the selection benchmark and print its tables; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller samples, no 1 M rmap")
    parser.add_argument("--crds-timeout", type=float, default=300.0,
                        help="time limit for CRDS on the 1 M-entry rmap (seconds)")
    parser.add_argument("--keep", type=Path, help="write the rules here and keep them")
    options = parser.parse_args()
    began = time.perf_counter()
    root = options.keep or Path(tempfile.mkdtemp(prefix="bench_selection_"))
    names = ["m200x25", "m1x5000", "csst"] + ([] if options.quick else ["m200x5000"])
    try:
        results: dict[str, dict[str, dict[str, Any]]] = {}
        baseline = {e: _child(f"baseline-{e}", "m200x25", root, {}, 120)
                    for e in ("engine", "crds")}
        for name in names:
            scenario = rulegen.SCENARIOS[name]
            cache = root / name
            start = time.perf_counter()
            if not (cache / "mappings" / "tobs" / scenario.context).exists():
                rulegen.write_scenario(cache, scenario)
            print(f"# {scenario.label}: {scenario.entries:,} UseAfter entries, rules written "
                  f"in {time.perf_counter() - start:.1f} s", flush=True)
            big = scenario.entries >= 1_000_000
            bulk = 1_000_000 if name == "csst" else 200_000
            engine_args = {"steady": 2000 if options.quick else 20000,
                           "bulk": bulk // (10 if options.quick else 1)}
            crds_args = {"steady": 200 if big or options.quick else 2000,
                         "bulk": 200 if big or options.quick else 1000,
                         "bulk_total": engine_args["bulk"]}
            results[name] = {
                "engine": _child("engine", name, cache, engine_args, 600),
                "crds": _child("crds", name, cache, crds_args,
                               options.crds_timeout if big else 600),
            }
            for engine in ("engine", "crds"):
                found = results[name][engine]
                print(f"#   {engine}: " + ", ".join(
                    f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in found.items() if k != "check"), flush=True)
            mine, theirs = (results[name][e].get("check") for e in ("engine", "crds"))
            if mine and theirs:
                agree = sum(a == b for a, b in zip(mine, theirs, strict=False))
                first = results[name]["engine"]["first_value"] == \
                    results[name]["crds"]["first_value"]
                print(f"#   same selection: first lookup {first}, bulk rows {agree}/{len(theirs)}",
                      flush=True)
        _table(names, results, baseline)
    finally:
        if options.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\nBenchmark run time: {time.perf_counter() - began:.0f} s")
    return 0


def _table(names: list[str], results: dict[str, dict[str, dict[str, Any]]],
           baseline: dict[str, dict[str, Any]]) -> None:
    metrics = (
        ("load (cold)", "load_s", "s", False),
        ("first lookup", "first_s", "s", False),
        ("steady lookup", "steady_us", "us", False),
        ("bulk lookups", "bulk_lookups_per_s", "/s", True),
        ("peak RSS", "peak_mb", "MB", False),  # after load + single lookups
    )
    print("\nSelection benchmark: this engine vs the CRDS library "
          f"{_crds_version()} on the same rule files")
    print("(CRDS path: rmap.get_cached_mapping + getrecommendations(fast=True); bulk = "
          "best_references_many vs a getrecommendations loop; ratio = how many times "
          "better this engine is)")
    header = f"{'rules':36} {'metric':14} {'engine':>14} {'CRDS':>16} {'ratio':>8}"
    print(header)
    print("-" * len(header))
    for name in names:
        label = rulegen.SCENARIOS[name].label
        engine, crds = results[name]["engine"], results[name]["crds"]
        for title, key, unit, higher in metrics:
            print(f"{label:36} {title:14} {_cell(engine, key, unit):>14} "
                  f"{_cell(crds, key, unit):>16} {_ratio(engine, crds, key, higher):>8}")
            label = ""
    print(f"{'(import only)':36} {'baseline RSS':14} "
          f"{_cell(baseline['engine'], 'peak_mb', 'MB'):>14} "
          f"{_cell(baseline['crds'], 'peak_mb', 'MB'):>16}")
    print("\nTargets:")
    for name, key, wanted, text in TARGETS:
        if name not in results:
            print(f"  [skipped] {text}")
            continue
        engine, crds = results[name]["engine"], results[name]["crds"]
        mine = engine.get(key)
        theirs = crds.get(key) or crds.get("timeout")
        ratio = theirs / mine if mine and theirs else 0.0
        verdict = "met" if ratio >= wanted else "NOT met"
        bound = ">" if "timeout" in crds else ""
        print(f"  [{verdict}] {text}: {bound}{ratio:.1f}x")
    bulk = results.get("csst", {}).get("engine", {}).get("bulk_lookups_per_s", 0.0)
    rows = results.get("csst", {}).get("engine", {}).get("bulk_rows_per_s", 0.0)
    verdict = "met" if bulk >= BULK_TARGET else "NOT met"
    print(f"  [{verdict}] bulk >= 500,000 lookups/s on the CSST-shaped context: "
          f"{bulk:,.0f} lookups/s ({rows:,.0f} rows/s x 3 types)")


def _crds_version() -> str:
    try:
        from importlib.metadata import version

        return version("crds")
    except Exception:  # noqa: BLE001 (only a label)
        return "?"


if __name__ == "__main__":
    sys.exit(main())
