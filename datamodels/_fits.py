"""FITS reading (lazy, memory-mapped) and writing of data models with astropy.io.fits."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits

from datamodels._blocks import FitsRows, block_rows, fits_rows
from datamodels._cards import header_cards, meta_from_cards, meta_to_cards
from datamodels._fields import PRIMARY, SCI, keyword_fields
from datamodels._spec import ArraySpec, ModelLike, ModelT

__all__ = ["extra_cards", "fits_sci_index", "read_fits", "to_hdulist", "write_fits"]


def _hdu(spec: ArraySpec, data: np.ndarray) -> fits.ImageHDU | fits.BinTableHDU:
    if spec.is_table:
        return fits.BinTableHDU(data=data, name=spec.extname)
    return fits.ImageHDU(data=data, name=spec.extname)


_STRUCTURAL = re.compile(
    r"^(SIMPLE|BITPIX|NAXIS\d*|EXTEND|XTENSION|PCOUNT|GCOUNT|EXTNAME|EXTVER|EXTLEVEL|BZERO|"
    r"BSCALE|BLANK|TFIELDS|T(TYPE|FORM|UNIT|DIM|NULL|SCAL|ZERO|DISP)\d+|CHECKSUM|DATASUM|"
    r"INHERIT|COMMENT|HISTORY|)$"
)


def _add_extra(header: fits.Header, cards: Iterable[tuple[str, Any, str]]) -> None:
    for keyword, value, comment in cards:
        if keyword not in header:
            header[keyword] = (value, comment)


def extra_cards(table: dict[str, tuple[Any, str]], used: set[str]) -> list[tuple[str, Any, str]]:
    """Return the cards of a header that neither the metadata nor the FITS structure explain."""
    return [
        (keyword, value, comment)
        for keyword, (value, comment) in table.items()
        if value is not None and keyword not in used and not _STRUCTURAL.match(keyword)
    ]


def to_hdulist(model: ModelLike) -> fits.HDUList:
    """Build the HDU list of ``model``: keywords in the primary header, one HDU per array."""
    cards = meta_to_cards(model.meta)
    primary = fits.PrimaryHDU()
    for keyword, value, comment in cards[PRIMARY]:
        primary.header[keyword] = (value, comment)
    _add_extra(primary.header, model.extra_fits.get(PRIMARY, ()))
    hdus: list[fits.hdu.base.ExtensionHDU] = []
    for spec in model.array_specs:
        data = model.arrays().get(spec.name)
        if data is None:
            continue
        hdu = _hdu(spec, data)
        if spec.role == SCI:
            for keyword, value, comment in cards[SCI]:
                hdu.header[keyword] = (value, comment)
            _add_extra(hdu.header, model.extra_fits.get(SCI, ()))
        hdus.append(hdu)
    return fits.HDUList([primary, *hdus])


def write_fits(model: ModelLike, path: Path) -> None:
    """Write ``model`` to ``path`` (the caller handles atomic replacement).

    Images are written block by block through one small big-endian buffer: no full-frame
    copy (astropy's writer makes two of an unsigned array such as DQ, and byte-swaps the
    others in place twice). A file with a table goes through astropy's writer.
    """
    hdul = to_hdulist(model)
    if not all(isinstance(hdu, fits.PrimaryHDU | fits.ImageHDU) and (hdu.data is None or (
            hdu.data.ndim == 2 and (hdu.data.dtype.kind in "fu" or (
                hdu.data.dtype.kind == "i" and hdu.data.dtype.itemsize > 1)))) for hdu in hdul):
        hdul.writeto(path, overwrite=True)
        return
    hdul.verify(option="exception")
    with path.open("wb") as stream:
        for hdu in hdul:
            stream.write(hdu.header.tostring().encode("ascii"))
            if hdu.data is not None:
                _write_image(stream, hdu.data)
        stream.flush()
        os.fsync(stream.fileno())


def _write_image(stream: Any, data: np.ndarray) -> None:
    """Write the rows of a 2-D image in FITS order (big-endian; unsigned as signed + BZERO)."""
    unsigned = data.dtype.kind == "u" and data.dtype.itemsize > 1
    stored = np.dtype(f">i{data.dtype.itemsize}" if unsigned else data.dtype.newbyteorder(">"))
    rows = block_rows(data.shape[1])
    buffer = np.empty((min(rows, data.shape[0]), data.shape[1]), stored)
    for start in range(0, data.shape[0], rows):
        block = buffer[: min(rows, data.shape[0] - start)]
        if unsigned:
            bits = block.view(stored.newbyteorder("=").str.replace("i", "u"))
            np.bitwise_xor(data[start:start + len(block)],
                           data.dtype.type(1 << (8 * data.dtype.itemsize - 1)), out=bits)
            bits.byteswap(inplace=True)
        else:
            np.copyto(block, data[start:start + len(block)])
        stream.write(block.data.cast("B"))  # block is C-contiguous: its bytes in order
    size = data.size * data.dtype.itemsize
    stream.write(bytes(-size % 2880))


def fits_sci_index(hdul: fits.HDUList) -> int | None:
    """Index of the ``SCI`` extension, else of the first image extension with data."""
    first_image = None
    for index, hdu in enumerate(hdul):
        if index == 0:
            continue
        if hdu.name == "SCI":
            return index
        if first_image is None and isinstance(hdu, fits.ImageHDU) and hdu.header.get("NAXIS"):
            first_image = index
    return first_image


def read_fits(model_cls: type[ModelT], hdul: fits.HDUList, name: str, owns: bool) -> ModelT:
    """Build a ``model_cls`` from an open HDU list; arrays load when first read.

    Parameters
    ----------
    model_cls : type
        The model class.
    hdul : astropy.io.fits.HDUList
        The open file.
    name : str
        The file name for messages.
    owns : bool
        Whether closing the model closes ``hdul``.
    """
    sci = fits_sci_index(hdul)
    cards = {PRIMARY: header_cards(hdul[0].header)}
    where = {PRIMARY: f"primary header of {name}", SCI: f"SCI extension header of {name}"}
    if sci is not None:
        cards[SCI] = header_cards(hdul[sci].header)
        where[SCI] = f"extension {hdul[sci].name or sci} header of {name}"
    meta = meta_from_cards(model_cls.meta_class, cards, where)
    extnames = {hdu.name: index for index, hdu in enumerate(hdul) if index}

    def find(spec: ArraySpec) -> int | None:
        index = extnames.get(spec.extname)
        return sci if index is None and spec.role == SCI else index

    def rows(spec: ArraySpec) -> FitsRows | None:
        index = find(spec)
        return None if index is None or spec.is_table else fits_rows(hdul, index)

    def load(spec: ArraySpec) -> np.ndarray | None:
        index = find(spec)
        if index is None:
            return None
        data = hdul[index].data
        if data is None:
            return None
        if spec.is_table:
            table = np.zeros(len(data), dtype=spec.numpy_dtype)
            for field in spec.numpy_dtype.names or ():
                column = np.asarray(data[field])
                table[field] = np.char.decode(column) if column.dtype.kind == "S" else column
            return table
        image: np.ndarray = data  # an image HDU's data (astropy is untyped)
        return image

    model = model_cls._from_parts(meta, load, hdul.close if owns else None, rows)
    used = {
        k for f in keyword_fields(model_cls.meta_class) for k in (f.spec.keyword, *f.spec.aliases)
    }
    used |= {card[0] for card in meta_to_cards(meta)[PRIMARY]}
    used |= {
        k for k in cards[PRIMARY] if re.fullmatch(r"(R|S|H)_[A-Z0-9]{1,6}|STA_[A-Z0-9]{1,4}", k)
    }
    model.extra_fits = {role: extra_cards(table, used) for role, table in cards.items()}
    return model
