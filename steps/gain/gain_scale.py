"""Convert ADU to electrons with a gain map (pure numpy).

The Poisson variance of the signal is added here, where the counts become electrons:
``err_e² = (err · gain)² + max(data_e, 0)``. `apply_gain_inplace` works on one block of rows;
`apply_gain` returns new arrays.
"""

from __future__ import annotations

import numpy as np

from steps.arrays import level1_copies
from steps.dqflags import DO_NOT_USE, NO_GAIN_VALUE

__all__ = ["apply_gain", "apply_gain_inplace"]


def apply_gain_inplace(data: np.ndarray, err: np.ndarray, dq: np.ndarray,
                       gain: np.ndarray) -> None:
    """Convert one block to electrons in place (see `apply_gain`); block-sized temporaries."""
    with np.errstate(invalid="ignore", over="ignore"):
        invalid = ~np.isfinite(gain)
        invalid |= ~(gain > 0)
        np.multiply(data, gain, out=data, casting="same_kind")
        np.multiply(err, gain, out=err, casting="same_kind")
        np.square(err, out=err)
        poisson = np.maximum(data, np.float32(0))
        err += poisson
        np.sqrt(err, out=err)
    np.copyto(data, np.nan, where=invalid)
    np.copyto(err, np.nan, where=invalid)
    np.bitwise_or(dq, np.uint32(NO_GAIN_VALUE | DO_NOT_USE), out=dq, where=invalid)


def apply_gain(data: np.ndarray, err: np.ndarray, dq: np.ndarray, gain: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return data and error in electrons and the DQ (new float32/uint32 arrays).

    A pixel whose gain is not finite or not positive becomes NaN (data and error) and is
    flagged ``NO_GAIN_VALUE | DO_NOT_USE``.
    """
    data, err, dq = level1_copies(data, err, dq)
    apply_gain_inplace(data, err, dq, gain)
    return data, err, dq
