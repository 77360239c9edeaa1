"""Divide by a flat field, propagating its error and DQ, and flag bad flat pixels (pure numpy).

For ``c = d / f``: ``σc² = (σd / f)² + (c · σf / f)²``. `divide_flat_inplace` works on one
block of rows; `divide_flat` returns new arrays.
"""

from __future__ import annotations

import numpy as np

from steps.arrays import level1_copies
from steps.dqflags import DO_NOT_USE, NO_FLAT_FIELD

__all__ = ["bad_flat", "divide_flat", "divide_flat_inplace"]


def bad_flat(flat: np.ndarray, flat_dq: np.ndarray, min_flat: float = 0.0) -> np.ndarray:
    """Where the flat is unusable: not finite, not above `min_flat` (and 0), or DO_NOT_USE."""
    bad: np.ndarray = ~np.isfinite(flat)
    bad |= flat <= max(min_flat, 0.0)
    bad |= (flat_dq & DO_NOT_USE) != 0
    return bad


def divide_flat_inplace(data: np.ndarray, err: np.ndarray, dq: np.ndarray, flat: np.ndarray,
                        flat_err: np.ndarray, flat_dq: np.ndarray,
                        min_flat: float = 0.0) -> None:
    """Flat-field one block in place (see `divide_flat`); block-sized temporaries.

    A bad flat pixel divides by 1 with an error of 0, so its science value stays as it was.
    """
    bad = bad_flat(flat, flat_dq, min_flat)
    divisor = np.where(bad, np.float32(1), flat).astype(np.float32, copy=False)
    divisor_err = np.where(bad, np.float32(0), flat_err).astype(np.float32, copy=False)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        np.divide(data, divisor, out=data)
        np.divide(err, divisor, out=err)
        np.multiply(divisor_err, data, out=divisor_err)
        np.divide(divisor_err, divisor, out=divisor_err)
        np.hypot(err, divisor_err, out=err)
    np.bitwise_or(dq, flat_dq, out=dq, casting="unsafe")
    np.bitwise_or(dq, np.uint32(NO_FLAT_FIELD | DO_NOT_USE), out=dq, where=bad)


def divide_flat(data: np.ndarray, err: np.ndarray, dq: np.ndarray, flat: np.ndarray,
                flat_err: np.ndarray, flat_dq: np.ndarray, min_flat: float = 0.0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the flat-fielded data, error and DQ (new float32/uint32 arrays).

    A flat pixel that is not finite, not above `min_flat` (and 0), or flagged ``DO_NOT_USE``
    is bad: the science pixel is left undivided and flagged ``NO_FLAT_FIELD | DO_NOT_USE``.
    The flat's DQ is OR-ed in everywhere.
    """
    data, err, dq = level1_copies(data, err, dq)
    divide_flat_inplace(data, err, dq, flat, flat_err, flat_dq, min_flat)
    return data, err, dq
