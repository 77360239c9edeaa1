"""The algorithm modules on small arrays, against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from steps.bias.bias_sub import subtract_bias
from steps.dark.dark_sub import subtract_dark
from steps.dq_init.dq_init import flag_saturation, merge_mask
from steps.dqflags import (
    DEAD,
    DO_NOT_USE,
    HOT,
    NO_FLAT_FIELD,
    NO_GAIN_VALUE,
    NO_SAT_CHECK,
    SATURATED,
)
from steps.flat.flat_field import divide_flat
from steps.gain.gain_scale import apply_gain

F32 = np.float32


def arrays(values: list, dtype: type = F32) -> np.ndarray:
    return np.array(values, dtype=dtype)


def test_flag_bits_are_distinct_powers_of_two() -> None:
    bits = [DO_NOT_USE, SATURATED, DEAD, HOT, NO_SAT_CHECK, NO_GAIN_VALUE, NO_FLAT_FIELD]
    assert all(bit & (bit - 1) == 0 for bit in bits)
    assert len(set(bits)) == len(bits)


def test_mask_bits_are_or_ed_into_the_dq() -> None:
    dq = arrays([[0, SATURATED], [HOT, 0]], dtype=np.uint32)
    mask = arrays([[DEAD | DO_NOT_USE, 0], [HOT, DEAD]], dtype=np.uint32)
    assert merge_mask(dq, mask).tolist() == [[5, 2], [8, 4]]
    assert dq.tolist() == [[0, 2], [8, 0]]  # the input is not changed


def test_saturation_flags_at_or_above_the_level_and_marks_missing_levels() -> None:
    data = arrays([[100, 200], [300, 400]])
    dq = arrays([[HOT, 0], [0, 0]], dtype=np.uint32)
    level = arrays([[100, 250], [np.nan, 0]])
    # 100 >= 100 saturated; 200 < 250 fine; NaN and 0 levels cannot be checked
    assert flag_saturation(data, dq, level).tolist() == [[HOT | 3, 0], [16, 16]]


def test_bias_subtraction_propagates_error_and_dq() -> None:
    data, err = arrays([110, 90]), arrays([3, 0])
    dq = arrays([0, HOT], dtype=np.uint32)
    bias, bias_err = arrays([100, 100]), arrays([4, 2])
    bias_dq = arrays([DEAD, 0], dtype=np.uint32)
    out, out_err, out_dq = subtract_bias(data, err, dq, bias, bias_err, bias_dq)
    assert out.tolist() == [10, -10]
    assert out_err.tolist() == [5, 2]  # sqrt(3² + 4²), sqrt(0 + 2²)
    assert out_dq.tolist() == [DEAD, HOT]
    assert data.tolist() == [110, 90]


def test_gain_converts_to_electrons_and_adds_poisson_variance() -> None:
    data, err = arrays([100, -10, 50, 50]), arrays([2, 2, 1, 1])
    dq = np.zeros(4, np.uint32)
    gain = arrays([2, 2, 0, np.nan])
    out, out_err, out_dq = apply_gain(data, err, dq, gain)
    assert out[:2].tolist() == [200, -20]
    # (2·2)² + 200 = 216; a negative signal adds no Poisson variance: (2·2)² = 16
    assert out_err[:2] == pytest.approx([math.sqrt(216), 4.0])
    assert np.isnan(out[2:]).all() and np.isnan(out_err[2:]).all()
    assert out_dq.tolist() == [0, 0, 33, 33]  # NO_GAIN_VALUE | DO_NOT_USE


def test_dark_is_scaled_by_the_exposure_time() -> None:
    data, err = arrays([100, 10]), arrays([3, 0])
    dq = np.zeros(2, np.uint32)
    dark, dark_err = arrays([0.5, 0.1]), arrays([0.02, 0.01])
    dark_dq = arrays([0, HOT], dtype=np.uint32)
    out, out_err, out_dq = subtract_dark(data, err, dq, dark, dark_err, dark_dq, 200.0)
    assert out.tolist() == pytest.approx([0.0, -10.0])  # 100 - 0.5·200, 10 - 0.1·200
    assert out_err.tolist() == pytest.approx([5.0, 2.0])  # sqrt(3² + 4²), sqrt(0 + 2²)
    assert out_dq.tolist() == [0, HOT]


def test_flat_division_propagates_relative_errors() -> None:
    data, err = arrays([100.0]), arrays([4.0])
    dq = np.zeros(1, np.uint32)
    flat, flat_err = arrays([0.5]), arrays([0.01])
    out, out_err, out_dq = divide_flat(data, err, dq, flat, flat_err, np.zeros(1, np.uint32))
    # c = 200; σ² = (4/0.5)² + (200·0.01/0.5)² = 64 + 16
    assert out.tolist() == [200.0]
    assert out_err.tolist() == pytest.approx([math.sqrt(80.0)])
    assert out_dq.tolist() == [0]


def test_bad_flat_pixels_are_flagged_and_left_undivided() -> None:
    data, err = arrays([10, 20, 30, 40, 50]), arrays([1, 1, 1, 1, 1])
    dq = np.zeros(5, np.uint32)
    flat = arrays([0.0, np.nan, 0.2, 2.0, 0.8])
    flat_err = arrays([0.1, 0.1, 0.1, 0.1, 0.1])
    flat_dq = arrays([0, 0, 0, DO_NOT_USE, HOT], dtype=np.uint32)
    out, out_err, out_dq = divide_flat(data, err, dq, flat, flat_err, flat_dq, min_flat=0.3)
    bad = NO_FLAT_FIELD | DO_NOT_USE
    # zero, NaN, 0.2 <= 0.3 and a DO_NOT_USE flat are bad; 0.8 divides (and HOT carries over)
    assert out.tolist() == pytest.approx([10, 20, 30, 40, 62.5])
    assert out_err[:4].tolist() == [1, 1, 1, 1]
    assert out_err[4] == pytest.approx(math.hypot(1 / 0.8, 62.5 * 0.1 / 0.8))
    assert out_dq.tolist() == [bad, bad, bad, bad, HOT]


def test_a_zero_flat_is_bad_even_with_a_negative_threshold() -> None:
    out, _, out_dq = divide_flat(arrays([5.0]), arrays([0.0]), np.zeros(1, np.uint32),
                                 arrays([0.0]), arrays([0.0]), np.zeros(1, np.uint32),
                                 min_flat=-1.0)
    assert out.tolist() == [5.0]
    assert out_dq.tolist() == [NO_FLAT_FIELD | DO_NOT_USE]
