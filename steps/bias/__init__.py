"""Bias subtraction: `BiasStep` and its algorithm module."""

from steps.bias.bias_step import BiasStep

__all__ = ["BiasStep"]
