"""Reading reference files for certify: a flat header and array descriptions.

Array data are read only when a check needs them (``ArrayInfo.count_nan``), in blocks of rows
from a memory map where the format allows. Pickles are never
unpickled: only their size and first bytes are looked at.
"""

from __future__ import annotations

import datetime as _dt
import functools
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from csst_crds_plugin.cache.safe_read import loads_json
from csst_crds_plugin.tools.inputs import check_asdf, check_fits, check_yaml

__all__ = [
    "FORMATS",
    "PICKLE_EXTENSIONS",
    "ArrayInfo",
    "ReferenceContent",
    "check_pickle_bytes",
    "count_nan",
    "format_of",
    "read_reference",
]

PICKLE_EXTENSIONS = (".pkl", ".pickle", ".pth")
FORMATS = {
    ".fits": "fits", ".fit": "fits", ".fts": "fits",
    ".asdf": "asdf", ".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml",
    **{ext: "pickle" for ext in PICKLE_EXTENSIONS},
}

# Keywords of a data model's nested ASDF ``meta`` (its pydantic dump), by dotted path.
ASDF_KEYWORDS = {
    "TELESCOP": "telescope", "INSTRUME": "instrument.name", "DETECTOR": "instrument.detector",
    "FILTER": "instrument.filter", "READMODE": "instrument.readmode", "REFTYPE": "reftype",
    "USEAFTER": "useafter", "PEDIGREE": "pedigree", "DESCRIP": "description", "AUTHOR": "author",
    "NCOMBINE": "combine_n",
}
_BITPIX = {8: "uint8", 16: "int16", 32: "int32", 64: "int64", -32: "float32", -64: "float64"}
_UNSIGNED = {16: ("uint16", 1 << 15), 32: ("uint32", 1 << 31), 64: ("uint64", 1 << 63)}


@dataclass
class ArrayInfo:
    """An array's shape and dtype (known without reading it); `count_nan` reads the data."""

    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    count_nan: Callable[[], int]
    kind: str = "image"  # "image" | "table"
    columns: tuple[str, ...] = ()


@dataclass
class ReferenceContent:
    """What certify sees of a reference: its header keywords and arrays by upper-case name."""

    format: str
    header: dict[str, Any]
    arrays: dict[str, ArrayInfo] = field(default_factory=dict)


def count_nan(array: Any, rows: int = 512) -> int:
    """Return the number of NaN values of a floating array, a block of rows at a time."""
    array = np.asarray(array) if not hasattr(array, "shape") else array
    if array.dtype.kind not in "fc":
        return 0
    if array.ndim < 2:
        return int(np.count_nonzero(np.isnan(array)))
    return sum(int(np.count_nonzero(np.isnan(array[start:start + rows])))
               for start in range(0, array.shape[0], rows))


def format_of(path: str | Path) -> str | None:
    """Return the reference format named by the extension (``.fits.gz`` too), or None."""
    name = Path(path).name.lower()
    if name.endswith((".fits.gz", ".fit.gz", ".fts.gz")):
        return "fits"
    return FORMATS.get(Path(name).suffix)


def read_reference(path: str | Path) -> ReferenceContent:
    """Read the header and array descriptions; raise OSError/ValueError on bad content."""
    path = Path(path)
    fmt = format_of(path)
    if fmt == "fits":
        return _read_fits(path)
    if fmt == "asdf":
        return _read_asdf(path)
    if fmt in ("json", "yaml", "toml"):
        return _read_document(path, fmt)
    raise ValueError(f"unsupported reference format {path.suffix!r}")


