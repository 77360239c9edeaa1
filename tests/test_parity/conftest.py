"""Fixtures for the CRDS-parity tests: one demo run, copied per test that changes it."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from csst_crds_plugin.cli.main import main
from csst_crds_plugin.results import terminal_files

CASES = 300
"""Cases of the corpus run through both (CRDS takes about 2 ms a call)."""



@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ``csst-crds demo`` run (a few seconds): its folder, left unchanged by the tests."""
    folder = tmp_path_factory.mktemp("parity-demo") / "run"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["demo", "--dir", str(folder)]) == 0
    return folder


@pytest.fixture
def demo(demo_run: Path, tmp_path: Path) -> Path:
    """Return a private copy of the demo run (cache, exposure, output) that a test may change."""
    copy = tmp_path / "demo"
    shutil.copytree(demo_run, copy, symlinks=True)
    return copy


SERVER_CONFIG = (
    "{'observatory': 'jwst', 'operational_context': 'jwst_0541.pmap', "
    "'edit_context': 'jwst_0541.pmap', 'connected': False, 'checked_time': 1, "
    "'last_synced': 'never', 'bad_files': '', 'bad_files_set': [], 'bad_files_list': [], "
    "'reference_url': {}, 'mapping_url': {}, 'crds_version': {}, 'force_remote_mode': False, "
    "'effective_mode': 'local'}\n"
)


@pytest.fixture
def jwst_cache(conformance_corpus: Path, tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """Build the jwst_0541 closure, a CRDS server_config, an empty file per selected reference."""
    suite = conformance_corpus / "jwst-0541"
    root = tmp_path / "crds"
    shutil.copytree(suite / "cache" / "mappings", root / "mappings")
    (root / "config" / "jwst").mkdir(parents=True)
    (root / "config" / "jwst" / "server_config").write_text(SERVER_CONFIG, encoding="utf-8")
    references = root / "references" / "jwst"
    references.mkdir(parents=True)
    with (suite / "cases.jsonl").open(encoding="utf-8") as stream:
        cases = [json.loads(line) for _, line in zip(range(CASES), stream, strict=False)]
    for case in cases:
        for value in case["expected"].values():
            if isinstance(value, dict) or value == "N/A":
                continue
            for name in terminal_files(tuple(value) if isinstance(value, list) else value):
                (references / name).write_bytes(b"")
    return root, cases




@pytest.fixture
def crds() -> Any:
    """Run Python with the CRDS library offline on a cache: ``crds(cache, *args)`` -> stdout."""
    return run_crds


def crds_environment(cache: Path) -> dict[str, str]:
    """Return the environment that runs the CRDS library offline on `cache` (JWST, no server)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRDS_", "CSST_CRDS_"))}
    env.update(CRDS_PATH=str(cache), CRDS_MODE="local", CRDS_OBSERVATORY="jwst",
               CRDS_SERVER_URL="https://jwst-serverless-mode.invalid")
    return env


def run_crds(cache: Path, *args: str, cwd: Path | None = None) -> str:
    """Run ``python ARGS`` with the CRDS library offline on `cache`; return standard output."""
    pytest.importorskip("crds")
    pytest.importorskip("stdatamodels")  # CRDS's JWST parameter vocabulary needs it
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          env=crds_environment(cache), timeout=600, check=False, cwd=cwd)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def crds_json(cache: Path, code: str) -> Any:
    """Run Python `code` with CRDS offline on `cache`; return the JSON of its last line."""
    return json.loads(run_crds(cache, "-c", code).strip().splitlines()[-1])
