"""A model's 2-D arrays by blocks of rows (`iter_row_blocks`, `read_rows`, `array_shape`).

Where the rows come from is decided per array: straight from the FITS file through the
`datamodels._blocks.FitsRows` the reader left on the model, or sliced from the array in
memory (a view when it is already native, else a block-sized conversion).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from datamodels._base import DataModel
from datamodels._blocks import FitsRows, block_rows
from datamodels._spec import ArraySpec
from datamodels.errors import ArrayError

__all__ = ["array_shape", "iter_row_blocks", "read_rows"]


def _source(model: DataModel, spec: ArraySpec) -> FitsRows | None:
    if spec.name in model._arrays or model._row_source is None:
        return None
    found: FitsRows | None = model._row_source(spec)  # the reader's: rows or None
    return found


def array_shape(model: DataModel, name: str) -> tuple[int, ...] | None:
    """Return the shape of array ``name`` without reading it from its file (None if absent)."""
    spec = _spec(model, name)
    source = _source(model, spec)
    if source is not None:
        return source.shape
    array = model._get_array(spec)
    return None if array is None else array.shape


def read_rows(model: DataModel, name: str, start: int, stop: int,
              out: np.ndarray) -> np.ndarray:
    """Rows ``start:stop`` of array ``name`` converted into ``out`` (any numeric dtype)."""
    spec = _spec(model, name)
    source = _source(model, spec)
    if source is None:
        array = model._get_array(spec)
        if array is None:
            raise ArrayError(f"{type(model).__name__}.{name} is missing")
        np.copyto(out, array[start:stop], casting="unsafe")
        return out
    if out.dtype == source.dtype and out.flags.c_contiguous:
        return source.read(start, stop, out)
    return _copy_rows(source, start, stop, out)


def _copy_rows(source: FitsRows, start: int, stop: int, out: np.ndarray) -> np.ndarray:
    step = block_rows(source.shape[1])
    buffer = np.empty((min(step, stop - start), source.shape[1]), source.dtype)
    for first in range(start, stop, step):
        last = min(first + step, stop)
        block = source.read(first, last, buffer[: last - first])
        np.copyto(out[first - start: last - start], block, casting="unsafe")
    return out


def iter_row_blocks(model: DataModel, names: Sequence[str], rows: int | None = None,
                    dtypes: Sequence[Any] | None = None
                    ) -> Iterator[tuple[slice, list[np.ndarray]]]:
    """Yield ``(rows slice, [block of each array])``, native and in the spec's dtype.

    A block is a view of the array when the model holds it in memory in that form, else a
    reused buffer filled from the file: read it before asking for the next block. An
    optional array that is absent (e.g. a reference without ERR) is its fill value.
    """
    specs = [_spec(model, name) for name in names]
    wanted = [np.dtype(d) for d in dtypes] if dtypes else [s.numpy_dtype for s in specs]
    shape = array_shape(model, model.array_specs[0].name)
    if shape is None or len(shape) != 2:
        raise ArrayError(f"{type(model).__name__} has no 2-D {model.array_specs[0].name} array")
    step = rows or block_rows(shape[1])
    plans = [_plan(model, spec, dtype, shape, step) for spec, dtype in zip(specs, wanted,
                                                                            strict=True)]
    for start in range(0, shape[0], step):
        stop = min(start + step, shape[0])
        yield slice(start, stop), [plan(start, stop) for plan in plans]


def _plan(model: DataModel, spec: ArraySpec, dtype: np.dtype, shape: tuple[int, ...],
          step: int) -> Any:
    source = _source(model, spec)
    if source is not None:
        if source.shape != shape:
            raise ArrayError(f"{type(model).__name__}.{spec.name} has shape {source.shape}, "
                             f"but the first array has {shape}")
        buffer = np.empty((step, shape[1]), dtype)
        return lambda start, stop: read_rows(model, spec.name, start, stop,
                                             buffer[: stop - start])
    array = _stored(model, spec)
    if array is None:
        if spec.fill is None:
            raise ArrayError(f"{type(model).__name__}.{spec.name} is missing")
        filled = np.full((step, shape[1]), spec.fill, dtype)
        return lambda start, stop: filled[: stop - start]
    if array.dtype == dtype and array.dtype.isnative:
        return lambda start, stop: array[start:stop]
    buffer = np.empty((step, shape[1]), dtype)
    return lambda start, stop: read_rows(model, spec.name, start, stop,
                                         buffer[: stop - start])


def _stored(model: DataModel, spec: ArraySpec) -> np.ndarray | None:
    """Return the array as stored or given, None when absent (no fill array made)."""
    if spec.name not in model._arrays and model._loader is not None:
        model._arrays[spec.name] = model._loader(spec)
    return model._arrays.get(spec.name)


def _spec(model: DataModel, name: str) -> ArraySpec:
    for spec in model.array_specs:
        if spec.name == name:
            return spec
    raise ArrayError(f"{type(model).__name__} has no array {name!r}")
