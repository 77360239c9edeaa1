"""`DqInitStep` (``csst_dq_init``): DQ from the mask reference and saturated pixels."""

from __future__ import annotations

from typing import Any, ClassVar

import datamodels
from steps._base import CsstStep
from steps.dq_init.dq_init import flag_saturation_inplace, merge_mask_inplace

__all__ = ["DqInitStep"]


class DqInitStep(CsstStep):
    """Initialise DQ: OR in the mask, flag pixels at or above the saturation level.

    Works on the raw ADU, so it comes first. SKIPPED when both references are N/A; with one
    N/A, only that part is left out. A level-0 input becomes a level-1 image in any case.
    """

    class_alias = "csst_dq_init"
    spec = """
    """
    reference_file_types: ClassVar[list[str]] = ["mask", "saturation"]

    def process(self, input_data: Any) -> datamodels.ImageModel:
        """Return the image with its DQ initialised."""
        model = self.open_image(input_data)
        mask = self.get_reference_file(model, "mask")
        saturation = self.get_reference_file(model, "saturation")
        if self.not_applicable(mask) and self.not_applicable(saturation):
            return self.mark_skipped(model, "mask", "saturation")
        data, dq = model.data, model.dq
        if not self.not_applicable(mask):
            with self.open_reference(mask, datamodels.MaskRefModel, model, "mask") as ref:
                for rows, (mask_dq,) in self.reference_blocks(ref, "dq"):
                    merge_mask_inplace(dq[rows], mask_dq)
        if not self.not_applicable(saturation):
            with self.open_reference(saturation, datamodels.SaturationRefModel, model,
                                     "saturation") as ref:
                for rows, (level,) in self.reference_blocks(ref, "data"):
                    flag_saturation_inplace(data[rows], dq[rows], level)
        return self.mark_complete(model)
