"""Must-hold: 16 concurrent ``csst-crds deliver`` processes with 5 files each, 5 times over."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.cache import CacheLayout, read_manifest
from csst_crds_plugin.rules import parse_mapping
from csst_crds_plugin.tools.delivery import deliver

PROCESSES = 16
FILES_EACH = 5
CHIPS = ("06", "08", "13", "14", "01", "03")
FILTERS = {"06": "y", "08": "g", "13": "NUV", "14": "u", "01": "GI", "03": "GU"}
TYPES = ("bias", "dark", "flat")
START = datetime(2027, 1, 1)


def _latest(root: Path) -> str:
    path = root / "config" / "csst" / "contexts.json"
    return str(json.loads(path.read_text(encoding="utf-8"))["latest"])


def _parent(root: Path, pmap: str) -> str:
    text = (root / "mappings" / "csst" / pmap).read_text(encoding="utf-8")
    return str(parse_mapping(text, pmap).header_dict()["derived_from"])


def _exposure(chip: str, when: datetime) -> dict[str, str]:
    return {"INSTRUME": "MSC", "DETECTOR": chip, "FILTER": FILTERS[chip], "READMODE": "FAST",
            "DATE-OBS": when.strftime("%Y-%m-%d"), "TIME-OBS": when.strftime("%H:%M:%S")}


def _reader(root: Path, stop: threading.Event, seen: dict[str, str]) -> None:
    """Load whatever context is latest, again and again, while the deliveries run."""
    while not stop.wait(0.02):
        context = _latest(root)
        if context not in seen:
            try:
                provider = ReferenceProvider(cache=root, context=context)
                provider.best_references(_exposure("06", START), TYPES, errors="collect")
                seen[context] = "loaded"
            except Exception as exc:  # noqa: BLE001 (recorded and asserted on)
                seen[context] = f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("round_", range(1, 6))
def test_sixteen_parallel_deliveries(round_: int, rules_cache: Path, make_reference: Any,
                                     leftover_temps: Callable[[Path], list[Path]]) -> None:
    # one seed bias and dark per chip, in one delivery (a dependency is of the same chip)
    seed_files = {}
    for chip in CHIPS:
        bias = make_reference(f"seed_bias_{round_}_{chip}.fits", "bias", chip,
                              "2026-01-01T00:00:00")
        dark = make_reference(f"seed_dark_{round_}_{chip}.fits", "dark", chip,
                              "2026-01-01T00:00:00", R_BIAS=bias.name)
        seed_files[chip] = (bias, dark)
    seeds = deliver(rules_cache, [path for pair in seed_files.values() for path in pair])
    seed_bias = {chip: seeds.names[str(bias)] for chip, (bias, _) in seed_files.items()}
    seed_dark = {chip: seeds.names[str(dark)] for chip, (_, dark) in seed_files.items()}
    base = seeds.context
    batches: list[list[Path]] = []
    expected: dict[Path, tuple[str, str, datetime]] = {}
    for process in range(PROCESSES):
        batch = []
        for index in range(FILES_EACH):
            n = process * FILES_EACH + index
            reftype, chip, when = TYPES[n % 3], CHIPS[n % 6], START + timedelta(hours=n)
            dependencies = {"dark": {"R_BIAS": seed_bias[chip]},
                            "flat": {"R_BIAS": seed_bias[chip], "R_DARK": seed_dark[chip]}
                            }.get(reftype, {})
            path = make_reference(f"p{process:02d}_{index}.fits", reftype, chip,
                                  when.strftime("%Y-%m-%dT%H:%M:%S"), **dependencies)
            batch.append(path)
            expected[path] = (reftype, chip, when)
        batches.append(batch)

    stop, seen = threading.Event(), {}
    reader = threading.Thread(target=_reader, args=(rules_cache, stop, seen))
    reader.start()
    try:
        running = [subprocess.Popen(  # noqa: S603 (our own CLI, fixed arguments)
            [sys.executable, "-m", "csst_crds_plugin", "deliver", "--cache", str(rules_cache),
             "--format", "json", *map(str, batch)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for batch in batches]
        outputs = [process.communicate(timeout=300) for process in running]
    finally:
        stop.set()
        reader.join()
    failures = [err for process, (_out, err) in zip(running, outputs, strict=True)
                if process.returncode != 0]
    assert not failures, failures
    names: dict[str, str] = {}
    for out, _err in outputs:
        names.update(json.loads(out)["names"])
    assert len(set(names.values())) == PROCESSES * FILES_EACH

    # one linear history: every delivery derived from the one before, none lost
    chain = [_latest(rules_cache)]
    while chain[-1] != base:
        chain.append(_parent(rules_cache, chain[-1]))
    assert len(chain) == PROCESSES + 1
    pmaps = sorted(p.name for p in (rules_cache / "mappings" / "csst").glob("*.pmap"))
    assert len(pmaps) == PROCESSES + 2  # the first context, the seeds, sixteen deliveries
    for context in pmaps:  # every intermediate context loads and selects
        provider = ReferenceProvider(cache=rules_cache, context=context)
        provider.best_references(_exposure("06", START), TYPES, errors="collect")
    assert all(state == "loaded" for state in seen.values()), seen

    final = ReferenceProvider(cache=rules_cache, context=chain[0])
    for path, (reftype, chip, when) in expected.items():
        exposure = _exposure(chip, when + timedelta(minutes=30))
        assert final.best_references(exposure, [reftype])[reftype].value == names[str(path)]
    manifest = read_manifest(CacheLayout(rules_cache, "csst"))
    assert set(names.values()) <= set(manifest)
    assert leftover_temps(rules_cache) == []


def test_deliveries_from_threads_of_one_process(rules_cache: Path, make_reference: Any) -> None:
    """POSIX locks do not exclude threads of one process: the thread lock must."""
    files = [make_reference(f"t{n}.fits", "bias", CHIPS[n % 6],
                            (START + timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%S"))
             for n in range(6)]
    results: dict[int, Any] = {}

    def run(n: int) -> None:
        try:
            results[n] = deliver(rules_cache, [files[n]])
        except Exception as exc:  # noqa: BLE001 (asserted on below)
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    contexts = sorted(r.context for r in results.values())
    assert contexts == [f"csst_{i:04d}.pmap" for i in range(2, 8)]
    final = ReferenceProvider(cache=rules_cache, context="csst_0007.pmap")
    for n, path in enumerate(files):
        exposure = _exposure(CHIPS[n % 6], START + timedelta(hours=n))
        assert final.best_references(exposure, ["bias"])["bias"].value == \
            results[n].names[str(path)]


_HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.lockf(fd, fcntl.LOCK_EX)
os.pwrite(fd, b"pid %d (test holder)" % os.getpid(), 0)
print("locked", flush=True)
time.sleep(60)
"""


