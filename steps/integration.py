"""The ``stpipe.steps`` entry point: a static list, so stpipe lists steps without importing them."""

from __future__ import annotations

__all__ = ["get_steps"]


def get_steps() -> list[tuple[str, str, bool]]:
    """Return ``(class path, alias, is_pipeline)`` for every CSST step and pipeline."""
    return [
        ("steps.dq_init.dq_init_step.DqInitStep", "csst_dq_init", False),
        ("steps.bias.bias_step.BiasStep", "csst_bias", False),
        ("steps.gain.gain_step.GainStep", "csst_gain", False),
        ("steps.dark.dark_step.DarkStep", "csst_dark", False),
        ("steps.flat.flat_step.FlatStep", "csst_flat", False),
        ("steps.level1.level1_pipeline.Level1Pipeline", "csst_level1", True),
    ]
