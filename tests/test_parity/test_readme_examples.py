"""Every shell and Python example of the README runs as written, in order, after the demo."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
NOT_EXAMPLES = ("Quick start", "Benchmarks", "Layout", "For JWST, Roman and other stpipe missions")
"""Sections whose blocks are not examples to run on the demo: CI runs the quick start itself,
two are output and a tree, and the missions' examples need jwst or romancal data (their own
tests run those steps)."""


def _blocks() -> list[tuple[str, str, str]]:
    """(section, language, text) of every fenced block outside `NOT_EXAMPLES`."""
    found = []
    for part in re.split(r"^## ", README, flags=re.M)[1:]:
        title = part.splitlines()[0].strip()
        if title in NOT_EXAMPLES:
            continue
        for language, text in re.findall(r"^```(\w*)\n(.*?)^```", part, flags=re.S | re.M):
            found.append((title, language, text))
    return found


@pytest.fixture
def checkout(demo_run: Path, tmp_path: Path) -> Path:
    """Return a folder laid out as the README assumes: .venv/ and csst-crds-demo/ after the demo."""
    folder = tmp_path / "checkout"
    folder.mkdir()
    (folder / ".venv").symlink_to(Path(sys.prefix))
    shutil.copytree(demo_run, folder / "csst-crds-demo", symlinks=True)
    return folder


def _environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSST_CRDS_", "CRDS_"))}
    env["HOME"] = str(tmp_path)  # nothing reaches the user's ~/crds_cache
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if Path(p).resolve() != Path(sys.prefix, "bin").resolve())
    return env


def test_the_readme_has_examples_of_both_kinds() -> None:
    languages = [language for _, language, _ in _blocks()]
    assert languages.count("python") >= 2 and languages.count("") >= 4


def test_python_examples_run(checkout: Path, tmp_path: Path) -> None:
    env = _environment(tmp_path)
    env["CSST_CRDS_PATH"] = str(checkout / "csst-crds-demo" / "cache")
    for section, language, text in _blocks():
        if language != "python":
            continue
        done = subprocess.run([sys.executable, "-c", text], cwd=checkout / "csst-crds-demo",
                              capture_output=True, text=True, env=env, timeout=300,
                              check=False)
        assert done.returncode == 0, f"{section}:\n{text}\n{done.stderr[-3000:]}"


@pytest.mark.slow
def test_shell_examples_run_in_order(checkout: Path, tmp_path: Path) -> None:
    script = "\n".join(text for _, language, text in _blocks() if language == "")
    assert "csst-crds" in script and "strun" in script
    done = subprocess.run(["bash", "-euo", "pipefail", "-x", "-c", script], cwd=checkout,
                          capture_output=True, text=True, env=_environment(tmp_path),
                          timeout=900, check=False)
    trace = [line for line in done.stderr.splitlines() if line.startswith("+")]
    assert done.returncode == 0, "failed at: " + (trace[-1] if trace else "?") + "\n" + \
        done.stderr[-4000:]
    demo = checkout / "csst-crds-demo"
    assert sorted(p.name for p in (demo / "out").glob("*_L1.fits"))  # strun wrote outputs
    assert (demo / "lock.json").is_file() and (demo / "affected.json").is_file()