def check_pickle_bytes(path: str | Path) -> str | None:
    """Why a pickle or torch file looks wrong (by size and magic bytes), or None. Never loads it."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        return "the file is empty"
    with path.open("rb") as stream:
        head = stream.read(4)
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return None  # pickle protocol 2 to 5
    if path.suffix.lower() == ".pth" and head == b"PK\x03\x04":
        return None  # a torch zip archive
    return (f"the first bytes {head!r} are neither a pickle (protocol 2-5) nor a torch zip "
            "archive")


# -- FITS ----------------------------------------------------------------------------------------
def _read_fits(path: Path) -> ReferenceContent:
    from astropy.io import fits

    header: dict[str, Any] = {}
    arrays: dict[str, ArrayInfo] = {}
    check_fits(path)  # truncated, oversized or corrupt headers fail here, naming the file
    with fits.open(path, memmap=False, lazy_load_hdus=True) as hdus:
        for key, value in hdus[0].header.items():
            if key not in ("COMMENT", "HISTORY", ""):
                header.setdefault(key.upper(), value)
        for index, hdu in enumerate(hdus):
            info = _fits_array(path, index, hdu.header)
            if info is not None:
                name = str(hdu.header.get("EXTNAME", "PRIMARY" if index == 0 else index))
                arrays.setdefault(name.upper(), info)
    return ReferenceContent("fits", header, arrays)


def _fits_array(path: Path, index: int, header: Any) -> ArrayInfo | None:
    """Shape and dtype from the header alone (no data read)."""
    naxis = int(header.get("NAXIS", 0))
    if naxis == 0:
        return None

    def nans() -> int:
        from astropy.io import fits

        with fits.open(path, memmap=True) as hdus:
            data = hdus[index].data
            found = count_nan(data) if data is not None else 0
            del data
        return found

    if header.get("XTENSION") == "BINTABLE":
        count = int(header.get("TFIELDS", 0))
        columns = tuple(str(header.get(f"TTYPE{i}", "")) for i in range(1, count + 1))
        return ArrayInfo((int(header.get("NAXIS2", 0)),), np.dtype("V1"), lambda: 0, "table",
                         columns)
    shape = tuple(int(header.get(f"NAXIS{i}", 0)) for i in range(naxis, 0, -1))
    bitpix = int(header.get("BITPIX", 8))
    dtype = _BITPIX.get(bitpix, "uint8")
    if bitpix in _UNSIGNED and header.get("BSCALE", 1) == 1 and \
            header.get("BZERO", 0) == _UNSIGNED[bitpix][1]:
        dtype = _UNSIGNED[bitpix][0]
    elif bitpix > 0 and (header.get("BSCALE", 1) != 1 or header.get("BZERO", 0) != 0):
        dtype = "float32" if bitpix <= 16 else "float64"  # astropy scales to floats
    return ArrayInfo(shape, np.dtype(dtype), nans)


# -- ASDF ----------------------------------------------------------------------------------------
def _dig(tree: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def _read_asdf(path: Path) -> ReferenceContent:
    import asdf

    header: dict[str, Any] = {}
    arrays: dict[str, ArrayInfo] = {}
    check_asdf(path)
    with asdf.open(path, lazy_load=True, memmap=False) as af:
        meta = af.tree.get("meta", {})
        if isinstance(meta, dict):
            header.update(_scalars(meta))
            for keyword, dotted in ASDF_KEYWORDS.items():
                value = _dig(meta, dotted)
                if value is not None and not isinstance(value, (dict, list)):
                    header[keyword] = value
            header.update(_provenance(meta.get("ref_file")))
        for key, value in af.tree.items():
            if hasattr(value, "shape") and hasattr(value, "dtype"):
                arrays[str(key).upper()] = ArrayInfo(
                    tuple(value.shape), np.dtype(value.dtype),
                    functools.partial(_asdf_nans, path, key))
    return ReferenceContent("asdf", header, arrays)


def _asdf_nans(path: Path, key: str) -> int:
    import asdf

    with asdf.open(path, lazy_load=True, memmap=True) as af:
        return count_nan(af.tree[key])


def _provenance(ref_file: Any) -> dict[str, Any]:
    """``R_<TYPE>`` keywords from a ``ref_file`` tree: ``{bias: {name: ...}}``."""
    found: dict[str, Any] = {}
    if isinstance(ref_file, dict):
        for reftype, entry in ref_file.items():
            if isinstance(entry, dict) and isinstance(entry.get("name"), str) and reftype != "crds":
                found[f"R_{str(reftype).upper()}"[:8]] = entry["name"]
    return found


def _scalars(table: dict[Any, Any]) -> dict[str, Any]:
    """Upper-case keywords of the scalar entries; YAML/TOML dates become ISO strings."""
    return {str(k).upper(): v.isoformat() if isinstance(v, (_dt.date, _dt.time)) else v
            for k, v in table.items() if not isinstance(v, (dict, list))}


# -- JSON, YAML, TOML ----------------------------------------------------------------------------
def _read_document(path: Path, fmt: str) -> ReferenceContent:
    raw = path.read_bytes()
    if fmt == "json":
        tree = loads_json(raw, str(path))
    elif fmt == "toml":
        tree = tomllib.loads(raw.decode("utf-8"))
    else:
        import yaml

        check_yaml(raw, path)
        tree = yaml.safe_load(raw)
    # A file of the wrong shape is bad content, a ValueError as read_reference documents (its
    # callers catch OSError and ValueError), not a TypeError of the calling code.
    if not isinstance(tree, dict):
        raise ValueError("the top level is not a table of keywords")  # noqa: TRY004
    meta = tree.get("meta", tree.get("header"))
    if not isinstance(meta, dict):
        raise ValueError("no 'meta' table of header keywords (e.g. meta.INSTRUME)")  # noqa: TRY004
    header = _scalars(meta)
    provenance = tree.get("provenance")
    if isinstance(provenance, dict):
        header.update(_provenance(provenance.get("ref_file")))
    arrays = {}
    for key, value in tree.items():
        if key in ("meta", "header", "provenance") or not isinstance(value, list):
            continue
        arrays[str(key).upper()] = _document_array(value)
    return ReferenceContent(fmt, header, arrays)


def _document_array(value: list[Any]) -> ArrayInfo:
    if value and all(isinstance(row, dict) for row in value):
        columns = tuple(dict.fromkeys(k for row in value for k in row))
        return ArrayInfo((len(value),), np.dtype("V1"), lambda: 0, "table", columns)
    try:
        array = np.array(value)
    except ValueError:  # ragged nested lists
        array = np.array(value, dtype=object)
    return ArrayInfo(array.shape, array.dtype, lambda: count_nan(array))
