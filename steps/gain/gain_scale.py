"""Convert ADU to electrons with a gain map (pure numpy).

The Poisson variance of the signal is added here, where the counts become electrons:
``err_e² = (err · gain)² + max(data_e, 0)``.
"""

from __future__ import annotations

import numpy as np

from steps.dqflags import DO_NOT_USE, NO_GAIN_VALUE

__all__ = ["apply_gain"]


def apply_gain(data: np.ndarray, err: np.ndarray, dq: np.ndarray, gain: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return data and error in electrons and the DQ (new arrays).

    A pixel whose gain is not finite or not positive becomes NaN (data and error) and is
    flagged ``NO_GAIN_VALUE | DO_NOT_USE``.
    """
    valid = np.isfinite(gain) & (gain > 0)
    electrons = np.where(valid, data * gain, np.nan)
    variance = (err * gain) ** 2 + np.clip(electrons, 0, None)
    error = np.where(valid, np.sqrt(variance), np.nan)
    flags = np.where(valid, np.uint32(0), np.uint32(NO_GAIN_VALUE | DO_NOT_USE))
    return electrons, error, np.bitwise_or(dq, flags)
