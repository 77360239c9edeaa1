"""best_references_many gives, row by row, exactly what best_references gives (no timing here)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.rules import set_sha1sum

_PMAP = """header = {
    'derived_from' : 'generated',
    'mapping' : 'PIPELINE',
    'name' : 'tobs_0001.pmap',
    'observatory' : 'TOBS',
    'parkey' : ('INSTRUME',),
    'sha1sum' : '',
}

selector = {
    'MSC' : 'tobs_msc_0001.imap',
    'MCI' : 'tobs_mci_0001.imap',
    'HSTDM' : 'N/A',
}
"""

_IMAP = """header = {{
    'derived_from' : 'generated',
    'instrument' : '{instrument}',
    'mapping' : 'INSTRUMENT',
    'name' : 'tobs_{lower}_0001.imap',
    'observatory' : 'TOBS',
    'parkey' : ('REFTYPE',),
    'sha1sum' : '',
}}

selector = {{
{entries}}}
"""

_RMAP = """header = {{
    'derived_from' : 'generated',
    'filekind' : '{filekind}',
    'instrument' : '{instrument}',
    'mapping' : 'REFERENCE',
    'name' : '{name}',
    'observatory' : 'TOBS',
    'parkey' : {parkey},
    'sha1sum' : '',{extra}
}}

