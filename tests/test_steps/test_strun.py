"""Real ``strun`` runs in subprocesses, with every CRDS selection or fetch function trapped.

Each run's environment puts a ``sitecustomize.py`` first on PYTHONPATH that makes the CRDS
library's selection and fetch functions (and stpipe's wrappers) raise and log their name, so
a run that reached CRDS fails, and its trap log says so. The runs go two at a time.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits
from stpipe._config import StepConfig

import datamodels
from steps.dqflags import DO_NOT_USE, NO_FLAT_FIELD, SATURATED

OVERRIDE_DARK, PARAM_FILE_DARK = 0.05, 0.04  # e-/s, unlike the cache's 0.02 and 0.01


@dataclass
class Run:
    """One finished strun run."""

    done: subprocess.CompletedProcess[str]
    out: Path
    trap_log: Path
    cwd: Path

    def output(self) -> Path:
        found = sorted(self.out.glob("*.fits"))
        assert self.done.returncode == 0, self.done.stderr[-3000:]
        assert len(found) == 1, found
        return found[0]

    def header(self) -> fits.Header:
        return fits.getheader(self.output(), 0)

    def sci(self, extname: str = "SCI") -> np.ndarray:
        return fits.getdata(self.output(), extname)


def dark_file(path: Path, value: float, shape: tuple[int, int]) -> Path:
    """Write a dark reference of a constant `value` (e-/s)."""
    datamodels.DarkRefModel({
        "reftype": "DARK", "instrument": {"name": "MSC", "detector": "06"},
        "useafter": "2027-01-01T00:00:00", "pedigree": "GROUND", "description": "user dark",
        "author": "tests", "ref_file": {"bias": {"name": "csst_msc_bias_0001.fits"}},
    }, data=np.full(shape, value, np.float32)).save(path)
    return path


@pytest.fixture(scope="module")
def runs(level1_cache: Path, raw_path: Path, trap_dir: Path, numbers: Any,
         tmp_path_factory: pytest.TempPathFactory,
         strun_command: tuple[str, Callable[..., dict[str, str]]]) -> dict[str, Run]:
    """Run every scenario once (two at a time) and keep the results."""
    strun, environment = strun_command
    work = tmp_path_factory.mktemp("strun")
    dark_file(work / "mydark.fits", OVERRIDE_DARK, numbers.SHAPE)
    params = work / "params"
    (params / "refs").mkdir(parents=True)
    dark_file(params / "refs/alt_dark.fits", PARAM_FILE_DARK, numbers.SHAPE)
    StepConfig("steps.level1.level1_pipeline.Level1Pipeline", "Level1Pipeline", {}, [
        StepConfig("steps.dark.dark_step.DarkStep", "dark",
                   {"override_dark": "refs/alt_dark.fits"}, []),
    ]).to_asdf().write_to(params / "level1.asdf")
    raw = str(raw_path)
    scenarios: dict[str, tuple[list[str], dict[str, str]]] = {
        "level1": (["csst_level1", raw], {}),
        "override": (["csst_level1", raw, "--steps.dark.override_dark=mydark.fits"], {}),
        "na_override": (["csst_level1", raw, "--steps.flat.override_flat=N/A"], {}),
        "pinned": (["csst_level1", raw], {"CSST_CRDS_CONTEXT": "csst_0001.pmap"}),
        "param_file": ([str(params / "level1.asdf"), raw], {}),
        "dark_step": (["csst_dark", raw, f"--override_dark={work / 'mydark.fits'}"], {}),
    }

    def run(name: str) -> Run:
        args, extra = scenarios[name]
        out, log = work / name, work / f"{name}.trap.log"
        env = environment(level1_cache, trap_dir, log, **extra)
        done = subprocess.run([strun, *args, "--output_dir", str(out)], cwd=work, env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        return Run(done, out, log, work)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(scenarios, pool.map(run, scenarios), strict=True))


@pytest.fixture
def expected(raw_path: Path, bestrefs: Callable[..., dict[str, Any]]
             ) -> Callable[[str], dict[str, Any]]:
    """``expected(context)``: bestrefs for the exposure's parameters under `context`."""
    with datamodels.open(raw_path) as model:
        parameters = model.get_crds_parameters()
    return lambda context: bestrefs(parameters, context)


