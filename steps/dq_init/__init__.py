"""DQ initialisation: `DqInitStep` and its algorithm module."""

from steps.dq_init.dq_init_step import DqInitStep

__all__ = ["DqInitStep"]
