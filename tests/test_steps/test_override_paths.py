"""A wrong ``override_<reftype>`` path is found before the first step runs, naming the option."""

from __future__ import annotations

import logging
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from csst_crds_plugin import ConfigurationError
from steps import DarkStep, Level1Pipeline

pytestmark = pytest.mark.usefixtures("level1_settings")


def test_a_pipeline_checks_every_override_before_its_first_step(
        raw_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pipeline = Level1Pipeline()
    pipeline.flat.override_flat = str(tmp_path / "no_such_flat.fits")  # the last step's
    caplog.set_level(logging.INFO)
    with pytest.raises(ConfigurationError) as raised:
        pipeline.run(str(raw_path))
    message = str(raised.value)
    assert message.startswith("csst_flat (step 'flat' of Level1Pipeline): override_flat = ")
    assert "no_such_flat.fits" in message and "no such file" in message
    assert not [r for r in caplog.records if "running with args" in r.getMessage()]


def test_a_step_names_its_override_and_n_a_still_skips(
        make_exposure: Any, tmp_path: Path) -> None:
    folder = tmp_path / "a_folder"
    folder.mkdir()
    with pytest.raises(ConfigurationError, match=r"^csst_dark: override_dark = .*: not a file"):
        DarkStep.call(make_exposure(), override_dark=str(folder))
    result = DarkStep.call(make_exposure(), override_dark="N/A")
    assert result.meta.cal_step.csst_dark == "SKIPPED"


def test_strun_reports_the_missing_override_before_any_step(
        raw_path: Path, tmp_path: Path) -> None:
    strun = Path(sys.executable).with_name("strun")
    command = [str(strun), "csst_level1", str(raw_path), "--output_dir", str(tmp_path),
               f"--steps.dark.override_dark={tmp_path / 'missing_dark.fits'}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    text = done.stdout + done.stderr
    assert done.returncode != 0, shlex.join(command)
    assert "override_dark = " in text and "missing_dark.fits" in text
    assert "Step dq_init running" not in text and "FileNotFoundError" not in text
    assert list(tmp_path.glob("*.fits")) == []