#: The CSST keyword of each type (CSST.md §2.2: R_SATURA for saturation, else the name).
KEYWORDS = {"mask": "MASK", "saturation": "SATURA", "bias": "BIAS", "gain": "GAIN",
            "dark": "DARK", "flat": "FLAT"}


def references(header: fits.Header) -> dict[str, tuple[str, str]]:
    """``{reftype: (R_ value, S_ value)}``; fails on an R_ keyword of no known type."""
    types = {f"R_{abbr}": reftype for reftype, abbr in KEYWORDS.items()}
    found = {}
    for keyword in header:
        if keyword.startswith("R_"):
            found[types[keyword]] = (header[keyword], header[f"S_{keyword[2:]}"])
    return found


def assert_clean(run: Run) -> None:
    """Check that the run succeeded and never reached the CRDS library."""
    assert run.done.returncode == 0, run.done.stderr[-3000:]
    assert not run.trap_log.exists(), run.trap_log.read_text(encoding="utf-8")


def calibrated(numbers: Any, dark: float, flat: float | None) -> float:
    """One normal pixel through bias, gain, dark (× EXPTIME) and flat, worked by hand."""
    electrons = (numbers.RAW - numbers.BIAS) * numbers.GAIN - dark * numbers.EXPTIME
    return electrons if flat is None else electrons / flat


def test_the_trap_catches_crds_calls(trap_dir: Path, level1_cache: Path, tmp_path: Path,
                                     strun_command: tuple[str, Any]) -> None:
    log = tmp_path / "trap.log"
    code = ("import crds, stpipe.crds_client as c\n"
            "for call in (lambda: crds.getreferences({}, observatory='jwst'),\n"
            "             lambda: c.get_reference_file({}, 'dark', 'csst')):\n"
            "    try:\n        call()\n    except RuntimeError:\n        pass\n")
    env = strun_command[1](level1_cache, trap_dir, log)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert log.read_text(encoding="utf-8").split() == [
        "crds.getreferences", "stpipe.crds_client.get_reference_file"]


def test_level1_end_to_end(runs: dict[str, Run], numbers: Any,
                           expected: Callable[[str], dict[str, Any]]) -> None:
    run = runs["level1"]
    assert_clean(run)
    assert run.output().name == "exposure_L1.fits"
    header = run.header()
    assert header["CRDS_CTX"] == "csst_0002.pmap"  # the operational context
    assert header["CRDS_VER"].startswith("csst-crds-plugin ")
    chosen = expected("csst_0002.pmap")
    assert references(header) == {t: (chosen[t], "rule") for t in numbers.REFTYPES}
    assert chosen["dark"] == "csst_msc_dark_0002.fits"  # 10:00 on the day of the new dark
    assert [header[k] for k in ("STA_DQI", "STA_BIAS", "STA_GAIN", "STA_DARK", "STA_FLAT")] \
        == [0, 0, 0, 0, 0]
    data, err, dq = run.sci(), run.sci("ERR"), run.sci("DQ")
    value = calibrated(numbers, numbers.DARK_2, numbers.FLAT)
    electrons = (numbers.RAW - numbers.BIAS) * numbers.GAIN
    variance = ((numbers.BIAS_ERR * numbers.GAIN) ** 2 + electrons
                + (numbers.DARK_ERR * numbers.EXPTIME) ** 2)
    sigma = math.hypot(math.sqrt(variance) / numbers.FLAT,
                       value * numbers.FLAT_ERR / numbers.FLAT)
    assert data[0, 0] == pytest.approx(value, rel=1e-6)
    assert err[0, 0] == pytest.approx(sigma, rel=1e-5)
    assert dq[0, 0] == 0
    assert dq[numbers.SATURATED_PIXEL] == SATURATED | DO_NOT_USE
    assert dq[numbers.MASKED_PIXEL] == numbers.MASK_BITS
    assert dq[numbers.ZERO_FLAT_PIXEL] == NO_FLAT_FIELD | DO_NOT_USE
    # csst_0002's pars-flatstep sets min_flat 0.5, so the 0.4 flat pixel is bad too
    assert dq[numbers.LOW_FLAT_PIXEL] == NO_FLAT_FIELD | DO_NOT_USE
    assert data[numbers.LOW_FLAT_PIXEL] == pytest.approx(calibrated(numbers, numbers.DARK_2,
                                                                    None), rel=1e-6)


