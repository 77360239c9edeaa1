"""Dark subtraction: `DarkStep` and its algorithm module."""

from steps.dark.dark_step import DarkStep

__all__ = ["DarkStep"]
