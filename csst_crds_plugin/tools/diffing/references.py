"""Differences between two reference files.

FITS: per HDU, header keywords added, deleted or changed; image data shape, dtype, the count of
differing pixels and the largest absolute difference; binary and ASCII tables column by column
and row by row (rows paired by position, or by key columns). JSON, YAML, TOML and ASDF: values by
key path (``a.b[2].c``), arrays compared like image data. Other files (pickles above all, which
are never opened) are compared as bytes.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from csst_crds_plugin.cache.safe_read import loads_json
from csst_crds_plugin.tools.diffing.changes import (
    FileChange,
    array_text,
    compare_arrays,
    same_scalar,
)
from csst_crds_plugin.tools.diffing.fits_files import diff_fits
from csst_crds_plugin.tools.diffing.rules import DiffInputError

__all__ = ["diff_reference_files", "reference_format"]

_FITS = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz")
_STRUCTURED = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}
_ASDF_METADATA = frozenset({"asdf_library", "history"})


def reference_format(path: str | Path) -> str:
    """``fits``, ``asdf``, ``json``, ``yaml``, ``toml`` or ``bytes``, from the file name."""
    name = Path(path).name.lower()
    if name.endswith(_FITS):
        return "fits"
    if name.endswith(".asdf"):
        return "asdf"
    return _STRUCTURED.get(Path(name).suffix, "bytes")


def _load_tree(path: Path, kind: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DiffInputError(f"{path}: not UTF-8 text ({exc})") from exc
    try:
        if kind == "json":
            return loads_json(text, str(path))
        if kind == "toml":
            return tomllib.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise DiffInputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DiffInputError(f"{path}: not valid TOML: {exc}") from exc
    except yaml.YAMLError as exc:
        raise DiffInputError(f"{path}: not valid YAML (safe loader): {exc}") from exc


def _load_asdf(path: Path) -> Any:
    import asdf

    def plain(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: plain(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [plain(v) for v in node]
        if hasattr(node, "__array__") and not isinstance(node, (str, bytes)):
            return np.array(node)
        return node

    try:
        with asdf.open(path, lazy_load=False, memmap=False) as handle:
            return {k: plain(v) for k, v in handle.tree.items() if k not in _ASDF_METADATA}
    except (OSError, ValueError) as exc:
        raise DiffInputError(f"cannot read ASDF file {path}: {exc}") from exc


def _child(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _diff_tree(old: Any, new: Any, path: str, out: list[FileChange]) -> None:
    where = path or "(top)"
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            if key not in new:
                out.append(FileChange(_child(path, key), "value", "deleted", old=old[key]))
            elif key not in old:
                out.append(FileChange(_child(path, key), "value", "added", new=new[key]))
            else:
                _diff_tree(old[key], new[key], _child(path, key), out)
    elif isinstance(old, np.ndarray) or isinstance(new, np.ndarray):
        found = compare_arrays(old, new)
        if found:
            out.append(FileChange(where, "value", "changed", None, detail={
                **found, "text": array_text(found)}))
    elif isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            if index >= len(new):
                out.append(FileChange(_child(path, index), "value", "deleted", old=old[index]))
            elif index >= len(old):
                out.append(FileChange(_child(path, index), "value", "added", new=new[index]))
            else:
                _diff_tree(old[index], new[index], _child(path, index), out)
    elif not same_scalar(old, new):
        out.append(FileChange(where, "value", "changed", None, old, new))


def _diff_bytes(old: Path, new: Path) -> list[FileChange]:
    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (old, new)]
    if digests[0] == digests[1]:
        return []
    sizes = [p.stat().st_size for p in (old, new)]
    text = (f"contents differ (sha256 {digests[0][:12]}… -> {digests[1][:12]}…, "
            f"{sizes[0]} -> {sizes[1]} bytes); this format is compared as bytes only "
            "(pickles are never opened)")
    return [FileChange("file", "file", "changed", None, digests[0], digests[1],
                       {"size": sizes, "text": text})]


def diff_reference_files(old: str | Path, new: str | Path, *, row_key: Sequence[str] = (),
                         limit: int = 50) -> list[FileChange]:
    """Every difference between two reference files of the same format.

    `row_key` pairs table rows by those columns (default: by position); at most `limit`
    differing rows are listed per table, then a count of the rest.
    """
    old, new = Path(old), Path(new)
    for path in (old, new):
        if not path.is_file():
            raise DiffInputError(f"{path}: no such reference file")
    kind, other = reference_format(old), reference_format(new)
    if kind != other:
        raise DiffInputError(f"cannot compare {old} ({kind}) with {new} ({other}): "
                             "both must have the same format")
    if kind == "fits":
        return diff_fits(old, new, row_key, limit)
    if kind == "bytes":
        return _diff_bytes(old, new)
    out: list[FileChange] = []
    if kind == "asdf":
        _diff_tree(_load_asdf(old), _load_asdf(new), "", out)
    else:
        _diff_tree(_load_tree(old, kind), _load_tree(new, kind), "", out)
    return out
