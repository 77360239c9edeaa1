"""`open`: a path, an HDU list or a model into the right CSST data model class.

The top of the package's I/O: it reads with the format modules and picks the class from the
registry of `datamodels._base`, which itself imports only the writers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from astropy.io import fits

from datamodels._asdf import open_asdf, read_asdf
from datamodels._base import DataModel, model_class, model_classes
from datamodels._fits import read_fits
from datamodels._formats import file_format
from datamodels._text import load_document, model_from_document
from datamodels.errors import UnknownModelError

__all__ = ["open"]


def _class_for(name: str, model_type: Any, reftype: Any, extnames: set[str]) -> type[DataModel]:
    classes = model_classes()
    if model_type is not None:
        if str(model_type) not in classes:
            raise UnknownModelError(
                f"{name}: DATAMODL={model_type!r} is not a CSST data model; "
                f"allowed: {', '.join(sorted(classes))}"
            )
        return model_class(str(model_type))
    if reftype is not None:
        by_reftype = {getattr(c, "reftype", None): c for c in classes.values()}
        found = by_reftype.get(str(reftype).strip().upper())
        if found is None:
            known = ", ".join(sorted(r for r in by_reftype if r))
            raise UnknownModelError(
                f"{name}: REFTYPE={reftype!r} has no data model; allowed: {known}"
            )
        return found
    if {"SCI", "ERR", "DQ"} <= extnames:
        return model_class("ImageModel")
    return model_class("RawModel")


def _open_fits(hdul: fits.HDUList, name: str, owns: bool, model_cls: Any) -> DataModel:
    try:
        if model_cls is None:
            header = hdul[0].header
            extnames = {hdu.name for hdu in hdul}
            model_cls = _class_for(name, header.get("DATAMODL"), header.get("REFTYPE"), extnames)
        model: DataModel = read_fits(model_cls, hdul, name, owns)
    except BaseException:
        if owns:
            hdul.close()
        raise
    return model


def open(  # noqa: A001 (the datamodels.open of stpipe's protocol)
    init: str | os.PathLike[str] | fits.HDUList | DataModel,
    model_class: type[DataModel] | None = None,
    *,
    memmap: bool = True,
) -> DataModel:
    """Open a CSST data model.

    Parameters
    ----------
    init : str, Path, astropy.io.fits.HDUList or DataModel
        A ``.fits`` (``.fits.gz``), ``.asdf``, ``.toml`` or ``.yaml`` path; an open HDU list
        (not closed by the model); or a model, returned as a shallow copy (metadata and
        arrays shared, closing it does not close the original).
    model_class : type, optional
        Force the class; by default it comes from ``DATAMODL`` (FITS, TOML, YAML) or
        ``meta.model_type`` (ASDF), else from ``REFTYPE``, else from the extension names
        (``SCI``+``ERR``+``DQ`` → `ImageModel`, otherwise `RawModel`).
    memmap : bool
        Memory-map FITS data where astropy can (not for scaled data such as uint16,
        stored with BZERO); arrays are read when first used in any case.

    Returns
    -------
    DataModel
        Use it as a context manager, or call ``close()``.
    """
    if isinstance(init, DataModel):
        if model_class is not None and not isinstance(init, model_class):
            raise UnknownModelError(f"{init!r} is not a {model_class.__name__}")
        return init.copy(deep=False)
    if isinstance(init, fits.HDUList):
        name = Path(init.filename()).name if init.filename() else "<HDUList>"
        return _open_fits(init, name, owns=False, model_cls=model_class)
    if not isinstance(init, str | os.PathLike):
        raise TypeError(f"cannot open a {type(init).__name__} as a CSST data model")
    path = Path(init)
    fmt = file_format(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if fmt == "fits":
        hdul = fits.open(path, memmap=None if memmap else False, lazy_load_hdus=True)
        return _open_fits(hdul, path.name, owns=True, model_cls=model_class)
    if fmt == "asdf":
        af = open_asdf(path)
        try:
            meta = af.tree.get("meta", {})
            cls = model_class or _class_for(
                path.name, meta.get("model_type"), meta.get("reftype"), set()
            )
            return read_asdf(cls, af, path.name)
        except BaseException:
            af.close()
            raise
    doc = load_document(path)
    keywords = doc.get("meta", {})
    cls = model_class or _class_for(
        path.name, keywords.get("DATAMODL"), keywords.get("REFTYPE"), set()
    )
    return model_from_document(cls, doc, path.name)
