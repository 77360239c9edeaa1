"""`DarkStep` (``csst_dark``): subtract the dark current times the exposure time."""

from __future__ import annotations

from typing import Any, ClassVar

import datamodels
from steps._base import CalibrationError, CsstStep
from steps.dark.dark_sub import subtract_dark_inplace

__all__ = ["DarkStep"]


class DarkStep(CsstStep):
    """Subtract the superdark (e-/s) scaled by ``EXPTIME``; run it after the gain step."""

    class_alias = "csst_dark"
    spec = """
    """
    reference_file_types: ClassVar[list[str]] = ["dark"]

    def process(self, input_data: Any) -> datamodels.ImageModel:
        """Return the dark-subtracted image, or the input marked SKIPPED on N/A."""
        model = self.open_image(input_data)
        dark = self.get_reference_file(model, "dark")
        if self.not_applicable(dark):
            return self.mark_skipped(model, "dark")
        exptime = model.meta.exposure.exptime
        if exptime is None:
            raise CalibrationError(
                f"{self.class_alias}: {model.meta.filename or 'the exposure'} has no EXPTIME; "
                "the dark current is scaled by it, so set EXPTIME in the primary header"
            )
        with self.open_reference(dark, datamodels.DarkRefModel, model, "dark") as ref:
            for rows, (dark, dark_err, dark_dq) in self.reference_blocks(ref, "data", "err",
                                                                         "dq"):
                subtract_dark_inplace(model.data[rows], model.err[rows], model.dq[rows], dark,
                                      dark_err, dark_dq, exptime)
        return self.mark_complete(model)
