"""Data-quality bits of CSST level-1 images (DQ, uint32); reference DQ arrays use them too."""

from __future__ import annotations

__all__ = [
    "DEAD",
    "DO_NOT_USE",
    "HOT",
    "NO_FLAT_FIELD",
    "NO_GAIN_VALUE",
    "NO_SAT_CHECK",
    "SATURATED",
]

DO_NOT_USE = 1 << 0
"""The pixel's value is not to be used."""
SATURATED = 1 << 1
"""The raw value reached the saturation level."""
DEAD = 1 << 2
"""Dead pixel (from the mask reference)."""
HOT = 1 << 3
"""Hot pixel (from the mask reference)."""
NO_SAT_CHECK = 1 << 4
"""The saturation reference has no valid level for the pixel."""
NO_GAIN_VALUE = 1 << 5
"""The gain reference has no valid gain for the pixel (value set to NaN)."""
NO_FLAT_FIELD = 1 << 6
"""The flat is invalid for the pixel (not finite, too small, or flagged): not divided."""
