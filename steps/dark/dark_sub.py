"""Subtract a dark current (e-/s) scaled by the exposure time (pure numpy)."""

from __future__ import annotations

import numpy as np

__all__ = ["subtract_dark"]


def subtract_dark(data: np.ndarray, err: np.ndarray, dq: np.ndarray, dark: np.ndarray,
                  dark_err: np.ndarray, dark_dq: np.ndarray, exptime: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``data - dark·t``, ``sqrt(err² + (dark_err·t)²)`` and ``dq | dark_dq``."""
    return (data - dark * exptime, np.hypot(err, dark_err * exptime),
            np.bitwise_or(dq, dark_dq.astype(np.uint32)))
