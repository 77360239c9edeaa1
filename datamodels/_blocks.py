"""Arrays by blocks of rows, in native byte order, without reading them whole.

A full-size detector array is hundreds of megabytes; the calibration steps read a reference
block by block (about a million pixels at a time) into a few reused buffers. For a FITS image
the rows come straight from the file: one ``readinto`` per block, then the byte order (and the
sign bit of unsigned integers stored with ``BZERO``) fixed in place. Anything else (ASDF, a
model built in memory, a compressed or scaled FITS image) is sliced from the array itself by
`datamodels._rows`, which picks the source per array; this module knows files, not models.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from datamodels.errors import ArrayError

__all__ = ["BLOCK_PIXELS", "FitsRows", "block_rows", "fits_rows"]

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
            got = stream.readinto(raw.data)  # raw's memory, as a memoryview
        if got != (stop - start) * row_bytes:
            raise ArrayError(f"{self.path.name}: the file ends inside rows {start}:{stop}; "
                             "it is truncated, so fetch or deliver it again")
        if self.file_dtype.itemsize > 1 and self.file_dtype.byteorder != "=":
            out.view(self.file_dtype).byteswap(inplace=True)
        if self.unsigned:
            out ^= out.dtype.type(1 << (8 * out.dtype.itemsize - 1))
        return out


def fits_rows(hdul: Any, index: int) -> FitsRows | None:
    """Return a `FitsRows` for HDU ``index`` of an open file, or None when it cannot be read so.

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


def block_rows(columns: int, pixels: int | None = None) -> int:
    """Rows per block for images of ``columns`` columns (at least one).

    ``pixels`` defaults to `BLOCK_PIXELS` as it is when called, so a test can set it.
    """
    return max(1, (BLOCK_PIXELS if pixels is None else pixels) // max(columns, 1))
