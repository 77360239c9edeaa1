"""FITS references compared HDU by HDU: header keywords, image data, table columns and rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from csst_crds_plugin.tools.diffing.changes import (
    FileChange,
    array_text,
    compare_arrays,
    jsonable,
    same_scalar,
)
from csst_crds_plugin.tools.diffing.rules import DiffInputError

__all__ = ["diff_fits"]


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
            same_scalar(x, y) for x, y in zip(before[key], after[key], strict=True)
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
    return same_scalar(a, b)


def _row_keys(data: Any, names: Sequence[str], label: str) -> dict[tuple[Any, ...], int]:
    keys: dict[tuple[Any, ...], int] = {}
    for row in range(len(data)):
        key = tuple(jsonable(_cell(data[name][row])) for name in names)
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
    pairs: list[tuple[int | None, int | None, Any]]  # old row, new row, row number or key tuple
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


def diff_fits(old: Path, new: Path, row_key: Sequence[str], limit: int) -> list[FileChange]:
    """Compare two FITS files HDU by HDU: headers, tables and images."""
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
            **found, "text": array_text(found, "pixels")}))
