"""`CsstStep` and `CsstPipeline`: the engine's provider bases plus the CSST specifics.

CSST specifics: models open with `datamodels`, outputs default to FITS, stpipe configures the
CSST loggers, a level-0 `RawModel` input becomes a level-1 `ImageModel`, and each step records
``meta.cal_step.<alias>`` as ``COMPLETE`` or ``SKIPPED``.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import re
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

import datamodels
from csst_crds_plugin.results import NA
from csst_crds_plugin.stpipe_integration import (
    ProviderPipeline,
    ProviderStep,
    check_override_paths,
    step_label,
)

__all__ = ["CalibrationError", "CsstPipeline", "CsstStep", "to_image"]

_LOGGERS = ("stpipe", "steps", "csst_crds_plugin", "datamodels", "py.warnings")
_LEVEL_SUFFIX = re.compile(r"^(?P<base>.+?)(?P<sep>_)L[01]$")


class CalibrationError(ValueError):
    """An input or reference does not fit the step (model type, shape, missing keyword).

    The root of the steps' own errors, outside the reference system's `CsstCrdsError`: a
    reference of the wrong shape is a problem of the data given to a step, not of the rules or
    the cache that chose it.
    """


def to_image(raw: datamodels.RawModel) -> datamodels.ImageModel:
    """Return a level-1 `ImageModel` of a level-0 exposure: SCI as float32 ADU, ERR and DQ zero.

    SCI is converted block by block from the file (no full-frame copy of the raw data).
    """
    shape = datamodels.array_shape(raw, "data")
    data = np.empty(shape if shape is not None else (0, 0), np.float32)
    if shape is not None:
        datamodels.read_rows(raw, "data", 0, shape[0], data)
    image = datamodels.ImageModel(raw.meta.model_copy(deep=True), data=data)
    image.extra_fits = {role: list(cards) for role, cards in raw.extra_fits.items()}
    return image


def _native_arrays(model: datamodels.ImageModel) -> None:
    """Give a model read from a file native, writable arrays, read from the file by rows."""
    for spec in model.array_specs:
        shape = datamodels.array_shape(model, spec.name)
        if shape is None:
            continue
        array = np.empty(shape, spec.numpy_dtype)
        datamodels.read_rows(model, spec.name, 0, shape[0], array)
        setattr(model, spec.name, array)


class _CsstMixin:
    """What CSST steps and pipelines share."""

    spec = """
    output_ext = string(default='.fits')  # output file type
    """

    def run(self, *args: Any) -> Any:
        """As stpipe, after checking that every override path exists (before any step runs)."""
        check_override_paths(self)
        return super().run(*args)  # type: ignore[misc]  # a mixin: stpipe's Step.run is next

    @classmethod
    def _datamodels_open(cls, init: Any, **kwargs: Any) -> Any:
        """Open with `datamodels.open` (stpipe's association keywords do not apply)."""
        options = {k: v for k, v in kwargs.items() if k in ("model_class", "memmap")}
        return datamodels.open(init, **options)

    @classmethod
    def get_stpipe_loggers(cls) -> tuple[str, ...]:
        """Return the loggers stpipe configures: its own, this package's, the engine's, the models'.

        Each step logs under its module's name (``steps.dark.dark_step``), a child of
        ``steps``; a step class defined in another package adds that package's root logger, so
        its messages reach stpipe's log too.
        """
        package = cls.__module__.partition(".")[0]
        return _LOGGERS if package in _LOGGERS else (*_LOGGERS, package)

    @property
    def module_log(self) -> logging.Logger:
        """The logger of the module that defines this step (``logging.getLogger(__name__)``)."""
        return logging.getLogger(type(self).__module__)

    @staticmethod
    def remove_suffix(name: str) -> tuple[str, str | None]:
        """Drop a trailing level suffix (``_L0``/``_L1``) so outputs are not ``_L0_L1``."""
        found = _LEVEL_SUFFIX.match(name)
        return (found["base"], found["sep"]) if found else (name, None)


class CsstStep(_CsstMixin, ProviderStep):
    """Base of the CSST calibration steps.

    A step opens its input with `open_image`, asks ``get_reference_file`` for each type in
    ``reference_file_types`` and, on ``"N/A"``, returns `mark_skipped` (``SKIPPED``); otherwise it
    streams the reference through its algorithm module's in-place function block by block
    (`reference_blocks`) and returns `mark_complete`. Steps never write into arrays the caller
    gave; inside a pipeline run they change the run's own model in place.
    """

    reference_file_types: ClassVar[list[str]] = []

    #: Set by `CsstPipeline.run_steps` while the input is a model an earlier step of the same
    #: run made: the step then works on its arrays in place instead of on a copy.
    _owns_input: bool = False

    def open_image(self, init: Any) -> datamodels.ImageModel:
        """Return the input as an `ImageModel` whose arrays this step may change in place.

        A `RawModel` is converted. A model the caller gave is copied (metadata and arrays),
        so the caller's arrays never change; inside `csst_level1` each step gets the model
        the previous step made, and works on it without a copy.
        """
        model: datamodels.DataModel
        if isinstance(init, datamodels.ImageModel):
            if self._owns_input:
                return init
            model = type(init)(init.meta.model_copy(deep=True))
            model.extra_fits = {role: list(cards) for role, cards in init.extra_fits.items()}
            for name, array in init.arrays().items():
                setattr(model, name, np.array(array, order="C",
                                              dtype=array.dtype.newbyteorder("=")))
        elif isinstance(init, datamodels.DataModel):
            model = init  # a RawModel is converted below into new arrays
        else:
            model = self.open_model(init)
        if isinstance(model, datamodels.RawModel):
            image = to_image(model)
            if model is not init:
                model.close()
            return image
        if not isinstance(model, datamodels.ImageModel):
            raise CalibrationError(
                f"{step_label(self)}: {model.meta.filename or model!r} is a "
                f"{type(model).__name__}; give a level-0 RawModel or level-1 ImageModel"
            )
        if model is not init:
            _native_arrays(model)
            model.close()  # every array is in memory now
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
            shape = datamodels.array_shape(ref, ref.array_specs[0].name)
            if shape is not None and shape != image.data.shape:
                raise CalibrationError(
                    f"{step_label(self)}: {reftype} reference {where} has shape "
                    f"{shape} but {image.meta.filename or 'the exposure'} has "
                    f"{image.data.shape}; give a reference of the detector's shape"
                )
            yield ref

    @staticmethod
    def reference_blocks(ref: datamodels.DataModel, *names: str
                         ) -> Iterator[tuple[slice, list[np.ndarray]]]:
        """``(rows, [block of each named array])`` of a reference, native, a block at a time.

        The blocks are reused buffers (or views): use them before taking the next one.
        """
        return datamodels.iter_row_blocks(ref, names)

    def not_applicable(self, reference: Any) -> bool:
        """Tell whether `reference` is ``"N/A"`` (or an empty override): skip the correction."""
        return isinstance(reference, str) and reference.strip() in ("", NA)

    def mark_skipped(self, model: datamodels.ImageModel, *reftypes: str) -> datamodels.ImageModel:
        """Record ``SKIPPED`` for this step and say why in the log."""
        why = ", ".join(
            f"{reftype} is N/A (from the "
            f"{'override' if self.get_ref_override(reftype) is not None else 'rules'})"
            for reftype in reftypes)
        self.module_log.info("%s: %s, so the step is SKIPPED", step_label(self), why)
        setattr(model.meta.cal_step, self.class_alias, datamodels.StepStatus.SKIPPED)
        return model

    def mark_complete(self, model: datamodels.ImageModel) -> datamodels.ImageModel:
        """Record ``COMPLETE`` for this step."""
        setattr(model.meta.cal_step, self.class_alias, datamodels.StepStatus.COMPLETE)
        return model


class CsstPipeline(_CsstMixin, ProviderPipeline):
    """Base of the CSST pipelines: batched prefetch and ``pars-*`` through the provider."""

    def run_steps(self, input_data: Any) -> Any:
        """Run every step of ``step_defs`` in order, each on the previous one's result.

        The first step copies (or converts) the input; the others change the model the
        run made in place, so one run holds one set of full-frame arrays.
        """
        result = input_data
        # stpipe collects garbage before every step; the objects that exist now (modules,
        # configuration) need no scanning, so the collector leaves them aside for the run.
        gc.freeze()
        try:
            for name in self.step_defs:
                step = getattr(self, name)
                step._owns_input = result is not input_data
                try:
                    result = step.run(result)
                finally:
                    step._owns_input = False
        finally:
            gc.unfreeze()
        return result
