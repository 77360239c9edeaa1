"""The file formats by extension and the writer behind `DataModel.save`.

Above the format modules and below the model base: `datamodels._base` calls `write_model`,
and this module knows a model only as `datamodels._spec.ModelLike`.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from datamodels._asdf import write_asdf
from datamodels._fits import write_fits
from datamodels._spec import ModelLike
from datamodels._text import write_document
from datamodels.errors import DataModelError

__all__ = ["file_format", "write_model"]

_FORMATS = {
    ".fits": "fits",
    ".fit": "fits",
    ".fts": "fits",
    ".asdf": "asdf",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
}


def file_format(path: Path) -> str:
    """Return ``fits``, ``asdf``, ``toml`` or ``yaml`` from the extension (``.gz`` allowed)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    fmt = _FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None or (fmt != "fits" and path.suffix.lower() == ".gz"):
        raise DataModelError(
            f"{path.name}: unknown file type; allowed: {', '.join(sorted(_FORMATS))} "
            "(FITS also .gz)"
        )
    return fmt


def write_model(model: ModelLike, path: Path) -> None:
    """Write ``model`` in the format of ``path``'s extension, atomically (temp + rename)."""
    fmt = file_format(path)
    if fmt in ("toml", "yaml") and fmt not in model.text_formats:
        raise DataModelError(
            f"{type(model).__name__} cannot be saved as {fmt.upper()}; "
            f"allowed: FITS, ASDF{''.join(', ' + f.upper() for f in model.text_formats)}"
        )
    tmp = path.with_name(f".{uuid.uuid4().hex[:8]}.{path.name}")
    try:
        if fmt == "fits":
            write_fits(model, tmp)
        elif fmt == "asdf":
            write_asdf(model, tmp)
        else:
            write_document(model, tmp, fmt)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
