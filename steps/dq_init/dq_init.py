"""Initialise the DQ array: OR in the mask reference and flag saturated pixels (pure numpy)."""

from __future__ import annotations

import numpy as np

from steps.dqflags import DO_NOT_USE, NO_SAT_CHECK, SATURATED

__all__ = ["flag_saturation", "merge_mask"]


def merge_mask(dq: np.ndarray, mask_dq: np.ndarray) -> np.ndarray:
    """Return ``dq | mask_dq`` (the mask's bits mean what they mean in the image)."""
    return np.bitwise_or(dq, mask_dq.astype(np.uint32))


def flag_saturation(data: np.ndarray, dq: np.ndarray, saturation: np.ndarray) -> np.ndarray:
    """Flag ``SATURATED | DO_NOT_USE`` where ``data >= saturation`` (both in ADU).

    A pixel whose saturation level is not finite or not positive gets ``NO_SAT_CHECK``.
    """
    valid = np.isfinite(saturation) & (saturation > 0)
    saturated = valid & (data >= np.where(valid, saturation, np.inf))
    flags = np.where(saturated, np.uint32(SATURATED | DO_NOT_USE), np.uint32(0))
    flags |= np.where(valid, np.uint32(0), np.uint32(NO_SAT_CHECK))
    return np.bitwise_or(dq, flags)
