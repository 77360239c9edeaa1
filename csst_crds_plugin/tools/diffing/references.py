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
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from csst_crds_plugin.tools.diffing.rules import DiffInputError

__all__ = ["FileChange", "compare_arrays", "diff_reference_files", "reference_format"]

_FITS = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz")
_STRUCTURED = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}
_ASDF_METADATA = frozenset({"asdf_library", "history"})


@dataclass(frozen=True, slots=True)
class FileChange:
    """One difference between two reference files.

    ``where`` locates it (``HDU 1 (SCI)``, ``HDU 2 (TABLE) row 3``, a key path, ``file``);
    ``what`` is ``keyword``, ``hdu``, ``data``, ``column``, ``row``, ``value`` or ``file``.
    """

    where: str
    what: str
    action: str
    key: str | None = None
    old: Any = None
    new: Any = None
    detail: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        label = f"{self.what} {self.key}" if self.key is not None else self.what
        if self.detail.get("text"):
            return f"{self.where}: {label}: {self.detail['text']}"
        if self.action == "added":
            return f"{self.where}: {label} added: {self.new!r}"
        if self.action == "deleted":
            return f"{self.where}: {label} deleted (was {self.old!r})"
        return f"{self.where}: {label} changed: {self.old!r} -> {self.new!r}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        detail = {k: v for k, v in self.detail.items() if k != "text"}
        return {"type": self.what, "where": self.where, "action": self.action, "key": self.key,
                "old": _jsonable(self.old), "new": _jsonable(self.new), "detail": detail,
                "text": str(self)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, np.ndarray):
        return f"<array shape={value.shape} dtype={value.dtype}>"
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def reference_format(path: str | Path) -> str:
    """``fits``, ``asdf``, ``json``, ``yaml``, ``toml`` or ``bytes``, from the file name."""
    name = Path(path).name.lower()
    if name.endswith(_FITS):
        return "fits"
    if name.endswith(".asdf"):
        return "asdf"
    return _STRUCTURED.get(Path(name).suffix, "bytes")


def _same_scalar(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b) and (isinstance(a, bool) or isinstance(b, bool)):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return repr(a) == repr(b)


def _dtype_name(dtype: np.dtype[Any]) -> str:
    return dtype.name if dtype.kind in "biufc" else str(dtype.newbyteorder("="))


def compare_arrays(old: Any, new: Any) -> dict[str, Any] | None:
    """None if equal; else what differs: shape, dtype, differing count, largest |difference|."""
    a, b = np.asarray(old), np.asarray(new)
    found: dict[str, Any] = {}
    names = (_dtype_name(a.dtype), _dtype_name(b.dtype))
    if names[0] != names[1]:  # byte order alone is no difference
        found["dtype"] = names
    if a.shape != b.shape:
        found["shape"] = (list(a.shape), list(b.shape))
        return found
    numeric = a.dtype.kind in "biufc" and b.dtype.kind in "biufc"
    if numeric:
        both_nan = np.isnan(a) & np.isnan(b) if a.dtype.kind in "fc" and b.dtype.kind in "fc" \
            else np.zeros(a.shape, dtype=bool)
        differs = (a != b) & ~both_nan
    else:
        differs = np.asarray(a != b)
    count = int(np.count_nonzero(differs))
    if count:
        found["differing"] = count
        found["total"] = int(a.size)
        if numeric and a.dtype.kind != "b" and b.dtype.kind != "b":
            delta = np.abs(a[differs].astype(np.complex128 if "c" in a.dtype.kind + b.dtype.kind
                                              else np.float64) - b[differs])
            finite = delta[np.isfinite(delta)]
            found["max_abs_diff"] = float(finite.max()) if finite.size else float("nan")
    return found or None


def _array_text(found: dict[str, Any], unit: str = "values") -> str:
    parts = []
    if "shape" in found:
        parts.append(f"shape {tuple(found['shape'][0])} -> {tuple(found['shape'][1])}")
    if "dtype" in found:
        parts.append(f"dtype {found['dtype'][0]} -> {found['dtype'][1]}")
    if "differing" in found:
        text = f"{found['differing']} of {found['total']} {unit} differ"
        if "max_abs_diff" in found:
            text += f", max abs difference {found['max_abs_diff']:.6g}"
        parts.append(text)
    return "; ".join(parts)


