"""`BiasStep` (``csst_bias``): subtract the superbias."""

from __future__ import annotations

from typing import Any, ClassVar

import datamodels
from steps._base import CsstStep
from steps.bias.bias_sub import subtract_bias_inplace

__all__ = ["BiasStep"]


class BiasStep(CsstStep):
    """Subtract the superbias (ADU), propagating its error and DQ."""

    class_alias = "csst_bias"
    spec = """
    """
    reference_file_types: ClassVar[list[str]] = ["bias"]

    def process(self, input_data: Any) -> datamodels.ImageModel:
        """Return the bias-subtracted image, or the input marked SKIPPED on N/A."""
        model = self.open_image(input_data)
        bias = self.get_reference_file(model, "bias")
        if self.not_applicable(bias):
            return self.mark_skipped(model, "bias")
        with self.open_reference(bias, datamodels.BiasRefModel, model, "bias") as ref:
            for rows, (bias, bias_err, bias_dq) in self.reference_blocks(ref, "data", "err",
                                                                         "dq"):
                subtract_bias_inplace(model.data[rows], model.err[rows], model.dq[rows], bias,
                                      bias_err, bias_dq)
        return self.mark_complete(model)
