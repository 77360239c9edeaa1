"""Catalogues: JSONL, CSV and Parquet read to the same rows; errors name the file and line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from csst_crds_plugin.tools.affected import Catalog, CatalogError, read_catalog, write_catalog
from csst_crds_plugin.tools.affected.catalog_io import catalog_parts

ROWS = [
    {"id": "a", "INSTRUME": "MSC", "DETECTOR": "06", "EXPTIME": 150, "FLAG": True},
    {"id": "b", "INSTRUME": "MSC", "DETECTOR": "08", "EXPTIME": 30.5},
    {"id": "c", "INSTRUME": "MCI", "DETECTOR": "C1", "EXPTIME": None, "FLAG": False},
]
# the text of each value (str(value)); None and absent keys are missing
EXPECTED = [
    {"INSTRUME": "MSC", "DETECTOR": "06", "EXPTIME": "150", "FLAG": "True"},
    {"INSTRUME": "MSC", "DETECTOR": "08", "EXPTIME": "30.5"},
    {"INSTRUME": "MCI", "DETECTOR": "C1", "FLAG": "False"},
]


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_flat_rows_and_bestrefs_cases(tmp_path: Path) -> None:
    flat = read_catalog(_jsonl(tmp_path / "flat.jsonl", ROWS))
    cases = [{"id": r["id"], "parameters": {k: v for k, v in r.items() if k != "id"}}
             for r in ROWS]
    nested = read_catalog(_jsonl(tmp_path / "cases.jsonl", cases))
    for catalog in (flat, nested):
        assert [catalog.row(i) for i in range(3)] == EXPECTED
        assert [catalog.id_of(i) for i in range(3)] == ["a", "b", "c"]
        assert catalog.find("b") == 1


def test_csv_empty_cell_is_missing_and_ids_default_to_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("INSTRUME,DETECTOR,EXPTIME\nMSC,06,150\nMSC,,30.5\n", encoding="utf-8")
    catalog = read_catalog(path)
    assert catalog.row(1) == {"INSTRUME": "MSC", "EXPTIME": "30.5"}
    assert [catalog.id_of(i) for i in range(2)] == [1, 2] and catalog.find(2) == 1


def test_parquet_round_trip_keeps_rows_ids_and_parts(tmp_path: Path) -> None:
    rows = [{**row, "id": f"{row['id']}{n}"} for n in range(4) for row in ROWS]
    catalog = read_catalog(_jsonl(tmp_path / "r.jsonl", rows))
    path = tmp_path / "r.parquet"
    write_catalog(catalog, path, row_group_rows=5)
    back = read_catalog(path)
    assert [back.row(i) for i in range(12)] == EXPECTED * 4
    assert [back.id_of(i) for i in range(3)] == ["a0", "b0", "c0"]
    parts = catalog_parts(path, rows_per_part=5)
    assert [(p.start, p.count) for p in parts] == [(0, 5), (5, 5), (10, 2)]
    assert parts[2].load().row(1) == EXPECTED[2] and parts[2].load().id_of(1) == "c3"


def test_parquet_with_typed_columns(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "typed.parquet"
    pq.write_table(pa.table({"DETECTOR": ["06", None], "EXPTIME": [150.0, 2.5],
                             "NEXP": pa.array([1, None], pa.int64())}), path)
    catalog = read_catalog(path)
    assert [catalog.row(i) for i in range(2)] == [
        {"DETECTOR": "06", "EXPTIME": "150.0", "NEXP": "1"}, {"EXPTIME": "2.5"}]


@pytest.mark.parametrize(("text", "message"), [
    ('{"A": 1}\nnot json\n', "bad.jsonl:2: not a JSON object"),
    ('{"A": [1, 2]}\n', "bad.jsonl:1: the value of 'A' is a list"),
    ('{"id": 1, "A": 1}\n{"A": 2}\n', "bad.jsonl:2: lacks an 'id' field"),
    ('[1, 2]\n', "bad.jsonl:1: expected a JSON object"),
])
def test_jsonl_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        read_catalog(path)


def test_other_errors_say_what_to_do(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("A,B\n1,2\n3\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"bad.csv:3: 1 fields, but the header has 2"):
        read_catalog(bad)
    with pytest.raises(CatalogError, match="unknown catalogue format; use a .jsonl"):
        read_catalog(tmp_path / "x.txt")
    with pytest.raises(CatalogError, match="differ only in case"):
        Catalog.from_rows([{"DATE-OBS": "x", "date-obs": "y"}])
    not_parquet = tmp_path / "x.parquet"
    not_parquet.write_text("hello", encoding="utf-8")
    with pytest.raises(CatalogError, match="not a readable Parquet file"):
        read_catalog(not_parquet)


def test_columns_are_small_codes_and_slices_share_them() -> None:
    rows = [{"DETECTOR": f"{i % 30 + 1:02d}", "TIME-OBS": f"{i:06d}"} for i in range(40_000)]
    catalog = Catalog.from_rows(rows)
    assert catalog.columns["DETECTOR"].codes.dtype == np.int8
    assert catalog.columns["TIME-OBS"].codes.dtype == np.int32
    part = catalog.slice(30_000, 40_000)
    assert part.row(5) == rows[30_005] and part.id_of(5) == 30_006
    assert np.shares_memory(part.columns["DETECTOR"].codes, catalog.columns["DETECTOR"].codes)
    joined = Catalog.concat([catalog.slice(0, 10), Catalog.from_rows([{"OTHER": "x"}])])
    assert joined.row(10) == {"OTHER": "x"} and joined.row(3) == rows[3]
