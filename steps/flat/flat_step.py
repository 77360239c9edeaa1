"""`FlatStep` (``csst_flat``): divide by the detector flat."""

from __future__ import annotations

from typing import Any, ClassVar

import datamodels
from steps._base import CsstStep
from steps.flat.flat_field import divide_flat_inplace

__all__ = ["FlatStep"]


class FlatStep(CsstStep):
    """Divide by the flat, propagating its error and DQ; flag bad flat pixels."""

    class_alias = "csst_flat"
    spec = """
    min_flat = float(default=0.0)  # flat values not above this are bad (flagged, not divided)
    """
    reference_file_types: ClassVar[list[str]] = ["flat"]

    def process(self, input_data: Any) -> datamodels.ImageModel:
        """Return the flat-fielded image, or the input marked SKIPPED on N/A."""
        model = self.open_image(input_data)
        flat = self.get_reference_file(model, "flat")
        if self.not_applicable(flat):
            return self.mark_skipped(model, "flat")
        with self.open_reference(flat, datamodels.FlatRefModel, model, "flat") as ref:
            for rows, (flat, flat_err, flat_dq) in self.reference_blocks(ref, "data", "err",
                                                                         "dq"):
                divide_flat_inplace(model.data[rows], model.err[rows], model.dq[rows], flat,
                                    flat_err, flat_dq, self.min_flat)
        return self.mark_complete(model)
