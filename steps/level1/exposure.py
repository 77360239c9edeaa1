"""``csst-level1-exposure``: ``csst_level1`` over the chips of one exposure, N at a time.

An MSC exposure has 30 chips and a full-size chip needs about 1.3 GB at its peak (see
``benchmarks/bench_level1.py``), so memory, not cores, decides how many run at once.
`workers_for` turns a memory budget into a worker count; `run_exposure` runs each chip in its
own process (``strun csst_level1 CHIP --output_dir DIR``, exactly as on the command line) with
that many at a time, and returns the level-1 files in the order of the chips.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

__all__ = ["PER_CHIP_BYTES", "main", "parse_size", "run_chip", "run_exposure", "workers_for"]

PER_CHIP_BYTES = 1_400_000_000
"""Peak RSS of one full-size MSC chip (9232 x 9216) through ``csst_level1``, rounded up from
``benchmarks/bench_level1.py`` (see the README's table)."""

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``"8G"``, ``"1.5GB"``, ``"800M"`` or bytes → bytes (powers of 1000)."""
    found = _SIZE.match(text)
    if not found:
        raise ValueError(f"memory size {text!r}: give a number with an optional K, M, G or T, "
                         "e.g. 8G")
    return int(float(found[1]) * 1000 ** " kmgt".index(found[2].lower() or " "))


def workers_for(budget: int, per_chip: int = PER_CHIP_BYTES, cpus: int | None = None,
                chips: int | None = None) -> int:
    """How many chips to run at once: what the budget holds, at most one per core and chip.

    At least one: a budget below one chip still runs the chips, one at a time.
    """
    cpus = cpus or os.cpu_count() or 1
    fit = max(1, budget // max(per_chip, 1))
    return max(1, min(fit, cpus, chips or fit))


def run_chip(raw: str, output_dir: str, options: Sequence[str] = ()) -> str:
    """``strun csst_level1 RAW --output_dir DIR OPTIONS``; returns the level-1 file written."""
    from stpipe import Step  # noqa: PLC0415 (a worker imports stpipe itself)

    from steps.level1.level1_pipeline import Level1Pipeline  # noqa: PLC0415

    Path(output_dir).mkdir(parents=True, exist_ok=True)
    base, _ = Level1Pipeline.remove_suffix(Path(raw).name.split(".")[0])
    expected = Path(output_dir) / f"{base}_L1.fits"
    try:
        Step.from_cmdline(["csst_level1", raw, "--output_dir", output_dir, *options])
    except Exception as exc:  # the message crosses the process boundary as text
        raise RuntimeError(f"csst_level1 on {raw} failed: {type(exc).__name__}: {exc}") \
            from None
    if not expected.is_file():
        raise RuntimeError(f"csst_level1 on {raw} did not write {expected}")
    return str(expected)


def run_exposure(chips: Sequence[str | os.PathLike[str]], output_dir: str | os.PathLike[str],
                 workers: int = 1, options: Sequence[str] = ()) -> list[Path]:
    """Run ``csst_level1`` on every chip, `workers` processes at a time.

    Each chip runs in a fresh process (spawned, one chip per process), so a chip's memory is
    returned to the system when it ends. The first failure is raised after the running chips
    finish; chips not yet started are cancelled.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context,
                             max_tasks_per_child=1) as pool:
        futures = [pool.submit(run_chip, str(chip), str(output_dir), tuple(options))
                   for chip in chips]
        try:
            return [Path(future.result()) for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``csst-level1-exposure`` command."""
    parser = argparse.ArgumentParser(
        prog="csst-level1-exposure",
        description="Run strun csst_level1 on the chips of an exposure, N at a time; N comes "
                    "from --workers or from --memory-budget / --per-chip.",
        epilog="Options after -- go to every strun run, e.g. -- --steps.dark.override_dark=N/A")
    parser.add_argument("chips", nargs="+", help="level-0 chip files")
    parser.add_argument("--output-dir", "-o", required=True, help="folder of the outputs")
    parser.add_argument("--workers", "-j", type=int, help="chips at once")
    parser.add_argument("--memory-budget", type=parse_size, default=None,
                        help="memory for all workers, e.g. 8G (default: what is available)")
    parser.add_argument("--per-chip", type=parse_size, default=PER_CHIP_BYTES,
                        help=f"peak memory of one chip (default {PER_CHIP_BYTES / 1e9:.1f}G, "
                             "a full-size MSC chip)")
    args, options = _split(list(sys.argv[1:] if argv is None else argv))
    parsed = parser.parse_args(args)
    if parsed.workers is not None and parsed.workers < 1:
        parser.error("--workers must be at least 1")
    workers = parsed.workers or workers_for(parsed.memory_budget or available_memory(),
                                            parsed.per_chip, chips=len(parsed.chips))
    print(f"{len(parsed.chips)} chips, {workers} at a time", flush=True)
    for path in run_exposure(parsed.chips, parsed.output_dir, workers, options):
        print(path)
    return 0


def available_memory() -> int:
    """``MemAvailable`` of ``/proc/meminfo`` (bytes); 4 GB where it cannot be read."""
    try:
        with Path("/proc/meminfo").open(encoding="ascii") as stream:
            for line in stream:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4_000_000_000


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1:]
    return argv, []


if __name__ == "__main__":
    sys.exit(main())
