"""The level-1 pipeline: `Level1Pipeline`."""

from steps.level1.level1_pipeline import Level1Pipeline

__all__ = ["Level1Pipeline"]
