"""Start-up of ``csst-crds``: the top-level ``--help``, one command's ``--help``, a short run.

Run ``python benchmarks/bench_cli_startup.py`` (``--runs N`` for another best-of count,
default 15). Each figure is the best wall time of N fresh interpreters (``python -m
csst_crds_plugin ...``), so the operating system's file cache is warm and the figure is what a
scripted call pays. Printed beside it: the way the command line used to start, scanning
``csst_crds_plugin/cli/`` and importing every command module (what ``csst-crds --help`` did),
timed by a child that does exactly that import; and with ``--old-source DIR`` a column for an
older source tree of the package (``git archive <commit> csst_crds_plugin | tar -x -C DIR``,
run with ``PYTHONPATH=DIR``).

Figures only: no test asserts timings.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

__all__ = ["main"]

# the old start-up: every module of the cli package imported (the scan), then the parser built
_SCAN_ALL = (
    "import importlib, pkgutil, csst_crds_plugin.cli as c; "
    "[importlib.import_module('csst_crds_plugin.cli.' + m.name) "
    " for m in pkgutil.iter_modules(c.__path__) if m.name not in ('main', 'strun')]; "
    "import csst_crds_plugin.cli.main"
)


def _best(argv: list[str], runs: int, cwd: str, source: str | None = None) -> float:
    """The best wall time, in ms, of `runs` fresh processes running `argv` (from `source`).

    The children run in `cwd` (an empty folder): ``python -m`` puts the working folder first
    on ``sys.path``, which would shadow `source` when run from a checkout.
    """
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (source, env.get("PYTHONPATH"))))
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                       env=env, cwd=cwd)
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="best of this many (default 15)")
    parser.add_argument("--old-source", metavar="DIR",
                        help="also time the package found in DIR (an older source tree)")
    options = parser.parse_args()
    runs, old = options.runs, options.old_source
    python = [sys.executable, "-m", "csst_crds_plugin"]
    with tempfile.TemporaryDirectory() as empty:
        rows = [
            ("python alone (floor)", [sys.executable, "-c", "pass"]),
            ("csst-crds --help", [*python, "--help"]),
            ("csst-crds list --help", [*python, "list", "--help"]),
            ("csst-crds deliver --help", [*python, "deliver", "--help"]),
            ("csst-crds affected --help", [*python, "affected", "--help"]),
            ("csst-crds list --contexts (empty cache)",
             [*python, "list", "--contexts", "--cache", empty]),
            ("old: import every command module", [sys.executable, "-c", _SCAN_ALL]),
        ]
        print(f"best of {runs} fresh processes, wall time in ms")
        print(f"  {'':<42} {'this tree':>10}" + (f" {'old tree':>10}" if old else ""))
        for label, argv in rows:
            line = f"  {label:<42} {_best(argv, runs, empty):10.1f}"
            if old:
                line += f" {_best(argv, runs, empty, old):10.1f}"
            print(line)


if __name__ == "__main__":
    main()
