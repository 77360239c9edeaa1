"""Level 1 of a full-size MSC chip: ``strun csst_level1`` against a plain numpy script.

Run ``python benchmarks/bench_level1.py FOLDER`` (a few minutes; about 10 GB of disk in FOLDER
and up to 5 GB of memory). The first run builds, in FOLDER, a cache through the demo's own
delivery code (``steps.demo``: certify, unique names, rules, contexts) for one chip (06) at
the full MSC size, 9232 x 9216, and level-0 exposures of it; later runs reuse them. It then
runs, each as its own process and in the same run:

- ``strun csst_level1 RAW --output_dir DIR`` (stpipe's ``Step.from_cmdline``), and
- ``benchmarks/plain_level1.py RAW OUT``: the same references (via `ReferenceProvider`) and the
  same arithmetic written with in-place float32 numpy on whole frames and astropy,

checks that their SCI, ERR and DQ are equal bit for bit, and prints each one's wall time and
peak RSS (``wait4``'s ``ru_maxrss``) and the ratios. Last, ``csst-level1-exposure`` runs
``--chips N`` level-0 files (copies of chip 06 with other OBSIDs, so that the cache holds one
chip's references) with as many workers as ``--memory-budget`` holds at the measured peak, and
prints the wall time and the peak of the summed RSS of all its processes.

stpipe's ``strun`` imports every package that registers steps before it runs one, so with
romancal and jwst installed (the test extra) each run starts seconds later. ``--python
ENV/bin/python`` measures both runs in another environment, e.g. one with only this package
(``python -m venv ENV && ENV/bin/pip install -e .``), as a CSST installation has.

Figures only: no test asserts them. ``--shape 1024 1024`` makes a quick trial run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from astropy.io import fits

HERE = Path(__file__).resolve().parent
FULL = (9232, 9216)
CHIP = "06"


def build(root: Path, shape: tuple[int, int], chips: int) -> list[Path]:
    """Build the cache (once per shape) and `chips` level-0 files of chip 06."""
    from steps.demo.references import CHIPS, DAYS
    from steps.demo.run import build_cache, simulate_exposure

    stamp = root / "bench_level1.json"
    wanted = {"shape": list(shape)}
    if not stamp.exists() or json.loads(stamp.read_text("utf-8")) != wanted:
        if root.exists():
            for part in ("cache", "submissions", "exposure", "out"):
                shutil.rmtree(root / part, ignore_errors=True)
        root.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        log = io.StringIO()
        build_cache(root, log, days=DAYS[:2], chips={CHIP: CHIPS[CHIP]}, shape=shape)
        shutil.rmtree(root / "submissions", ignore_errors=True)
        print(f"built the cache in {time.perf_counter() - began:.0f} s "
              f"({_size(root / 'cache') / 1e9:.1f} GB)", flush=True)
        stamp.write_text(json.dumps(wanted), "utf-8")
    raws = []
    for number in range(1, chips + 1):
        obsid = f"101003{number:05d}"
        path = root / "exposure" / f"CSST_MSC_MS_SCIE_20270102100000_{obsid}_{CHIP}_L0.fits"
        raws.append(path if path.exists() else
                    simulate_exposure(root / "exposure", CHIP, shape, obsid))
    return raws


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def measure(command: list[str], env: dict[str, str], log: Path) -> tuple[float, int, float]:
    """Wall time (s), peak RSS (bytes) and CPU time (user + system, s) of one child process.

    Its output goes to `log`.
    """
    began = time.perf_counter()
    with log.open("ab") as stream:
        child = subprocess.Popen(command, env=env, stdout=stream, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{command[0]} failed ({child.returncode}), see {log}")
    return wall, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime


def step_packages(python: str) -> list[str]:
    """Return the packages registering stpipe steps in that environment (strun loads them all)."""
    script = ("import importlib.metadata as m; print(' '.join(sorted({e.dist.name for e in "
              "m.entry_points(group='stpipe.steps')})))")
    return subprocess.run([python, "-c", script], capture_output=True, text=True,
                          check=True).stdout.split()


def tree_rss(root: int) -> int:
    """Return the summed RSS (bytes) of process `root` and all its descendants, from /proc."""
    parents, rss = {}, {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(stat[1])
            rss[int(entry.name)] = int((entry / "statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def measure_tree(command: list[str], env: dict[str, str], out: Path) -> tuple[float, int]:
    """Wall time and the peak of the summed RSS of a process tree (sampled every 0.2 s)."""
    began = time.perf_counter()
    with (out / "exposure.log").open("ab") as stream:
        child = subprocess.Popen(command, env=env, stdout=stream, stderr=subprocess.STDOUT)
    peak = [0]

    def sample() -> None:
        while child.poll() is None:
            peak[0] = max(peak[0], tree_rss(child.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = child.wait()
    sampler.join()
    if code:
        raise SystemExit(f"csst-level1-exposure failed ({code}), see {out / 'exposure.log'}")
    return time.perf_counter() - began, peak[0]


def same_arrays(first: Path, second: Path) -> list[str]:
    """Return the extensions (SCI, ERR, DQ) whose values differ, compared bit for bit by blocks."""
    differ = []
    with fits.open(first) as a, fits.open(second) as b:
        for name in ("SCI", "ERR", "DQ"):
            x, y = a[name].section, b[name].section
            rows = a[name].shape[0]
            for start in range(0, rows, 512):
                block_x, block_y = x[start:start + 512], y[start:start + 512]
                if not np.array_equal(block_x, block_y, equal_nan=block_x.dtype.kind == "f"):
                    differ.append(name)
                    break
    return differ


def main() -> int:
    """Build once, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="where to build (and reuse) cache and files")
    parser.add_argument("--shape", type=int, nargs=2, default=FULL, metavar=("ROWS", "COLS"))
    parser.add_argument("--chips", type=int, default=2, help="chips run in parallel (0: none)")
    parser.add_argument("--memory-budget", type=float, default=None, metavar="GB",
                        help="memory for the parallel run (default: 80%% of what is available)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each (best is shown)")
    parser.add_argument("--python", type=Path, default=Path(sys.executable),
                        help="the interpreter of an environment to measure in (both runs use "
                             "it, strun and csst-level1-exposure beside it); default: this one")
    args = parser.parse_args()
    root = args.folder.resolve()
    raws = build(root, tuple(args.shape), max(args.chips, 1))
    env = {**os.environ, "CSST_CRDS_PATH": str(root / "cache")}
    env.pop("CSST_CRDS_CONTEXT", None)
    env.pop("CRDS_CONTEXT", None)
    for path in [*(root / "cache" / "references").rglob("*.fits"), raws[0]]:
        with path.open("rb") as stream:  # the page cache holds them for both alike
            while stream.read(1 << 24):
                pass
    out = root / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    python = str(args.python)
    strun = str(args.python.with_name("strun"))
    print(f"environment: {args.python.parent.parent} ({len(step_packages(python))} packages "
          f"with stpipe steps: {', '.join(step_packages(python))})", flush=True)
    runs: dict[str, list[tuple[float, int, float]]] = {"pipeline": [], "plain": []}
    for _ in range(args.repeat):
        os.sync()  # neither run inherits the other's unwritten output
        runs["plain"].append(measure([python, str(HERE / "plain_level1.py"),
                                      str(raws[0]), str(out / "plain_L1.fits")], env,
                                     out / "plain.log"))
        os.sync()
        runs["pipeline"].append(measure([strun, "csst_level1", str(raws[0]), "--output_dir",
                                         str(out / "pipeline")], env, out / "strun.log"))
    written = next((out / "pipeline").glob("*_L1.fits"))
    differ = same_arrays(written, out / "plain_L1.fits")
    print(f"\nlevel 1 of one {args.shape[0]} x {args.shape[1]} chip, best of {args.repeat}, "
          f"{os.cpu_count()} cores; outputs {'DIFFER in ' + str(differ) if differ else 'equal'}")
    best = {name: [min(run[i] for run in r) for i in range(3)] for name, r in runs.items()}
    pipe, plain = best["pipeline"], best["plain"]
    print("| | wall | peak RSS | CPU (user + sys) |\n|---|---|---|---|")
    print(f"| `strun csst_level1` | {pipe[0]:.1f} s | {pipe[1] / 1e9:.2f} GB | {pipe[2]:.1f} s |")
    print(f"| plain numpy script | {plain[0]:.1f} s | {plain[1] / 1e9:.2f} GB | "
          f"{plain[2]:.1f} s |")
    print(f"| ratio | {pipe[0] / plain[0]:.2f}x | {pipe[1] / plain[1]:.2f}x | "
          f"{pipe[2] / plain[2]:.2f}x |")
    for name, label in (("pipeline", "strun csst_level1"), ("plain", "plain script")):
        print(f"every run of {label} (wall / RSS / CPU): " + ", ".join(
            f"{w:.1f} s / {m / 1e9:.2f} GB / {c:.1f} s" for w, m, c in runs[name]))
    if args.chips:
        parallel(args, raws, env, out, (pipe[0], int(pipe[1])))
    return 1 if differ else 0


def parallel(args: argparse.Namespace, raws: list[Path], env: dict[str, str], out: Path,
             single: tuple[float, int]) -> None:
    """``csst-level1-exposure`` on the chips with the workers the budget holds."""
    from steps.level1.exposure import available_memory, workers_for

    budget = int(args.memory_budget * 1e9) if args.memory_budget else \
        int(0.8 * available_memory())
    workers = workers_for(budget, single[1], chips=len(raws))
    command = [str(args.python.with_name("csst-level1-exposure")), *map(str, raws),
               "--output-dir", str(out / "exposure"), "--workers", str(workers)]
    os.sync()
    wall, peak = measure_tree(command, env, out)
    print(f"\n{len(raws)} chips with csst-level1-exposure: budget {budget / 1e9:.1f} GB / "
          f"{single[1] / 1e9:.2f} GB a chip -> {workers} workers; wall {wall:.1f} s "
          f"({wall / len(raws):.1f} s a chip, one chip alone {single[0]:.1f} s); "
          f"peak RSS of all processes {peak / 1e9:.2f} GB")


if __name__ == "__main__":
    sys.exit(main())
