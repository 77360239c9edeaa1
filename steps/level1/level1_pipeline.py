"""`Level1Pipeline` (``csst_level1``): a level-0 exposure to a level-1 image."""

from __future__ import annotations

from typing import Any, ClassVar

import datamodels
from steps._base import CsstPipeline
from steps.bias.bias_step import BiasStep
from steps.dark.dark_step import DarkStep
from steps.dq_init.dq_init_step import DqInitStep
from steps.flat.flat_step import FlatStep
from steps.gain.gain_step import GainStep

__all__ = ["Level1Pipeline"]


class Level1Pipeline(CsstPipeline):
    """DQ init, bias, gain, dark, flat: a `RawModel` in, an `ImageModel` (SCI/ERR/DQ) out."""

    class_alias = "csst_level1"
    spec = """
    suffix = string(default='L1')  # output file suffix
    """
    step_defs: ClassVar[dict[str, Any]] = {
        "dq_init": DqInitStep,
        "bias": BiasStep,
        "gain": GainStep,
        "dark": DarkStep,
        "flat": FlatStep,
    }

    def process(self, input_data: Any) -> datamodels.ImageModel:
        """Run the steps in order; each gets (and changes in place) the previous one's result."""
        result: datamodels.ImageModel = self.run_steps(input_data)  # the last step's model
        return result