def test_level1_with_a_per_step_override(runs: dict[str, Run], numbers: Any,
                                         expected: Callable[[str], dict[str, Any]]) -> None:
    run = runs["override"]
    assert_clean(run)
    chosen = expected("csst_0002.pmap")
    found = references(run.header())
    assert found.pop("dark") == (str(run.cwd / "mydark.fits"), "override")
    assert found == {t: (chosen[t], "rule") for t in numbers.REFTYPES if t != "dark"}
    assert run.sci()[0, 0] == pytest.approx(calibrated(numbers, OVERRIDE_DARK, numbers.FLAT),
                                            rel=1e-6)


def test_level1_with_a_not_applicable_override(runs: dict[str, Run], numbers: Any,
                                               expected: Callable[[str], dict[str, Any]]
                                               ) -> None:
    run = runs["na_override"]
    assert_clean(run)
    header = run.header()
    found = references(header)
    assert found.pop("flat") == ("N/A", "override")
    chosen = expected("csst_0002.pmap")
    assert found == {t: (chosen[t], "rule") for t in numbers.REFTYPES if t != "flat"}
    assert header["STA_FLAT"] == 1 and header["STA_DARK"] == 0
    assert "flat is N/A (from the override), so the step is SKIPPED" in run.done.stderr
    assert run.sci()[0, 0] == pytest.approx(calibrated(numbers, numbers.DARK_2, None),
                                            rel=1e-6)
    assert run.sci("DQ")[numbers.ZERO_FLAT_PIXEL] == 0


def test_level1_with_a_pinned_context(runs: dict[str, Run], numbers: Any,
                                      expected: Callable[[str], dict[str, Any]]) -> None:
    run = runs["pinned"]
    assert_clean(run)
    header = run.header()
    assert header["CRDS_CTX"] == "csst_0001.pmap"
    chosen = expected("csst_0001.pmap")
    assert chosen["dark"] == "csst_msc_dark_0001.fits"  # csst_0001 predates the new dark
    assert references(header) == {t: (chosen[t], "rule") for t in numbers.REFTYPES}
    assert run.sci()[0, 0] == pytest.approx(calibrated(numbers, numbers.DARK_1, numbers.FLAT),
                                            rel=1e-6)
    # no pars-flatstep in csst_0001: min_flat stays 0.0 and the 0.4 pixel is divided
    assert run.sci("DQ")[numbers.LOW_FLAT_PIXEL] == 0
    assert run.sci()[numbers.LOW_FLAT_PIXEL] == pytest.approx(
        calibrated(numbers, numbers.DARK_1, numbers.LOW_FLAT), rel=1e-6)


def test_level1_with_a_parameter_file_holding_a_relative_override(
        runs: dict[str, Run], numbers: Any, expected: Callable[[str], dict[str, Any]]) -> None:
    run = runs["param_file"]
    assert_clean(run)
    found = references(run.header())
    # relative to the parameter file's folder, not to the working directory
    assert found.pop("dark") == (str(run.cwd / "params/refs/alt_dark.fits"), "override")
    chosen = expected("csst_0002.pmap")
    assert found == {t: (chosen[t], "rule") for t in numbers.REFTYPES if t != "dark"}
    assert run.sci()[0, 0] == pytest.approx(calibrated(numbers, PARAM_FILE_DARK, numbers.FLAT),
                                            rel=1e-6)


def test_a_single_step_with_an_override(runs: dict[str, Run], numbers: Any) -> None:
    run = runs["dark_step"]
    assert_clean(run)
    header = run.header()
    assert header["CRDS_CTX"] == "csst_0002.pmap" and header["STA_DARK"] == 0
    assert references(header) == {"dark": (str(run.cwd / "mydark.fits"), "override")}
    # a level-0 input is converted: ADU minus the dark current times EXPTIME
    assert run.sci()[0, 0] == pytest.approx(numbers.RAW - OVERRIDE_DARK * numbers.EXPTIME,
                                            rel=1e-6)
