"""Subtract a dark current (e-/s) scaled by the exposure time (pure numpy).

`subtract_dark_inplace` works on one block of rows; `subtract_dark` returns new arrays.
"""

from __future__ import annotations

import numpy as np

from steps.arrays import level1_copies

__all__ = ["subtract_dark", "subtract_dark_inplace"]


def subtract_dark_inplace(data: np.ndarray, err: np.ndarray, dq: np.ndarray, dark: np.ndarray,
                          dark_err: np.ndarray, dark_dq: np.ndarray, exptime: float) -> None:
    """Set ``data -= dark·t``, ``err = sqrt(err² + (dark_err·t)²)``, ``dq |= dark_dq``.

    ``dark·t`` is rounded to float32 before the subtraction, as the whole-array expression
    ``data - dark * exptime`` does. One block-sized temporary.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.multiply(dark, np.float32(exptime), dtype=np.float32)
        np.subtract(data, scaled, out=data)
        np.multiply(dark_err, np.float32(exptime), out=scaled, dtype=np.float32)
        np.hypot(err, scaled, out=err)
    np.bitwise_or(dq, dark_dq, out=dq, casting="unsafe")


def subtract_dark(data: np.ndarray, err: np.ndarray, dq: np.ndarray, dark: np.ndarray,
                  dark_err: np.ndarray, dark_dq: np.ndarray, exptime: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``data - dark·t``, ``sqrt(err² + (dark_err·t)²)`` and ``dq | dark_dq`` (new)."""
    data, err, dq = level1_copies(data, err, dq)
    subtract_dark_inplace(data, err, dq, dark, dark_err, dark_dq, exptime)
    return data, err, dq
