"""``csst-level1-exposure``: the chips of one exposure, N worker processes at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from stpipe import Step

import datamodels
from steps.level1.exposure import main, parse_size, run_exposure, workers_for


def test_the_memory_budget_decides_the_workers() -> None:
    chip = parse_size("1.4G")
    assert workers_for(parse_size("24G"), chip, cpus=2) == 2  # cores limit
    assert workers_for(parse_size("3G"), chip, cpus=8) == 2  # memory limits: 3 // 1.4
    assert workers_for(parse_size("1G"), chip, cpus=8) == 1  # below one chip: one at a time
    assert workers_for(parse_size("100G"), chip, cpus=64, chips=30) == 30  # no idle workers


def test_sizes_read_as_people_write_them() -> None:
    assert parse_size("8G") == 8_000_000_000
    assert parse_size("1.5GB") == 1_500_000_000
    assert parse_size("800M") == 800_000_000
    assert parse_size("4096") == 4096
    with pytest.raises(ValueError, match="e.g. 8G"):
        parse_size("lots")


def chips(folder: Path, make_exposure: Any, count: int) -> list[Path]:
    """`count` level-0 chips of one exposure: the same detector, different signal."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        raw = make_exposure()
        raw.data = raw.data // np.uint16(number + 1)
        paths.append(Path(raw.save(folder / f"exposure_{number:02d}_L0.fits")))
    return paths


@pytest.mark.slow
def test_two_workers_give_what_one_strun_each_gives(level1_settings: Path, tmp_path: Path,
                                                    make_exposure: Any) -> None:
    raws = chips(tmp_path / "raw", make_exposure, 3)
    outputs = run_exposure(raws, tmp_path / "out", workers=2)
    assert [p.name for p in outputs] == [f"exposure_{n:02d}_L1.fits" for n in range(3)]
    for raw, output in zip(raws, outputs, strict=True):
        alone = tmp_path / "alone"
        Step.from_cmdline(["csst_level1", str(raw), "--output_dir", str(alone)])
        with datamodels.open(output) as got, datamodels.open(alone / output.name) as want:
            for name in ("data", "err", "dq"):
                np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
            assert got.meta.ref_file.crds.context_used == "csst_0002.pmap"
    with datamodels.open(outputs[0]) as first, datamodels.open(outputs[2]) as third:
        assert not np.array_equal(first.data, third.data)  # each chip is its own


@pytest.mark.slow
def test_the_command_runs_the_chips_and_passes_strun_options(
        level1_settings: Path, tmp_path: Path, make_exposure: Any,
        capsys: pytest.CaptureFixture[str]) -> None:
    raws = chips(tmp_path / "raw", make_exposure, 2)
    status = main([*map(str, raws), "--output-dir", str(tmp_path / "out"),
                   "--memory-budget", "1G", "--per-chip", "2G", "--",
                   "--steps.dark.override_dark=N/A"])
    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "2 chips, 1 at a time"
    assert [Path(line).name for line in lines[1:]] == ["exposure_00_L1.fits",
                                                        "exposure_01_L1.fits"]
    with datamodels.open(lines[1]) as output:
        assert output.meta.cal_step.statuses()["csst_dark"] == "SKIPPED"


@pytest.mark.slow
def test_a_failing_chip_fails_the_exposure_and_names_the_chip(
        level1_settings: Path, tmp_path: Path, make_exposure: Any) -> None:
    good = chips(tmp_path / "raw", make_exposure, 1)[0]
    bad = tmp_path / "raw" / "exposure_99_L0.fits"
    bad.write_bytes(b"not a FITS file" * 200)
    with pytest.raises(RuntimeError, match=r"csst_level1 on .*exposure_99_L0\.fits failed"):
        run_exposure([good, bad], tmp_path / "out", workers=2)
