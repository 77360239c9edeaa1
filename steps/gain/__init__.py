"""ADU to electrons: `GainStep` and its algorithm module."""

from steps.gain.gain_step import GainStep

__all__ = ["GainStep"]
