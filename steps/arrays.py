"""What the algorithm modules share: level-1 array copies for their whole-array functions."""

from __future__ import annotations

import numpy as np

__all__ = ["level1_copies"]


def level1_copies(data: np.ndarray, err: np.ndarray, dq: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Copy to native float32 data and error and uint32 DQ, for an in-place function to change."""
    return (np.array(data, dtype=np.float32), np.array(err, dtype=np.float32),
            np.array(dq, dtype=np.uint32))
