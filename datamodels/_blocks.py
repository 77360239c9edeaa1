"""Arrays by blocks of rows, in native byte order, without reading them whole.

A full-size detector array is hundreds of megabytes; the calibration steps read a reference
block by block (about a million pixels at a time) into a few reused buffers. For a FITS image
the rows come straight from the file: one ``readinto`` per block, then the byte order (and the
sign bit of unsigned integers stored with ``BZERO``) fixed in place. Anything else (ASDF, a
model built in memory, a compressed or scaled FITS image) is sliced from the array itself:
a view when it is already native, else a block-sized conversion.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from datamodels.errors import ArrayError

if TYPE_CHECKING:
    from datamodels._base import ArraySpec, DataModel

__all__ = ["BLOCK_PIXELS", "FitsRows", "array_shape", "block_rows", "fits_rows",
           "iter_row_blocks", "read_rows"]

BLOCK_PIXELS = 1 << 20
"""Pixels per block (4 MB of float32): small enough for the caches, large enough for numpy."""

_FILE_DTYPES = {8: "u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}


@dataclass(frozen=True)
class FitsRows:
    """Where a 2-D FITS image lies in its file and how to turn its bytes into numbers.

    Parameters
    ----------
    path : Path
        The file.
    offset : int
        Byte offset of the first row.
    shape : tuple of int
        ``(rows, columns)``.
    file_dtype : numpy.dtype
        The stored dtype (big-endian).
    unsigned : bool
        Stored with ``BZERO = 2**(bits-1)``: the value is the stored bits with the sign bit
        flipped, read as unsigned.
    """

    path: Path
    offset: int
    shape: tuple[int, int]
    file_dtype: np.dtype
    unsigned: bool

    @property
    def dtype(self) -> np.dtype:
        """The values' native dtype (``uint32`` for a ``BZERO``-shifted ``int32``, ...)."""
        native = self.file_dtype.newbyteorder("=")
        return np.dtype(f"u{native.itemsize}") if self.unsigned else native

    def read(self, start: int, stop: int, out: np.ndarray) -> np.ndarray:
        """Fill ``out`` (C-contiguous, native, of `dtype`) with rows ``start:stop``."""
        row_bytes = self.shape[1] * self.file_dtype.itemsize
        raw = out.view(np.uint8).reshape(-1)
        with self.path.open("rb") as stream:
            stream.seek(self.offset + start * row_bytes)
            got = stream.readinto(memoryview(raw))
        if got != (stop - start) * row_bytes:
            raise ArrayError(f"{self.path.name}: the file ends inside rows {start}:{stop}; "
                             "it is truncated, so fetch or deliver it again")
        if self.file_dtype.itemsize > 1 and self.file_dtype.byteorder != "=":
            out.view(self.file_dtype).byteswap(inplace=True)
        if self.unsigned:
            out ^= out.dtype.type(1 << (8 * out.dtype.itemsize - 1))
        return out


def fits_rows(hdul: Any, index: int) -> FitsRows | None:
    """A `FitsRows` for HDU ``index`` of an open file, or None when it cannot be read so.

    None for a compressed file or HDU, an image that is not 2-D, or scaled data other than
    the unsigned-integer convention.
    """
    hdu = hdul[index]
    header = hdu.header
    info = hdu.fileinfo()
    file_dtype = _FILE_DTYPES.get(header.get("BITPIX"))
    if (info is None or getattr(info.get("file"), "compression", None) or not hdul.filename()
            or file_dtype is None or header.get("NAXIS") != 2 or header.get("ZIMAGE")
            or header.get("BSCALE", 1) != 1):
        return None
    bits = abs(header["BITPIX"])
    bzero = header.get("BZERO", 0)
    unsigned = bits > 8 and bzero == 2 ** (bits - 1)
    if bzero and not unsigned:
        return None
    return FitsRows(Path(hdul.filename()), info["datLoc"],
                    (int(header["NAXIS2"]), int(header["NAXIS1"])), np.dtype(file_dtype),
                    unsigned)


def _source(model: DataModel, spec: ArraySpec) -> FitsRows | None:
    if spec.name in model._arrays or model._row_source is None:
        return None
    return model._row_source(spec)


def array_shape(model: DataModel, name: str) -> tuple[int, ...] | None:
    """The shape of array ``name`` without reading it from its file (None if absent)."""
    spec = _spec(model, name)
    source = _source(model, spec)
    if source is not None:
        return source.shape
    array = model._get_array(spec)
    return None if array is None else array.shape


def block_rows(columns: int, pixels: int = BLOCK_PIXELS) -> int:
    """Rows per block for images of ``columns`` columns (at least one)."""
    return max(1, pixels // max(columns, 1))


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
    """The array as stored or given, None when absent (no fill array made)."""
    if spec.name not in model._arrays and model._loader is not None:
        model._arrays[spec.name] = model._loader(spec)
    return model._arrays.get(spec.name)


def _spec(model: DataModel, name: str) -> ArraySpec:
    for spec in model.array_specs:
        if spec.name == name:
            return spec
    raise ArrayError(f"{type(model).__name__} has no array {name!r}")