# -- FITS ------------------------------------------------------------------------------------
def _hdu_label(index: int, hdu: Any) -> str:
    return f"HDU {index} ({hdu.name or 'no name'})"


def _header_values(header: Any) -> dict[str, list[Any]]:
    values: dict[str, list[Any]] = {}
    for card in header.cards:
        if card.keyword:
            values.setdefault(card.keyword, []).append(card.value)
    return values


def _diff_header(where: str, old: Any, new: Any, out: list[FileChange]) -> None:
    before, after = _header_values(old), _header_values(new)
    for key in [*before, *(k for k in after if k not in before)]:
        if key not in after:
            out.append(FileChange(where, "keyword", "deleted", key, old=_one(before[key])))
        elif key not in before:
            out.append(FileChange(where, "keyword", "added", key, new=_one(after[key])))
        elif len(before[key]) != len(after[key]) or not all(
            _same_scalar(x, y) for x, y in zip(before[key], after[key], strict=True)
        ):
            out.append(FileChange(where, "keyword", "changed", key, _one(before[key]),
                                  _one(after[key])))


def _one(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else list(values)


def _cell(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value
    return value.item() if isinstance(value, np.generic) else value


def _same_cell(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return compare_arrays(a, b) is None
    return _same_scalar(a, b)


def _row_keys(data: Any, names: Sequence[str], label: str) -> dict[tuple[Any, ...], int]:
    keys: dict[tuple[Any, ...], int] = {}
    for row in range(len(data)):
        key = tuple(_jsonable(_cell(data[name][row])) for name in names)
        key = tuple(tuple(k) if isinstance(k, list) else k for k in key)
        if key in keys:
            raise DiffInputError(f"{label}: rows {keys[key]} and {row} have the same key "
                                 f"{dict(zip(names, key, strict=True))}; choose other --row-key "
                                 "columns")
        keys[key] = row
    return keys


def _diff_table(where: str, old: Any, new: Any, row_key: Sequence[str], limit: int,
                out: list[FileChange], labels: tuple[str, str]) -> None:
    old_cols = {c.name: c for c in old.columns} if old is not None else {}
    new_cols = {c.name: c for c in new.columns} if new is not None else {}
    for name in [*old_cols, *(n for n in new_cols if n not in old_cols)]:
        if name not in new_cols:
            out.append(FileChange(where, "column", "deleted", name, old=old_cols[name].format))
        elif name not in old_cols:
            out.append(FileChange(where, "column", "added", name, new=new_cols[name].format))
        elif str(old_cols[name].format) != str(new_cols[name].format):
            out.append(FileChange(where, "column", "changed", name, str(old_cols[name].format),
                                  str(new_cols[name].format)))
    common = [n for n in old_cols if n in new_cols]
    old_rows = len(old) if old is not None else 0
    new_rows = len(new) if new is not None else 0
    if row_key:
        absent = [k for k in row_key if k not in common]
        if absent:
            raise DiffInputError(f"{where}: --row-key column(s) {', '.join(absent)} are not in "
                                 f"both tables (columns: {', '.join(common)})")
        before = _row_keys(old, row_key, labels[0]) if old_rows else {}
        after = _row_keys(new, row_key, labels[1]) if new_rows else {}
        pairs = [(before.get(k), after.get(k), k) for k in [*before, *(k for k in after
                                                                       if k not in before)]]
    else:
        pairs = [(i if i < old_rows else None, i if i < new_rows else None, i)
                 for i in range(max(old_rows, new_rows))]
    shown = 0
    hidden = 0
    for i, j, key in pairs:
        label = str(key) if not row_key else \
            ", ".join(f"{n}={v!r}" for n, v in zip(row_key, key, strict=True))
        change: FileChange | None = None
        if i is None:
            change = FileChange(where, "row", "added", label, new={n: _cell(new[n][j])
                                                                 for n in new_cols})
        elif j is None:
            change = FileChange(where, "row", "deleted", label, old={n: _cell(old[n][i])
                                                                   for n in old_cols})
        else:
            cells = {n: (_cell(old[n][i]), _cell(new[n][j])) for n in common}
            differing = {n: v for n, v in cells.items() if not _same_cell(*v)}
            if differing:
                text = ", ".join(f"{n} {_short(a)} -> {_short(b)}"
                                 for n, (a, b) in differing.items())
                change = FileChange(where, "row", "changed", label,
                                    {n: a for n, (a, _) in differing.items()},
                                    {n: b for n, (_, b) in differing.items()}, {"text": text})
        if change is None:
            continue
        if shown < limit:
            out.append(change)
            shown += 1
        else:
            hidden += 1
    if hidden:
        out.append(FileChange(where, "row", "changed", None, detail={
            "more": hidden, "text": f"... and {hidden} more differing rows (raise --limit)"}))


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"<array {value.shape}>"
    return repr(value)


def _diff_fits(old: Path, new: Path, row_key: Sequence[str], limit: int) -> list[FileChange]:
    from astropy.io import fits

    out: list[FileChange] = []
    try:
        with fits.open(old) as before, fits.open(new) as after:
            for index in range(max(len(before), len(after))):
                if index >= len(after):
                    out.append(FileChange(_hdu_label(index, before[index]), "hdu", "deleted",
                                          old=type(before[index]).__name__))
                    continue
                if index >= len(before):
                    out.append(FileChange(_hdu_label(index, after[index]), "hdu", "added",
                                          new=type(after[index]).__name__))
                    continue
                a, b = before[index], after[index]
                where = _hdu_label(index, b)
                if a.name != b.name or type(a) is not type(b):
                    out.append(FileChange(where, "hdu", "changed", None,
                                          f"{type(a).__name__} {a.name!r}",
                                          f"{type(b).__name__} {b.name!r}"))
                _diff_header(where, a.header, b.header, out)
                if isinstance(a, (fits.BinTableHDU, fits.TableHDU)) and \
                        isinstance(b, (fits.BinTableHDU, fits.TableHDU)):
                    _diff_table(where, a.data, b.data, row_key, limit, out,
                                (f"{old} {where}", f"{new} {where}"))
                elif not isinstance(a, (fits.BinTableHDU, fits.TableHDU)) and \
                        not isinstance(b, (fits.BinTableHDU, fits.TableHDU)):
                    _diff_image(where, a.data, b.data, out)
    except OSError as exc:
        raise DiffInputError(f"cannot read FITS file {old} or {new}: {exc}") from exc
    return out


def _diff_image(where: str, old: Any, new: Any, out: list[FileChange]) -> None:
    if old is None and new is None:
        return
    if old is None or new is None:
        out.append(FileChange(where, "data", "added" if old is None else "deleted",
                              old=None if old is None else f"array {old.shape}",
                              new=None if new is None else f"array {new.shape}"))
        return
    found = compare_arrays(old, new)
    if found:
        out.append(FileChange(where, "data", "changed", None, detail={
            **found, "text": _array_text(found, "pixels")}))


# -- key-path trees (JSON, YAML, TOML, ASDF) ----------------------------------------------------
def _load_tree(path: Path, kind: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DiffInputError(f"{path}: not UTF-8 text ({exc})") from exc
    try:
        if kind == "json":
            return json.loads(text)
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
                **found, "text": _array_text(found)}))
    elif isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            if index >= len(new):
                out.append(FileChange(_child(path, index), "value", "deleted", old=old[index]))
            elif index >= len(old):
                out.append(FileChange(_child(path, index), "value", "added", new=new[index]))
            else:
                _diff_tree(old[index], new[index], _child(path, index), out)
    elif not _same_scalar(old, new):
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
        return _diff_fits(old, new, row_key, limit)
    if kind == "bytes":
        return _diff_bytes(old, new)
    out: list[FileChange] = []
    if kind == "asdf":
        _diff_tree(_load_asdf(old), _load_asdf(new), "", out)
    else:
        _diff_tree(_load_tree(old, kind), _load_tree(new, kind), "", out)
    return out
