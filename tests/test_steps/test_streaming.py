"""The streamed level-1 arithmetic against the whole-array formulas it replaced.

``FORMULAS`` below are the level-1 expressions as the steps computed them before they
streamed (new arrays from ``np.where``, ``np.hypot``, ...), written out here once. The in-place
block functions must give the same SCI and ERR to float32 rounding and the same DQ bit for
bit: on random arrays with NaN, infinities, zeros, negative values and flagged pixels (block
by block, in any split of the rows), and through the whole ``csst_level1`` run on random
frames read from FITS files and given as models, and on the demo.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import datamodels
from datamodels import _blocks
from steps import BiasStep
from steps.bias.bias_sub import subtract_bias_inplace
from steps.dark.dark_sub import subtract_dark_inplace
from steps.dq_init.dq_init import flag_saturation_inplace, merge_mask_inplace
from steps.flat.flat_field import divide_flat_inplace
from steps.gain.gain_scale import apply_gain_inplace
from steps.level1 import Level1Pipeline

F32, U32 = np.float32, np.uint32


# -- the formulas the steps used before they streamed ----------------------------------------
def old_dq_init(data: Any, dq: Any, mask_dq: Any, saturation: Any) -> Any:
    dq = np.bitwise_or(dq, mask_dq.astype(U32))
    valid = np.isfinite(saturation) & (saturation > 0)
    saturated = valid & (data >= np.where(valid, saturation, np.inf))
    flags = np.where(saturated, U32(2 | 1), U32(0))
    flags |= np.where(valid, U32(0), U32(16))
    return np.bitwise_or(dq, flags)


def old_bias(data: Any, err: Any, dq: Any, bias: Any, bias_err: Any, bias_dq: Any) -> Any:
    return data - bias, np.hypot(err, bias_err), np.bitwise_or(dq, bias_dq.astype(U32))


def old_gain(data: Any, err: Any, dq: Any, gain: Any) -> Any:
    valid = np.isfinite(gain) & (gain > 0)
    electrons = np.where(valid, data * gain, np.nan)
    variance = (err * gain) ** 2 + np.clip(electrons, 0, None)
    error = np.where(valid, np.sqrt(variance), np.nan)
    flags = np.where(valid, U32(0), U32(32 | 1))
    return electrons, error, np.bitwise_or(dq, flags)


def old_dark(data: Any, err: Any, dq: Any, dark: Any, dark_err: Any, dark_dq: Any,
             exptime: float) -> Any:
    return (data - dark * exptime, np.hypot(err, dark_err * exptime),
            np.bitwise_or(dq, dark_dq.astype(U32)))


def old_flat(data: Any, err: Any, dq: Any, flat: Any, flat_err: Any, flat_dq: Any,
             min_flat: float) -> Any:
    flat_dq = flat_dq.astype(U32)
    bad = ~np.isfinite(flat) | (flat <= max(min_flat, 0.0)) | ((flat_dq & 1) != 0)
    divisor = np.where(bad, 1.0, flat)
    divisor_err = np.where(bad, 0.0, flat_err)
    result = data / divisor
    error = np.hypot(err / divisor, result * divisor_err / divisor)
    flags = np.where(bad, U32(64 | 1), U32(0))
    return result, error, dq | flat_dq | flags


def old_level1(raw: Any, refs: dict[str, Any], exptime: float, min_flat: float) -> Any:
    """Run the whole chain on whole arrays: mask, saturation, bias, gain, dark, flat."""
    with np.errstate(all="ignore"):
        data = np.asarray(raw, dtype=F32)
        err, dq = np.zeros(data.shape, F32), np.zeros(data.shape, U32)
        dq = old_dq_init(data, dq, refs["mask"], refs["saturation"])
        data, err, dq = old_bias(data, err, dq, *refs["bias"])
        data, err, dq = old_gain(data, err, dq, refs["gain"])
        data, err, dq = old_dark(data, err, dq, *refs["dark"], exptime)
        return old_flat(data, err, dq, *refs["flat"], min_flat)


def assert_float32_equal(actual: np.ndarray, expected: np.ndarray) -> None:
    """Check for the same NaNs and infinities, finite values equal to float32 rounding (1 unit)."""
    actual, expected = np.asarray(actual, F32), np.asarray(expected, F32)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(actual[~finite & ~np.isnan(expected)],
                                  expected[~finite & ~np.isnan(expected)])
    np.testing.assert_array_max_ulp(actual[finite], expected[finite], maxulp=1)


# -- random arrays -----------------------------------------------------------------------------
SPECIAL = st.sampled_from([0.0, -0.0, -1.0, 1.0, np.nan, np.inf, -np.inf, 1e-30, 65535.0])
VALUES = st.one_of(SPECIAL, st.floats(-1e5, 1e5, width=32))
FLAGS = st.sampled_from([0, 1, 4, 5, 8, 2, 1 << 31, 0xFFFFFFFF])
SHAPES = st.tuples(st.integers(1, 9), st.integers(1, 7))


def floats(shape: tuple[int, int]) -> Any:
    return hnp.arrays(F32, shape, elements=VALUES)


def flags(shape: tuple[int, int]) -> Any:
    return hnp.arrays(U32, shape, elements=FLAGS)


def in_blocks(rows: int, step: int, kernel: Any, outputs: list[np.ndarray],
              inputs: list[np.ndarray], *extra: Any) -> None:
    """Run an in-place kernel over row blocks of `step` rows, as a step does."""
    for start in range(0, rows, step):
        block = slice(start, start + step)
        kernel(*(a[block] for a in outputs), *(a[block] for a in inputs), *extra)


PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(data=st.data(), shape=SHAPES, step=st.integers(1, 4))
def test_each_block_function_equals_its_whole_array_formula(data: Any, shape: Any,
                                                            step: int) -> None:
    image, err = data.draw(floats(shape)), data.draw(floats(shape))
    dq = data.draw(flags(shape))
    ref, ref_err, ref_dq = data.draw(floats(shape)), data.draw(floats(shape)), \
        data.draw(flags(shape))
    exptime = data.draw(st.sampled_from([0.0, 1.0, 150.0, 33.3]))
    min_flat = data.draw(st.sampled_from([0.0, -1.0, 0.5]))
    cases = [
        (subtract_bias_inplace, [ref, ref_err, ref_dq], (), old_bias),
        (subtract_dark_inplace, [ref, ref_err, ref_dq], (exptime,), old_dark),
        (apply_gain_inplace, [ref], (), old_gain),
        (divide_flat_inplace, [ref, ref_err, ref_dq], (min_flat,), old_flat),
    ]
    for kernel, inputs, extra, formula in cases:
        with np.errstate(all="ignore"):
            expected = formula(image, err, dq, *inputs, *extra)
        outputs = [image.copy(), err.copy(), dq.copy()]
        in_blocks(shape[0], step, kernel, outputs, inputs, *extra)
        assert_float32_equal(outputs[0], expected[0])
        assert_float32_equal(outputs[1], expected[1])
        np.testing.assert_array_equal(outputs[2], expected[2])
    out_dq = dq.copy()
    in_blocks(shape[0], step, merge_mask_inplace, [out_dq], [ref_dq])
    in_blocks(shape[0], step, lambda d, q, s: flag_saturation_inplace(d, q, s),
              [image, out_dq], [ref])
    np.testing.assert_array_equal(out_dq, old_dq_init(image, dq, ref_dq, ref))


# -- whole runs --------------------------------------------------------------------------------
def random_references(shape: tuple[int, int], seed: int) -> dict[str, Any]:
    """Return references with NaN, zero, negative, infinite and flagged pixels sprinkled in."""
    rng = np.random.default_rng(seed)

    def spoil(array: np.ndarray) -> np.ndarray:
        for value in (np.nan, 0.0, -1.0, np.inf):
            array[rng.integers(0, shape[0], 3), rng.integers(0, shape[1], 3)] = value
        return array

    def noisy(mean: float, sigma: float) -> np.ndarray:
        return spoil(rng.normal(mean, sigma, shape).astype(F32))

    def dq() -> np.ndarray:
        return rng.choice(np.array([0, 0, 0, 0, 1, 4, 5, 8, 1 << 31], U32), shape)

    return {
        "mask": dq(), "saturation": spoil(np.full(shape, 50000.0, F32)),
        "bias": (noisy(100.0, 2.0), noisy(2.0, 0.1), dq()),
        "gain": spoil(np.full(shape, 1.5, F32)),
        "dark": (noisy(0.02, 0.002), noisy(0.002, 0.0001), dq()),
        "flat": (noisy(1.0, 0.01), noisy(0.01, 0.001), dq()),
    }


def reference_models(refs: dict[str, Any]) -> dict[str, datamodels.DataModel]:
    def meta(reftype: str) -> dict[str, Any]:
        return {"reftype": reftype, "instrument": {"name": "MSC", "detector": "06"},
                "useafter": "2027-01-01T00:00:00", "pedigree": "SIMULATION",
                "description": "random", "author": "tests",
                "ref_file": {dep: {"name": "x.fits"} for dep in
                             {"DARK": ("bias",), "FLAT": ("bias", "dark")}.get(reftype, ())}}

    def triple(cls: type, reftype: str, arrays: Any) -> datamodels.DataModel:
        return cls(meta(reftype), data=arrays[0], err=arrays[1], dq=arrays[2])

    return {
        "mask": datamodels.MaskRefModel(meta("MASK"), dq=refs["mask"]),
        "saturation": datamodels.SaturationRefModel(meta("SATURATION"),
                                                    data=refs["saturation"]),
        "bias": triple(datamodels.BiasRefModel, "BIAS", refs["bias"]),
        "gain": datamodels.GainRefModel(meta("GAIN"), data=refs["gain"]),
        "dark": triple(datamodels.DarkRefModel, "DARK", refs["dark"]),
        "flat": triple(datamodels.FlatRefModel, "FLAT", refs["flat"]),
    }


def random_raw(shape: tuple[int, int], seed: int) -> datamodels.RawModel:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 65536, shape, dtype=np.uint16)
    data[0, 0], data[-1, -1] = 65535, 0
    return datamodels.RawModel({
        "observation": {"obsid": "10100300001", "date": "2027-01-02", "time": "10:00:00"},
        "exposure": {"type": "SCI", "exptime": 150.0},
        "instrument": {"name": "MSC", "detector": "06", "filter": "y", "readmode": "NORMAL"},
    }, data=data)


def overrides(references: dict[str, Any]) -> dict[str, dict[str, Any]]:
    steps = {"mask": "dq_init", "saturation": "dq_init", "bias": "bias", "gain": "gain",
             "dark": "dark", "flat": "flat"}
    config: dict[str, dict[str, Any]] = {}
    for reftype, value in references.items():
        config.setdefault(steps[reftype], {})[f"override_{reftype}"] = value
    config["flat"]["min_flat"] = 0.5
    return config


def assert_image_equals(result: datamodels.ImageModel, expected: Any) -> None:
    assert_float32_equal(result.data, expected[0])
    assert_float32_equal(result.err, expected[1])
    np.testing.assert_array_equal(result.dq, expected[2])


@pytest.mark.parametrize("block_pixels", [1 << 20, 97])
@pytest.mark.parametrize("given_as", ["files", "models"])
def test_level1_on_random_frames_with_bad_pixels_equals_the_formulas(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_pixels: int,
        given_as: str) -> None:
    monkeypatch.setattr(_blocks, "BLOCK_PIXELS", block_pixels)  # 97: blocks of 2 rows
    shape = (37, 45)
    refs = random_references(shape, seed=7)
    raw = random_raw(shape, seed=8)
    models = reference_models(refs)
    given: dict[str, Any] = dict(models)
    if given_as == "files":
        given = {reftype: model.save(tmp_path / f"{reftype}.fits")
                 for reftype, model in models.items()}
        raw_given: Any = raw.save(tmp_path / "random_L0.fits")
    else:
        raw_given = raw
    expected = old_level1(raw.data, refs, 150.0, 0.5)
    result = Level1Pipeline.call(raw_given, steps=overrides(given))
    assert_image_equals(result, expected)
    assert set(result.meta.cal_step.statuses().values()) == {"COMPLETE"}
    if given_as == "models":  # the caller's arrays are left as they were
        np.testing.assert_array_equal(models["bias"].data, refs["bias"][0])
        assert raw.data[0, 0] == 65535


def test_a_step_given_an_image_changes_a_copy_not_the_callers_arrays(tmp_path: Path) -> None:
    shape = (5, 6)
    refs = random_references(shape, seed=3)
    models = reference_models(refs)
    image = datamodels.ImageModel(random_raw(shape, 4).meta.model_dump(exclude_none=True),
                                  data=np.arange(30, dtype=F32).reshape(shape))
    before = image.data.copy()
    result = BiasStep.call(image, override_bias=models["bias"])
    with np.errstate(all="ignore"):
        expected = old_bias(before, np.zeros(shape, F32), np.zeros(shape, U32), *refs["bias"])
    assert_image_equals(result, expected)
    np.testing.assert_array_equal(image.data, before)
    assert result.data is not image.data


def test_the_demo_output_equals_the_formulas(tmp_path: Path) -> None:
    from steps.demo import run_demo

    result = run_demo(tmp_path / "demo", io.StringIO())
    cache = result.cache / "references" / "csst" / "msc"
    refs: dict[str, Any] = {}
    for reftype, names in (("mask", ("dq",)), ("saturation", ("data",)), ("gain", ("data",)),
                           ("bias", ("data", "err", "dq")), ("dark", ("data", "err", "dq")),
                           ("flat", ("data", "err", "dq"))):
        with datamodels.open(cache / result.references[reftype]) as ref:
            arrays = tuple(np.array(getattr(ref, name)) for name in names)
        refs[reftype] = arrays[0] if len(arrays) == 1 else arrays
    with datamodels.open(result.exposure) as raw:
        expected = old_level1(np.array(raw.data), refs, raw.meta.exposure.exptime, 0.0)
    with datamodels.open(result.output) as output:
        assert_image_equals(output, expected)
        assert (np.array(output.dq) & 64).any()  # bad flat pixels: the test sees flags


def test_a_step_on_a_level1_file_reads_it_by_rows_and_leaves_it_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from steps import FlatStep

    monkeypatch.setattr(_blocks, "BLOCK_PIXELS", 97)
    shape = (11, 13)
    refs = random_references(shape, seed=5)
    image = datamodels.ImageModel(random_raw(shape, 6).meta.model_dump(exclude_none=True),
                                  data=refs["bias"][0], err=refs["dark"][0],
                                  dq=refs["flat"][2])
    path = Path(image.save(tmp_path / "image_L1.fits"))
    before = path.read_bytes()
    flat = Path(reference_models(refs)["flat"].save(tmp_path / "flat.fits"))
    result = FlatStep.call(str(path), override_flat=str(flat))
    with np.errstate(all="ignore"):
        expected = old_flat(image.data, image.err, image.dq, *refs["flat"], 0.0)
    assert_image_equals(result, expected)
    assert result.data.dtype.isnative and result.data.flags.writeable
    assert path.read_bytes() == before