def test_a_held_lock_times_out_and_a_killed_holder_frees_it(
        rules_cache: Path, make_reference: Any, snapshot: Callable[[Path], dict[str, bytes]],
        leftover_temps: Callable[[Path], list[Path]]) -> None:
    from csst_crds_plugin.tools.delivery import LockTimeoutError

    lock = rules_cache / "config" / "csst" / ".rules.lock"
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(lock)],  # noqa: S603
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        path = make_reference("b.fits")
        before = snapshot(rules_cache)
        with pytest.raises(LockTimeoutError, match=r"\.rules\.lock: the rules lock is held by "
                                                   r"another delivery \(pid \d+ \(test holder"):
            deliver(rules_cache, [path], lock_timeout=0.3)
        assert snapshot(rules_cache) == before
        assert leftover_temps(rules_cache) == []
    finally:
        holder.kill()  # SIGKILL: the kernel releases its lock
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert deliver(rules_cache, [path], lock_timeout=5).context == "csst_0002.pmap"


def test_temporary_files_of_dead_writers_are_removed(rules_cache: Path,
                                                     make_reference: Any) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    dead.wait()
    folder = rules_cache / "references" / "csst" / "msc"
    folder.mkdir(parents=True)
    left = folder / f".tmp-{dead.pid}-{os.uname().nodename}-0000-csst_msc_bias.fits"
    left.write_bytes(b"half a file")
    deliver(rules_cache, [make_reference("b.fits")])
    assert not left.exists()