selector = {selector}
"""

_BIAS = """Match({
    ('01', 'F1') : UseAfter({
        '2020-01-01 00:00:00' : 'bias_01_f1_a.fits',
        '2020-06-01 12:00:00' : 'bias_01_f1_b.fits',
        '2021-01-01 00:00:00' : 'N/A',
        '2021-06-01 00:00:00' : 'OMIT',
        '2022-01-01 00:00:00' : 'bias_01_f1_c.fits',
    }),
    ('01', '*') : UseAfter({
        '2019-01-01 00:00:00' : 'bias_01_any.fits',
    }),
    ('02', 'F1|F2') : UseAfter({
        '2020-03-01 00:00:00' : 'bias_02_f12.fits',
        '2020-03-01 00:00:01' : 'bias_02_f12_b.fits',
    }),
    ('02', 'F2') : UseAfter({
        '2020-03-01 00:00:00' : 'bias_02_f2_tie.fits',
        '2020-09-01 00:00:00' : 'bias_02_f2.fits',
    }),
    ('03', 'N/A') : UseAfter({
        '2020-01-01 00:00:00' : 'bias_03.fits',
        '2020-01-01 00:00:00.5' : 'bias_03_frac.fits',
    }),
    ('04', 'F1') : UseAfter({
        '2020-01-01' : 'bias_04_dateonly.fits',
        '2020-05-01 00:00:00' : 'bias_04.fits',
    }),
    ('05', 'F1') : 'bias_05_plain.fits',
    ('05', '*') : 'bias_05_any.fits',
    ('1.0', 'F3') : UseAfter({
        '2020-01-01 00:00:00' : 'bias_num.fits',
    }),
})"""

_DARK = """UseAfter({
    '2020-01-01 00:00:00' : 'dark_a.fits',
    '2020-02-29 23:59:59' : 'dark_b.fits',
    '2024-02-29 00:00:00' : 'dark_c.fits',
})"""

_FLAT = """Match({
    ('01',) : UseAfter({
        '2020-01-01 00:00:00' : 'flat_01.fits',
    }),
    ('02',) : UseAfter({
        '2020-01-01 00:00:00' : 'flat_02.fits',
    }),
})"""

_MCI_BIAS = """Match({
    ('C1',) : UseAfter({
        '2020-01-01 00:00:00' : 'mci_bias.fits',
    }),
})"""


def _write(root: Path, name: str, text: str) -> None:
    path = root / "mappings" / "tobs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(set_sha1sum(text), encoding="utf-8")


def _rmap(root: Path, instrument: str, filekind: str, parkey: str, selector: str,
          extra: str = "") -> str:
    name = f"tobs_{instrument.lower()}_{filekind}_0001.rmap"
    _write(root, name, _RMAP.format(filekind=filekind.upper(), instrument=instrument,
                                    name=name, parkey=parkey, selector=selector, extra=extra))
    return name


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> ReferenceProvider:
    root = tmp_path_factory.mktemp("bulk") / "cache"
    _write(root, "tobs_0001.pmap", _PMAP)
    msc = {
        "bias": _rmap(root, "MSC", "bias", "(('DETECTOR', 'FILTER'), ('DATE-OBS', 'TIME-OBS'))",
                      _BIAS),
        "dark": _rmap(root, "MSC", "dark", "(('DATE-OBS', 'TIME-OBS'),)", _DARK),
        "flat": _rmap(root, "MSC", "flat", "(('DETECTOR',), ('DATE-OBS', 'TIME-OBS'))", _FLAT,
                      "\n    'rmap_relevance' : '(FILTER != \"F3\")',"),
        "shutter": _rmap(root, "MSC", "shutter", "(('META.OBS.DATETIME',),)",
                         _DARK.replace("dark", "shutter"), "\n    'reffile_required' : 'NO',"),
        "linearity": "N/A",
        "crosstalk": "OMIT",
    }
    entries = "".join(f"    '{k}' : '{v}',\n" for k, v in msc.items())
    _write(root, "tobs_msc_0001.imap", _IMAP.format(instrument="MSC", lower="msc",
                                                    entries=entries))
    mci = _rmap(root, "MCI", "bias", "(('DETECTOR',), ('DATE-OBS', 'TIME-OBS'))", _MCI_BIAS)
    _write(root, "tobs_mci_0001.imap", _IMAP.format(instrument="MCI", lower="mci",
                                                    entries=f"    'bias' : '{mci}',\n"))
    return ReferenceProvider(cache=root, context="tobs_0001.pmap")


_DATES = [
    "2019-06-01", "2020-01-01", "2020-02-29", "2020-03-01", "2020-06-01", "2021-01-01",
    "2021-06-01", "2022-01-01", "2023-02-29", "2024-02-29", "2020-13-01", "2020/05/01",
    "Jan 01 2021", "2020-01-01T00:00:00", "", "UNDEFINED", "N/A", "0000-01-01",
]
_TIMES = [
    "00:00:00", "12:00:00", "00:00:00.5", "00:00:00.000000", "00:00:01", "23:59:59",
    "23:59:59.999999", "00:00:00.000004", "24:00:00", "1:02:03", "12:00", "00:00:60",
    "05:06:07.1234567", "", " 10:00:00 ", "UNDEFINED",
]
_DETECTORS = ["01", "02", "03", "04", "05", "1", "01 ", "99", "*", "N/A", "C1", 1, 2.0, "ANY"]
_FILTERS = ["F1", "F2", "F3", "f1", "*", "N/A", "F9", "", True]
_INSTRUMENTS = ["MSC", "msc", "MCI", "HSTDM", "XYZ", "", "UNDEFINED"]


def _random_rows(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        clean = rng.random() < 0.5  # half the rows take the vectorised path
        row: dict[str, Any] = {
            "INSTRUME": rng.choice(_INSTRUMENTS) if rng.random() < 0.2 else "MSC",
            "DETECTOR": rng.choice(_DETECTORS[:6] if clean else _DETECTORS),
            "FILTER": rng.choice(_FILTERS[:2] if clean else _FILTERS),
            "DATE-OBS": rng.choice(_DATES[:10] if clean else _DATES),
            "TIME-OBS": rng.choice(_TIMES[:8] if clean else _TIMES),
        }
        row["META.OBS.DATETIME"] = rng.choice(
            [f"{row['DATE-OBS']}T{row['TIME-OBS']}", f"{row['DATE-OBS']} {row['TIME-OBS']}"])
        for key in list(row):
            if rng.random() < 0.04:
                del row[key]  # missing keys
            elif rng.random() < 0.02:
                row[key] = None  # dropped values
        rows.append(row)
    return rows


def _outcome(call: Any) -> Any:
    try:
        result = call()
    except Exception as exc:  # noqa: BLE001 (the exception is the outcome compared)
        return ("raises", type(exc), str(exc))
    return {
        reftype: (s.reftype, s.value, s.rmap,
                  None if s.error is None else (type(s.error), str(s.error)))
        for reftype, s in result.items()
    }


def _check(provider: ReferenceProvider, rows: list[dict[str, Any]], bulk: Any,
           reftypes: list[str] | None) -> None:
    assert len(bulk) == len(rows)
    for index, row in enumerate(rows):
        expected = _outcome(lambda row=row: provider.best_references(row, reftypes,
                                                                    errors="collect"))
        got = _outcome(lambda index=index: bulk.row(index))
        assert got == expected, (index, row)
        if isinstance(expected, dict):
            assert list(got) == list(expected)


@pytest.mark.parametrize("reftypes", [
    None,
    ["bias"],
    ["bias", "dark", "flat", "shutter", "linearity", "crosstalk", "nosuch"],
    ["BIAS", "bias"],
])
def test_rows_input_matches_single_lookups(provider: ReferenceProvider,
                                           reftypes: list[str] | None) -> None:
    rows = _random_rows(1500, seed=len(reftypes or ()))
    _check(provider, rows, provider.best_references_many(rows, reftypes), reftypes)


def test_column_input_matches_single_lookups(provider: ReferenceProvider) -> None:
    rows = _random_rows(1500, seed=11)
    keys = ["INSTRUME", "DETECTOR", "FILTER", "DATE-OBS", "TIME-OBS", "META.OBS.DATETIME"]
    columns = {key: [row.get(key) for row in rows] for key in keys}
    reftypes = ["bias", "dark", "flat", "shutter"]
    bulk = provider.best_references_many(columns, reftypes)
    as_rows = [{key: columns[key][i] for key in keys} for i in range(len(rows))]
    _check(provider, as_rows, bulk, reftypes)


def test_numpy_columns_and_values(provider: ReferenceProvider) -> None:
    rng = random.Random(5)
    count = 3000
    columns = {
        "INSTRUME": np.array(["MSC"] * count),
        "DETECTOR": np.array([rng.choice(["01", "02", "03", "05"]) for _ in range(count)]),
        "FILTER": np.array([rng.choice(["F1", "F2"]) for _ in range(count)]),
        "DATE-OBS": np.array([rng.choice(_DATES[:10]) for _ in range(count)]),
        "TIME-OBS": np.array([rng.choice(_TIMES[:8]) for _ in range(count)]),
        "EXPTIME": np.arange(count),  # integers: read as Python ints
    }
    bulk = provider.best_references_many(columns, ["bias", "dark"])
    as_rows = [{key: values.tolist()[i] for key, values in columns.items()}
               for i in range(count)]
    _check(provider, as_rows, bulk, ["bias", "dark"])
    values = bulk.values("bias")
    for index in range(count):
        selection = bulk.row(index).get("bias")
        expected = None if selection is None else (selection.error or selection.value)
        assert values[index] is expected or values[index] == expected


def test_duplicate_column_names_and_empty_input(provider: ReferenceProvider) -> None:
    columns = {"detector": ["01", "02"], "DETECTOR": ["02", None], "INSTRUME": ["MSC", "MSC"],
               "FILTER": ["F1", "F2"], "DATE-OBS": ["2021-02-01", "2021-02-01"],
               "TIME-OBS": ["00:00:00", "00:00:00"]}
    bulk = provider.best_references_many(columns, ["bias"])
    rows = [{key: values[i] for key, values in columns.items()} for i in range(2)]
    _check(provider, rows, bulk, ["bias"])
    assert len(provider.best_references_many([], ["bias"])) == 0
    with pytest.raises(ValueError, match="differ in length"):
        provider.best_references_many({"INSTRUME": ["MSC"], "DETECTOR": []}, ["bias"])
