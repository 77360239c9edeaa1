"""Flat fielding: `FlatStep` and its algorithm module."""

from steps.flat.flat_step import FlatStep

__all__ = ["FlatStep"]
