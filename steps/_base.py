"""`CsstStep` and `CsstPipeline`: the engine's provider bases plus the CSST specifics.

CSST specifics: models open with `datamodels`, outputs default to FITS, stpipe configures the
CSST loggers, a level-0 `RawModel` input becomes a level-1 `ImageModel`, and each step records
``meta.cal_step.<alias>`` as ``COMPLETE`` or ``SKIPPED``.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

import datamodels
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.results import NA
from csst_crds_plugin.stpipe_integration import (
    ProviderPipeline,
    ProviderStep,
    check_override_paths,
    step_label,
)

__all__ = ["CalibrationError", "CsstPipeline", "CsstStep", "to_image"]

log = logging.getLogger(__name__)

_LOGGERS = ("stpipe", "steps", "csst_crds_plugin", "datamodels", "py.warnings")
_LEVEL_SUFFIX = re.compile(r"^(?P<base>.+?)(?P<sep>_)L[01]$")


class CalibrationError(CsstCrdsError, ValueError):
    """An input or reference does not fit the step (model type, shape, missing keyword)."""


def to_image(raw: datamodels.RawModel) -> datamodels.ImageModel:
    """A level-1 `ImageModel` of a level-0 exposure: SCI as float32 ADU, ERR and DQ zero."""
    image = datamodels.ImageModel(raw.meta.model_copy(deep=True),
                                  data=np.asarray(raw.data, dtype=np.float32))
    image.extra_fits = {role: list(cards) for role, cards in raw.extra_fits.items()}
    return image


class _CsstMixin:
    """What CSST steps and pipelines share."""

    spec = """
    output_ext = string(default='.fits')  # output file type
    """

    def run(self, *args: Any) -> Any:
        """As stpipe, after checking that every override path exists (before any step runs)."""
        check_override_paths(self)  # type: ignore[arg-type]
        return super().run(*args)  # type: ignore[misc]

    @classmethod
    def _datamodels_open(cls, init: Any, **kwargs: Any) -> Any:
        """Open with `datamodels.open` (stpipe's association keywords do not apply)."""
        options = {k: v for k, v in kwargs.items() if k in ("model_class", "memmap")}
        return datamodels.open(init, **options)

    @staticmethod
    def get_stpipe_loggers() -> tuple[str, ...]:
        """stpipe's loggers plus this package's, the engine's and the data models'."""
        return _LOGGERS

    @staticmethod
    def remove_suffix(name: str) -> tuple[str, str | None]:
        """Drop a trailing level suffix (``_L0``/``_L1``) so outputs are not ``_L0_L1``."""
        found = _LEVEL_SUFFIX.match(name)
        return (found["base"], found["sep"]) if found else (name, None)


class CsstStep(_CsstMixin, ProviderStep):
    """Base of the CSST calibration steps.

    A step opens its input with `open_image`, asks ``get_reference_file`` for each type in
    ``reference_file_types`` and, on ``"N/A"``, returns `mark_skipped` (``SKIPPED``); otherwise it
    calls its algorithm module and returns `mark_complete`. Steps never write into input arrays.
    """

    reference_file_types: ClassVar[list[str]] = []

    def open_image(self, init: Any) -> datamodels.ImageModel:
        """The input as a new `ImageModel` (a `RawModel` is converted; metadata copied)."""
        if isinstance(init, datamodels.DataModel):
            model = type(init)(init.meta.model_copy(deep=True), **init.arrays())
            model.extra_fits = {role: list(cards) for role, cards in init.extra_fits.items()}
        else:
            model = self.open_model(init)
        if isinstance(model, datamodels.RawModel):
            image = to_image(model)
            model.close()
            return image
        if not isinstance(model, datamodels.ImageModel):
            raise CalibrationError(
                f"{step_label(self)}: {model.meta.filename or model!r} is a "
                f"{type(model).__name__}; give a level-0 RawModel or level-1 ImageModel"
            )
        return model

    @contextlib.contextmanager
    def open_reference(self, reference: Any, model_class: type[datamodels.DataModel],
                       image: datamodels.ImageModel, reftype: str) -> Iterator[Any]:
        """Open a reference (path or model) and check its class and shape against `image`."""
        with datamodels.open(reference) as ref:
            where = reference if isinstance(reference, str) else repr(reference)
            if not isinstance(ref, model_class):
                raise CalibrationError(
                    f"{step_label(self)}: {reftype} reference {where} is a "
                    f"{type(ref).__name__}; it needs a {model_class.__name__} "
                    f"(check override_{reftype})"
                )
            first = ref.arrays().get(ref.array_specs[0].name)
            if first is not None and first.shape != image.data.shape:
                raise CalibrationError(
                    f"{step_label(self)}: {reftype} reference {where} has shape "
                    f"{first.shape} but {image.meta.filename or 'the exposure'} has "
                    f"{image.data.shape}; give a reference of the detector's shape"
                )
            yield ref

    def not_applicable(self, reference: Any) -> bool:
        """True for ``"N/A"`` (or an empty override), meaning: skip the correction."""
        return isinstance(reference, str) and reference.strip() in ("", NA)

    def mark_skipped(self, model: datamodels.ImageModel, *reftypes: str) -> datamodels.ImageModel:
        """Record ``SKIPPED`` for this step and say why in the log."""
        why = ", ".join(
            f"{reftype} is N/A (from the "
            f"{'override' if self.get_ref_override(reftype) is not None else 'rules'})"
            for reftype in reftypes)
        log.info("%s: %s, so the step is SKIPPED", step_label(self), why)
        setattr(model.meta.cal_step, self.class_alias, datamodels.StepStatus.SKIPPED)
        return model

    def mark_complete(self, model: datamodels.ImageModel) -> datamodels.ImageModel:
        """Record ``COMPLETE`` for this step."""
        setattr(model.meta.cal_step, self.class_alias, datamodels.StepStatus.COMPLETE)
        return model


class CsstPipeline(_CsstMixin, ProviderPipeline):
    """Base of the CSST pipelines: batched prefetch and ``pars-*`` through the provider."""
