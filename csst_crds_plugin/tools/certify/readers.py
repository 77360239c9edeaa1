"""Reading reference files for certify: a flat header and, where a check needs it, the data.

Pickles are never unpickled: only their name, size and first bytes are looked at.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FORMATS", "PICKLE_EXTENSIONS", "ReferenceContent", "format_of", "read_reference"]

PICKLE_EXTENSIONS = (".pkl", ".pickle", ".pth")
FORMATS = {
    ".fits": "fits", ".fit": "fits", ".fts": "fits",
    ".asdf": "asdf", ".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml",
    **{ext: "pickle" for ext in PICKLE_EXTENSIONS},
}


@dataclass
class ReferenceContent:
    """What certify sees of a reference: its header keywords and named arrays."""

    format: str
    header: dict[str, Any]
    arrays: dict[str, Any] = field(default_factory=dict)


def format_of(path: str | Path) -> str | None:
    """The reference format named by the extension, or None."""
    return FORMATS.get(Path(path).suffix.lower())


def read_reference(path: str | Path) -> ReferenceContent:
    """Read the header (and arrays) of a reference; raise OSError/ValueError on bad content."""
    fmt = format_of(path)
    if fmt == "fits":
        return _read_fits(Path(path))
    if fmt == "asdf":
        return _read_asdf(Path(path))
    if fmt in ("json", "yaml", "toml"):
        return _read_text_tree(Path(path), fmt)
    raise ValueError(f"unsupported reference format {Path(path).suffix!r}")


def _read_fits(path: Path) -> ReferenceContent:
    from astropy.io import fits

    header: dict[str, Any] = {}
    with fits.open(path, memmap=False) as hdus:
        for key, value in hdus[0].header.items():
            if key not in ("COMMENT", "HISTORY", ""):
                header.setdefault(key.upper(), value)
    return ReferenceContent("fits", header)


# Keywords of a data model's nested ASDF ``meta`` (its pydantic dump), by dotted path.
ASDF_KEYWORDS = {
    "TELESCOP": "telescope", "INSTRUME": "instrument.name", "DETECTOR": "instrument.detector",
    "FILTER": "instrument.filter", "READMODE": "instrument.readmode", "REFTYPE": "reftype",
    "USEAFTER": "useafter", "PEDIGREE": "pedigree", "DESCRIP": "description", "AUTHOR": "author",
    "R_BIAS": "ref_file.bias.name", "R_DARK": "ref_file.dark.name",
}


def _dig(tree: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def _read_asdf(path: Path) -> ReferenceContent:
    import asdf

    with asdf.open(path, lazy_load=True, memmap=False) as af:
        meta = af.tree.get("meta", {})
        header: dict[str, Any] = {}
        if isinstance(meta, dict):
            header.update({str(k).upper(): v for k, v in meta.items()
                           if not isinstance(v, (dict, list))})
            for keyword, dotted in ASDF_KEYWORDS.items():
                value = _dig(meta, dotted)
                if value is not None and not isinstance(value, (dict, list)):
                    header[keyword] = value
    return ReferenceContent("asdf", header)


def _read_text_tree(path: Path, fmt: str) -> ReferenceContent:
    raw = path.read_bytes()
    if fmt == "json":
        tree = json.loads(raw)
    elif fmt == "toml":
        tree = tomllib.loads(raw.decode("utf-8"))
    else:
        import yaml

        tree = yaml.safe_load(raw)
    if not isinstance(tree, dict):
        raise ValueError("the top level is not a mapping of keywords")
    meta = tree.get("meta", tree.get("header", tree))
    header = {str(k).upper(): v for k, v in meta.items() if not isinstance(v, (dict, list))}
    return ReferenceContent(fmt, header)
