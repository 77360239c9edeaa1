"""Divide by a flat field, propagating its error and DQ, and flag bad flat pixels (pure numpy).

For ``c = d / f``: ``σc² = (σd / f)² + (c · σf / f)²``.
"""

from __future__ import annotations

import numpy as np

from steps.dqflags import DO_NOT_USE, NO_FLAT_FIELD

__all__ = ["divide_flat"]


def divide_flat(data: np.ndarray, err: np.ndarray, dq: np.ndarray, flat: np.ndarray,
                flat_err: np.ndarray, flat_dq: np.ndarray, min_flat: float = 0.0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the flat-fielded data, error and DQ (new arrays).

    A flat pixel that is not finite, not above `min_flat` (and 0), or flagged ``DO_NOT_USE`` is bad:
    the science pixel is left undivided and flagged ``NO_FLAT_FIELD | DO_NOT_USE``. The
    flat's DQ is OR-ed in everywhere.
    """
    flat_dq = flat_dq.astype(np.uint32)
    bad = ~np.isfinite(flat) | (flat <= max(min_flat, 0.0)) | ((flat_dq & DO_NOT_USE) != 0)
    divisor = np.where(bad, 1.0, flat)
    divisor_err = np.where(bad, 0.0, flat_err)
    result = data / divisor
    error = np.hypot(err / divisor, result * divisor_err / divisor)
    flags = np.where(bad, np.uint32(NO_FLAT_FIELD | DO_NOT_USE), np.uint32(0))
    return result, error, dq | flat_dq | flags
