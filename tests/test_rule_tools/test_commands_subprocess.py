"""The real ``csst-crds`` process: diff's exit codes (0 same, 1 different, 2 error) and JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "csst_crds_plugin", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_diff_exit_codes_in_a_real_process(two_contexts: Path) -> None:
    cache = ["--cache", str(two_contexts)]
    different = _run("diff", *cache, "--format", "json", "csst_0001.pmap", "csst_0002.pmap")
    assert different.returncode == 1, different.stderr
    kinds = [d["type"] for d in json.loads(different.stdout)["differences"]]
    assert kinds == ["entry", "entry", "entry", "rule"]
    same = _run("diff", *cache, "csst_0001.pmap", "csst_0001.pmap")
    assert (same.returncode, same.stdout) == (0, "")
    error = _run("diff", *cache, "csst_0001.pmap", "csst_0404.pmap")
    assert error.returncode == 2
    assert error.stderr.strip().splitlines() == [
        "csst-crds diff: error: csst_0404.pmap: no such file, and no file of that name in the "
        f"cache {two_contexts} (observatory csst); give a path or a cached name, and --cache DIR"]
