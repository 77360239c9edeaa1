"""What checking references against the manifest costs a lookup: warm, and a 1 GB first lookup.

Run ``python benchmarks/bench_verify.py`` (``--size-mb N`` for another reference size; default
1024, which needs 1 GB free in the temporary folder). One temporary cache holds a context that
selects one reference of that size, recorded in the manifest. Printed side by side:

- warm ``get_reference_file``: with the SHA-256 check remembered per file state (what lookups
  do) against the size check alone (what lookups did before) and against no check at all;
- the first lookup of the large reference: hashed in full (a new process, no saved stamp), with
  the stamp saved in ``config/<obs>/verified.json`` by an earlier process (a stat and a small
  JSON read), and warm. The file is in the page cache (it was just written): a lookup from a
  cold disk adds the disk's read time for the one full hash.

Figures only: no test asserts timings.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.cache import CacheLayout, digest_file, read_manifest, update_manifest
from csst_crds_plugin.cache import manifest as manifest_module
from csst_crds_plugin.rules import set_sha1sum

NAME = "csst_msc_dark_0001.fits"
PARAMETERS = {"INSTRUME": "MSC", "DETECTOR": "06", "DATE-OBS": "2027-06-01",
              "TIME-OBS": "00:00:00"}


def _mapping(kind: str, name: str, parkey: str, selector: str, extra: str = "") -> str:
    return set_sha1sum(
        f"header = {{\n    'derived_from' : 'bench',\n    'mapping' : '{kind}',\n"
        f"    'name' : '{name}',\n    'observatory' : 'CSST',\n    'parkey' : {parkey},\n"
        f"    'sha1sum' : '0',\n{extra}}}\n\nselector = {selector}\n")


def build(root: Path, size_mb: int) -> Path:
    """Build a cache selecting one reference of `size_mb` MiB, recorded in the manifest."""
    mappings = root / "mappings" / "csst"
    mappings.mkdir(parents=True)
    texts = {
        "csst_0001.pmap": _mapping("PIPELINE", "csst_0001.pmap", "('INSTRUME',)",
                                   "{'MSC' : 'csst_msc_0001.imap'}"),
        "csst_msc_0001.imap": _mapping("INSTRUMENT", "csst_msc_0001.imap", "('REFTYPE',)",
                                       "{'dark' : 'csst_msc_dark_0001.rmap'}",
                                       "    'instrument' : 'MSC',\n"),
        "csst_msc_dark_0001.rmap": _mapping(
            "REFERENCE", "csst_msc_dark_0001.rmap", "(('DETECTOR',), ('DATE-OBS', 'TIME-OBS'))",
            f"Match({{'06' : UseAfter({{'2027-01-01 00:00:00' : '{NAME}'}})}})",
            "    'instrument' : 'MSC',\n    'filekind' : 'DARK',\n"),
    }
    for name, text in texts.items():
        (mappings / name).write_text(text, encoding="utf-8")
    config = root / "config" / "csst"
    config.mkdir(parents=True)
    (config / "server_config").write_text(
        "{'observatory': 'csst', 'operational_context': 'csst_0001.pmap'}\n", encoding="utf-8")
    folder = root / "references" / "csst" / "msc"
    folder.mkdir(parents=True)
    path = folder / NAME
    block = os.urandom(1 << 20)
    with path.open("wb") as stream:
        for index in range(size_mb):
            stream.write(block[index % 251:] + block[:index % 251])
    update_manifest(CacheLayout(root, "csst"), {NAME: digest_file(path)})
    return path


_BEFORE: dict[str, tuple[tuple[int, int, int], dict[str, int]]] = {}


def _size_only(layout: CacheLayout, name: str, path: Path) -> None:
    """Check as lookups did before.

    The manifest is re-read when it changes (an open and fstat per call), then the file's size
    is compared with its entry.
    """
    manifest = layout.config_dir / "manifest.json"
    with manifest.open("rb") as stream:
        status = os.fstat(stream.fileno())
        key = (status.st_ino, status.st_size, status.st_mtime_ns)
        found = _BEFORE.get(str(manifest))
        if found is None or found[0] != key:
            sizes = {n: d.size for n, d in read_manifest(layout).items()}
            found = _BEFORE[str(manifest)] = (key, sizes)
    size = found[1].get(name)
    if size is not None and path.stat().st_size != size:
        raise AssertionError("size differs")


def _warm(provider: ReferenceProvider, calls: int, checks: dict[str, object]) -> dict[str, float]:
    """Best µs per call of each check, measured in turns (the machine's load varies)."""
    import csst_crds_plugin.provider as provider_module

    best = dict.fromkeys(checks, float("inf"))
    original = provider_module.check_recorded_size
    try:
        for _ in range(7):
            for label, check in checks.items():
                provider_module.check_recorded_size = check  # type: ignore[assignment]
                start = time.perf_counter()
                for _ in range(calls):
                    provider.get_reference_file(PARAMETERS, "dark")
                best[label] = min(best[label], (time.perf_counter() - start) / calls * 1e6)
    finally:
        provider_module.check_recorded_size = original
    return best


def _first(root: Path) -> float:
    manifest_module._MEMO.clear()  # as in a new process
    start = time.perf_counter()
    ReferenceProvider(cache=root).get_reference_file(PARAMETERS, "dark")
    return time.perf_counter() - start


def main() -> int:
    """Run the manifest-check benchmark and print its figures; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="reference size (MiB)")
    parser.add_argument("--calls", type=int, default=20000, help="warm calls per batch")
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_verify_"))
    try:
        path = build(root, options.size_mb)
        time.sleep(2.5)  # older than the timestamp window, as a cache's references are
        stamps = root / "config" / "csst" / manifest_module.STAMPS_NAME
        hashed = _first(root)
        stamped = _first(root)
        stamps.unlink()
        provider = ReferenceProvider(cache=root)
        provider.get_reference_file(PARAMETERS, "dark")
        warm = _warm(provider, options.calls, {
            "now": manifest_module.check_recorded_size, "before": _size_only,
            "none": lambda *args: None})
        if provider.layout.locate_reference(NAME) != path:
            raise RuntimeError(f"the lookup did not select {path}; the timings would mislead")
        print(f"reference: {options.size_mb} MiB; warm: best of 7 turns of {options.calls} calls")
        print(f"{'warm get_reference_file':44} {'us/call':>9}")
        print(f"{'  SHA-256 remembered per file state (now)':44} {warm['now']:>9.2f}"
              f"   {100 * (warm['now'] / warm['before'] - 1):+.1f}% vs before")
        print(f"{'  size check only (before)':44} {warm['before']:>9.2f}")
        print(f"{'  no check':44} {warm['none']:>9.2f}")
        print(f"{'first lookup of the large reference':44} {'s':>9}")
        print(f"{'  hashed in full (no saved stamp)':44} {hashed:>9.3f}"
              f"   ({options.size_mb / 1024 / hashed:.2f} GiB/s)")
        print(f"{'  stamp saved by an earlier process':44} {stamped:>9.4f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
