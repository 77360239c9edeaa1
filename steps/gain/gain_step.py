"""`GainStep` (``csst_gain``): ADU to electrons."""

from __future__ import annotations

from typing import Any, ClassVar

import datamodels
from steps._base import CsstStep
from steps.gain.gain_scale import apply_gain_inplace

__all__ = ["GainStep"]


class GainStep(CsstStep):
    """Multiply by the gain map (e-/ADU); the signal's Poisson variance joins the error."""

    class_alias = "csst_gain"
    spec = """
    """
    reference_file_types: ClassVar[list[str]] = ["gain"]

    def process(self, input_data: Any) -> datamodels.ImageModel:
        """Return the image in electrons, or the input marked SKIPPED on N/A."""
        model = self.open_image(input_data)
        gain = self.get_reference_file(model, "gain")
        if self.not_applicable(gain):
            return self.mark_skipped(model, "gain")
        with self.open_reference(gain, datamodels.GainRefModel, model, "gain") as ref:
            for rows, (gain,) in self.reference_blocks(ref, "data"):
                apply_gain_inplace(model.data[rows], model.err[rows], model.dq[rows], gain)
        return self.mark_complete(model)
