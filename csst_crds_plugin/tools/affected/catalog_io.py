"""Reading and writing catalogues: JSONL, CSV and Parquet (with pyarrow, an optional extra).

* **JSONL**: one object per line, either flat (``{"id": ..., "INSTRUME": "MSC", ...}``) or a
  bestrefs case (``{"id": ..., "parameters": {...}}``). Values are strings, numbers, booleans
  or null (missing).
* **CSV**: a header line of column names; an empty cell is a missing value.
* **Parquet**: one column per parameter (any scalar type; nulls are missing). Its row groups
  are the natural partitions: parallel and Dask runs read them where they run.

The id column is ``id`` unless told otherwise; without one, a row's id is its number (from 1).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from csst_crds_plugin.cache.layout import atomic_open
from csst_crds_plugin.cache.safe_read import loads_json
from csst_crds_plugin.errors import InputLimitError
from csst_crds_plugin.tools.affected.catalog import (
    MISSING,
    Catalog,
    CatalogColumn,
    CatalogError,
    code_dtype,
    make_ids,
    value_text,
)

__all__ = [
    "FORMATS",
    "CatalogPart",
    "catalog_format",
    "catalog_parts",
    "check_unique_ids",
    "read_catalog",
    "require_pyarrow",
    "write_catalog",
]

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
           ".parquet": "parquet", ".pq": "parquet"}
ID_COLUMN = "id"
_BLOCK = 1 << 18  # rows per block while reading text formats


def catalog_format(path: str | Path, given: str | None = None) -> str:
    """Return the format of a catalogue file, from `given` or its extension."""
    if given:
        return given
    found = FORMATS.get(Path(path).suffix.lower())
    if found is None:
        raise CatalogError(f"{path}: unknown catalogue format; use a .jsonl, .csv or .parquet "
                           "file name, or give the format")
    return found


def require_pyarrow() -> Any:
    """Import pyarrow.parquet, or fail saying how to install it."""
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise CatalogError(
            "Parquet catalogues need pyarrow: pip install 'csst-crds-plugin[parquet]' "
            "(or use a .jsonl or .csv catalogue)"
        ) from exc
    return pq


def read_catalog(path: str | Path, fmt: str | None = None, id_column: str = ID_COLUMN,
                 problems: list[str] | None = None) -> Catalog:
    """Read a whole catalogue into memory.

    A JSONL line that is not an object of scalar values is a CatalogError naming the line, or,
    when `problems` is given, is skipped and described there. Missing (null or empty) and
    duplicate ids are always errors.
    """
    path = Path(path)
    fmt = catalog_format(path, fmt)
    if not path.is_file():
        raise CatalogError(f"{path}: no such catalogue file")
    if fmt == "parquet":
        parts = [part.load() for part in _parquet_parts(path, 1 << 62, id_column)]
        return Catalog.concat(parts, str(path)) if len(parts) != 1 else parts[0]
    if fmt == "jsonl":
        blocks = [_block_catalog(rows, ids, str(path))
                  for rows, ids in _jsonl_blocks(path, id_column, problems)]
    else:
        blocks = [_block_catalog(rows, ids, str(path)) for rows, ids in _csv_blocks(path,
                                                                                    id_column)]
    if not blocks:
        return Catalog({}, source=str(path))
    catalog = blocks[0] if len(blocks) == 1 else Catalog.concat(blocks, str(path))
    if catalog.ids is not None:
        check_unique_ids(catalog.ids, str(path))
    return catalog


def check_unique_ids(ids: np.ndarray, source: str) -> None:
    """Raise CatalogError naming the first id that occurs twice (ids compared as given)."""
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]
    same = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(same):
        first = int(same[0])
        rows = sorted([int(order[first]) + 1, int(order[first + 1]) + 1])
        raise CatalogError(f"{source}: the id {ordered[first].item()!r} is given to rows "
                           f"{rows[0]} and {rows[1]} (and {len(same) - 1} more repeats); "
                           "every dataset needs its own id")


def _block_catalog(rows: list[dict[str, str | None]], ids: list[object] | None,
                   source: str) -> Catalog:
    names = list(dict.fromkeys(k for row in rows for k in row))
    columns = {n: CatalogColumn.from_texts([row.get(n) for row in rows]) for n in names}
    return Catalog(columns, None if ids is None else make_ids(ids), count=len(rows),
                   source=source)


def _jsonl_row(line: str, where: str) -> dict[str, Any]:
    try:
        obj = loads_json(line, where)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{where}: not a JSON object: {exc.msg}") from exc
    except InputLimitError as exc:
        raise CatalogError(str(exc)) from exc
    if not isinstance(obj, dict):
        raise CatalogError(f"{where}: expected a JSON object of parameters")
    return obj


def _jsonl_blocks(path: Path, id_column: str, problems: list[str] | None = None
                  ) -> Iterator[tuple[list[dict[str, str | None]], list[object] | None]]:
    rows: list[dict[str, str | None]] = []
    ids: list[object] = []
    with_ids: bool | None = None
    with path.open(encoding="utf-8", errors="replace") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                obj = _jsonl_row(line, where)
                values = obj["parameters"] if isinstance(obj.get("parameters"), dict) else obj
                row = {k: value_text(v, where, k) for k, v in values.items() if k != id_column}
            except CatalogError as exc:
                if problems is None:
                    raise
                problems.append(str(exc))
                continue
            has_id = id_column in obj
            if with_ids is None:
                with_ids = has_id
            elif has_id != with_ids:
                raise CatalogError(f"{where}: {'has' if has_id else 'lacks'} an {id_column!r} "
                                   "field, unlike the first row; give every row an id or none")
            dataset = obj.pop(id_column, None)
            if has_id and (dataset is None or dataset == "" or
                           not isinstance(dataset, (int, str)) or isinstance(dataset, bool)):
                raise CatalogError(f"{where}: the id {dataset!r} is missing or not a string or "
                                   "an integer; every dataset needs its own id")
            rows.append(row)
            ids.append(dataset)
            if len(rows) >= _BLOCK:
                yield rows, ids if with_ids else None
                rows, ids = [], []
    if rows:
        yield rows, ids if with_ids else None


def _csv_blocks(path: Path, id_column: str
                ) -> Iterator[tuple[list[dict[str, str | None]], list[object] | None]]:
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader, None)
        if header is None:
            return
        if len(set(header)) != len(header) or "" in header:
            raise CatalogError(f"{path}:1: the header needs distinct, non-empty column names")
        id_at = header.index(id_column) if id_column in header else None
        names = [(i, n) for i, n in enumerate(header) if i != id_at]
        rows: list[dict[str, str | None]] = []
        ids: list[object] = []
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise CatalogError(f"{path}:{reader.line_num}: {len(row)} fields, but the "
                                   f"header has {len(header)}")
            rows.append({n: (row[i] if row[i] != "" else None) for i, n in names})
            if id_at is not None:
                if not row[id_at].strip():
                    raise CatalogError(f"{path}:{reader.line_num}: the {id_column!r} cell is "
                                       "empty; every dataset needs its own id")
                ids.append(row[id_at])
            if len(rows) >= _BLOCK:
                yield rows, ids if id_at is not None else None
                rows, ids = [], []
        if rows:
            yield rows, ids if id_at is not None else None


@dataclass(frozen=True)
class CatalogPart:
    """A partition of a catalogue: rows in memory, or row groups of a Parquet file.

    ``load()`` gives the rows as a Catalog whose ``start`` places them in the whole catalogue;
    a Parquet part is read where it is loaded (a worker of a process pool or a Dask cluster).
    """

    start: int
    count: int
    rows: Catalog | None = None
    path: str | None = None
    row_groups: tuple[int, ...] = ()
    id_column: str = ID_COLUMN

    def load(self) -> Catalog:
        """Return the rows of this part."""
        if self.rows is not None:
            return self.rows
        pq = require_pyarrow()
        table = pq.ParquetFile(self.path).read_row_groups(list(self.row_groups))
        return _arrow_catalog(table, self.start, self.id_column, str(self.path))


def catalog_parts(source: Catalog | str | Path, rows_per_part: int,
                  id_column: str = ID_COLUMN) -> list[CatalogPart]:
    """Split a catalogue (in memory, or a Parquet file read lazily) into parts."""
    if isinstance(source, Catalog):
        step = max(1, rows_per_part)
        return [CatalogPart(begin, min(step, len(source) - begin),
                            rows=source.slice(begin, begin + step))
                for begin in range(0, len(source), step)]
    return _parquet_parts(Path(source), rows_per_part, id_column)


def _parquet_parts(path: Path, rows_per_part: int, id_column: str) -> list[CatalogPart]:
    pq = require_pyarrow()
    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:  # pyarrow raises its own error types
        raise CatalogError(f"{path}: not a readable Parquet file: {exc}") from exc
    if id_column in meta.schema.names:  # ids are checked whole, before the parts are spread
        check_unique_ids(_arrow_ids(pq.read_table(path, columns=[id_column]).column(0),
                                    str(path)), str(path))
    parts: list[CatalogPart] = []
    groups: list[int] = []
    start = rows = 0
    for group in range(meta.num_row_groups):
        groups.append(group)
        rows += meta.row_group(group).num_rows
        if rows >= rows_per_part:
            parts.append(CatalogPart(start, rows, path=str(path), row_groups=tuple(groups),
                                     id_column=id_column))
            start, rows, groups = start + rows, 0, []
    if groups:
        parts.append(CatalogPart(start, rows, path=str(path), row_groups=tuple(groups),
                                 id_column=id_column))
    return parts


def _arrow_catalog(table: Any, start: int, id_column: str, source: str) -> Catalog:
    import pyarrow as pa
    import pyarrow.compute as pc

    columns: dict[str, CatalogColumn] = {}
    ids = None
    table = table.unify_dictionaries()
    for name in table.column_names:
        chunked = table.column(name)
        if name == id_column:
            ids = _arrow_ids(chunked, source)
            continue
        dictionary = pa.types.is_dictionary(chunked.type)
        kind = chunked.type.value_type if dictionary else chunked.type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)
                or pa.types.is_integer(kind) or pa.types.is_floating(kind)
                or pa.types.is_boolean(kind) or pa.types.is_null(kind)):
            raise CatalogError(f"{source}: column {name!r} has type {chunked.type}; catalogue "
                               "values must be strings, numbers, booleans or null")
        # a dictionary column (as catalog build writes) is already codes and values
        encoded = chunked.combine_chunks() if dictionary else \
            pc.dictionary_encode(chunked).combine_chunks()
        texts = [value_text(v, source, name) for v in encoded.dictionary.to_pylist()]
        codes = encoded.indices.fill_null(MISSING).to_numpy(zero_copy_only=False)
        # distinct values may share a text (1 and 1.0 do not; 'x' never twice): merge them
        unique: dict[str, int] = {}
        remap = np.array([unique.setdefault(t, len(unique)) for t in texts]  # type: ignore[arg-type]  # no nulls in a dictionary
                         + [MISSING], dtype=np.int64)
        merged = remap[codes.astype(np.int64)]
        columns[name] = CatalogColumn(merged.astype(code_dtype(len(unique))), list(unique))
    return Catalog(columns, ids, start=start, count=table.num_rows, source=source)


def _arrow_ids(chunked: Any, source: str) -> np.ndarray:
    import pyarrow as pa

    if chunked.null_count:
        raise CatalogError(f"{source}: the id column has {chunked.null_count} null ids")
    if pa.types.is_integer(chunked.type):
        return np.asarray(chunked.to_numpy(), dtype=np.int64)
    return np.asarray(chunked.to_numpy(zero_copy_only=False).astype(str))


def write_catalog(catalog: Catalog, path: str | Path, fmt: str | None = None,
                  row_group_rows: int = 1 << 20) -> None:
    """Write a catalogue atomically (temporary file, then rename)."""
    path = Path(path)
    fmt = catalog_format(path, fmt)
    if fmt == "parquet":
        pq = require_pyarrow()
        import pyarrow as pa

        ids = catalog.ids if catalog.ids is not None else \
            np.arange(catalog.start + 1, catalog.start + len(catalog) + 1, dtype=np.int64)
        arrays = {ID_COLUMN: pa.array(ids)}
        for name, column in catalog.columns.items():
            indices = pa.array(column.codes.astype(np.int32),
                               mask=column.codes == MISSING)
            arrays[name] = pa.DictionaryArray.from_arrays(indices, pa.array(column.values,
                                                                            pa.string()))
        table = pa.table(arrays)
        with atomic_open(path) as stream:
            pq.write_table(table, stream, row_group_size=row_group_rows)
        return
    with atomic_open(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        try:
            names = list(catalog.columns)
            if fmt == "csv":
                writer = csv.writer(text, lineterminator="\n")
                writer.writerow([ID_COLUMN, *names])
                for row in range(len(catalog)):
                    values = catalog.row(row)
                    writer.writerow([catalog.id_of(row), *(values.get(n, "") for n in names)])
            else:
                for row in range(len(catalog)):
                    line = {ID_COLUMN: catalog.id_of(row), **catalog.row(row)}
                    text.write(json.dumps(line) + "\n")
        finally:
            text.flush()
            text.detach()  # atomic_open closes (or discards) the file itself
