"""Initialise the DQ array: OR in the mask reference and flag saturated pixels (pure numpy).

The ``*_inplace`` functions work on one block of rows; the others return a new DQ array.
"""

from __future__ import annotations

import numpy as np

from steps.dqflags import DO_NOT_USE, NO_SAT_CHECK, SATURATED

__all__ = ["flag_saturation", "flag_saturation_inplace", "merge_mask", "merge_mask_inplace"]


def merge_mask_inplace(dq: np.ndarray, mask_dq: np.ndarray) -> None:
    """Set ``dq |= mask_dq``."""
    np.bitwise_or(dq, mask_dq, out=dq, casting="unsafe")


def merge_mask(dq: np.ndarray, mask_dq: np.ndarray) -> np.ndarray:
    """Return ``dq | mask_dq`` (the mask's bits mean what they mean in the image)."""
    out = np.array(dq, dtype=np.uint32)
    merge_mask_inplace(out, mask_dq)
    return out


def flag_saturation_inplace(data: np.ndarray, dq: np.ndarray, saturation: np.ndarray) -> None:
    """Flag one block in place (see `flag_saturation`); block-sized temporaries."""
    invalid = ~np.isfinite(saturation)
    invalid |= ~(saturation > 0)
    saturated = data >= saturation
    saturated &= ~invalid
    np.bitwise_or(dq, np.uint32(SATURATED | DO_NOT_USE), out=dq, where=saturated)
    np.bitwise_or(dq, np.uint32(NO_SAT_CHECK), out=dq, where=invalid)


def flag_saturation(data: np.ndarray, dq: np.ndarray, saturation: np.ndarray) -> np.ndarray:
    """Flag ``SATURATED | DO_NOT_USE`` where ``data >= saturation`` (both in ADU).

    A pixel whose saturation level is not finite or not positive gets ``NO_SAT_CHECK``.
    """
    out = np.array(dq, dtype=np.uint32)
    flag_saturation_inplace(data, out, saturation)
    return out
