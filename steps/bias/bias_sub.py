"""Subtract a superbias, propagating its error and DQ (pure numpy).

`subtract_bias_inplace` works on one block of rows (the step streams the frame through it);
`subtract_bias` is the same arithmetic returning new arrays.
"""

from __future__ import annotations

import numpy as np

from steps.arrays import level1_copies

__all__ = ["subtract_bias", "subtract_bias_inplace"]


def subtract_bias_inplace(data: np.ndarray, err: np.ndarray, dq: np.ndarray, bias: np.ndarray,
                          bias_err: np.ndarray, bias_dq: np.ndarray) -> None:
    """Set ``data -= bias``, ``err = sqrt(err² + bias_err²)``, ``dq |= bias_dq`` in place.

    ``data`` and ``err`` are float32, ``dq`` uint32; the references are read only.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        np.subtract(data, bias, out=data, casting="same_kind")
        np.hypot(err, bias_err, out=err, casting="same_kind")
    np.bitwise_or(dq, bias_dq, out=dq, casting="unsafe")


def subtract_bias(data: np.ndarray, err: np.ndarray, dq: np.ndarray, bias: np.ndarray,
                  bias_err: np.ndarray, bias_dq: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``data - bias``, ``sqrt(err² + bias_err²)`` and ``dq | bias_dq`` (new arrays)."""
    data, err, dq = level1_copies(data, err, dq)
    subtract_bias_inplace(data, err, dq, bias, bias_err, bias_dq)
    return data, err, dq

