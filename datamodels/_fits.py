"""FITS reading (lazy, memory-mapped) and writing of data models with astropy.io.fits."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from astropy.io import fits

from datamodels._cards import header_cards, meta_from_cards, meta_to_cards
from datamodels._fields import PRIMARY, SCI

if TYPE_CHECKING:
    from datamodels._base import ArraySpec, DataModel

__all__ = ["fits_sci_index", "read_fits", "write_fits"]


def _hdu(spec: ArraySpec, data: np.ndarray) -> fits.ImageHDU | fits.BinTableHDU:
    if spec.is_table:
        return fits.BinTableHDU(data=data, name=spec.extname)
    return fits.ImageHDU(data=data, name=spec.extname)


def to_hdulist(model: DataModel) -> fits.HDUList:
    """Build the HDU list of ``model``: keywords in the primary header, one HDU per array."""
    cards = meta_to_cards(model.meta)
    primary = fits.PrimaryHDU()
    for keyword, value, comment in cards[PRIMARY]:
        primary.header[keyword] = (value, comment)
    hdus: list[fits.hdu.base.ExtensionHDU] = []
    for spec in model.array_specs:
        data = model.arrays().get(spec.name)
        if data is None:
            continue
        hdu = _hdu(spec, data)
        if spec.role == SCI:
            for keyword, value, comment in cards[SCI]:
                hdu.header[keyword] = (value, comment)
        hdus.append(hdu)
    return fits.HDUList([primary, *hdus])


def write_fits(model: DataModel, path: Path) -> None:
    """Write ``model`` to ``path`` (the caller handles atomic replacement)."""
    to_hdulist(model).writeto(path, overwrite=True)


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


def read_fits(model_cls: type[DataModel], hdul: fits.HDUList, name: str, owns: bool) -> DataModel:
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

    def load(spec: ArraySpec) -> np.ndarray | None:
        index = extnames.get(spec.extname)
        if index is None and spec.role == SCI:
            index = sci
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
        return data

    return model_cls._from_parts(meta, load, hdul.close if owns else None)
