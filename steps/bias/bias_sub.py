"""Subtract a superbias, propagating its error and DQ (pure numpy)."""

from __future__ import annotations

import numpy as np

__all__ = ["subtract_bias"]


def subtract_bias(data: np.ndarray, err: np.ndarray, dq: np.ndarray, bias: np.ndarray,
                  bias_err: np.ndarray, bias_dq: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``data - bias``, ``sqrt(err² + bias_err²)`` and ``dq | bias_dq`` (new arrays)."""
    return data - bias, np.hypot(err, bias_err), np.bitwise_or(dq, bias_dq.astype(np.uint32))
