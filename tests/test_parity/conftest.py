"""Fixtures for the CRDS-parity tests: one demo run, copied per test that changes it."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest

from csst_crds_plugin.cli.main import main


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ``csst-crds demo`` run (a few seconds): its folder, left unchanged by the tests."""
    folder = tmp_path_factory.mktemp("parity-demo") / "run"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["demo", "--dir", str(folder)]) == 0
    return folder


@pytest.fixture
def demo(demo_run: Path, tmp_path: Path) -> Path:
    """A private copy of the demo run (cache, exposure, output) that a test may change."""
    copy = tmp_path / "demo"
    shutil.copytree(demo_run, copy, symlinks=True)
    return copy
