"""``csst-crds diff`` on reference files: FITS headers, images and tables; key-path formats."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import asdf
import numpy as np
import pytest
from astropy.io import fits

from csst_crds_plugin.cli.main import main
from csst_crds_plugin.tools.diffing import FileChange, diff_reference_files


def _fits(path: Path, *, useafter: str = "2027-01-01T00:00:00", extra: dict | None = None,
          sci: np.ndarray | None = None, gains: list[tuple[str, float]] | None = None,
          dq: bool = False) -> Path:
    header = fits.Header({"TELESCOP": "CSST", "INSTRUME": "MSC", "REFTYPE": "BIAS",
                          "DETECTOR": "06", "USEAFTER": useafter})
    for key, value in (extra or {}).items():
        if value is None:
            del header[key]
        else:
            header[key] = value
    hdus: list = [fits.PrimaryHDU(header=header),
                  fits.ImageHDU(np.zeros((4, 4), np.float32) if sci is None else sci, name="SCI")]
    rows = gains if gains is not None else [("A", 1.0), ("B", 2.0), ("C", 3.0)]
    hdus.append(fits.BinTableHDU.from_columns([
        fits.Column("AMP", "1A", array=np.array([r[0] for r in rows])),
        fits.Column("GAIN", "E", array=np.array([r[1] for r in rows], np.float32)),
    ], name="GAINS"))
    if dq:
        hdus.append(fits.ImageHDU(np.zeros((4, 4), np.uint8), name="DQ"))
    fits.HDUList(hdus).writeto(path)
    return path


def _by(changes: list[FileChange], what: str) -> list[tuple[object, ...]]:
    return [(c.where, c.action, c.key, c.old, c.new) for c in changes if c.what == what]


def test_fits_header_keywords_per_hdu(tmp_path: Path) -> None:
    old = _fits(tmp_path / "a.fits")
    new = _fits(tmp_path / "b.fits", useafter="2027-01-02T00:00:00",
                extra={"R_BIAS": "csst_msc_bias_0001.fits", "DETECTOR": None})
    assert _by(diff_reference_files(old, new), "keyword") == [
        ("HDU 0 (PRIMARY)", "deleted", "DETECTOR", "06", None),
        ("HDU 0 (PRIMARY)", "changed", "USEAFTER", "2027-01-01T00:00:00", "2027-01-02T00:00:00"),
        ("HDU 0 (PRIMARY)", "added", "R_BIAS", None, "csst_msc_bias_0001.fits"),
    ]


def test_fits_image_data_counts_and_max_difference(tmp_path: Path) -> None:
    sci = np.zeros((4, 4), np.float32)
    sci[1, 1], sci[2, 3], sci[0, 0] = 0.5, -1.5, np.nan
    before = np.zeros((4, 4), np.float32)
    before[0, 0] = np.nan                       # NaN in both: not a difference
    old = _fits(tmp_path / "a.fits", sci=before)
    new = _fits(tmp_path / "b.fits", sci=sci)
    (data,) = [c for c in diff_reference_files(old, new) if c.what == "data"]
    assert data.where == "HDU 1 (SCI)"
    assert (data.detail["differing"], data.detail["total"]) == (2, 16)
    assert data.detail["max_abs_diff"] == 1.5
    assert str(data) == "HDU 1 (SCI): data: 2 of 16 pixels differ, max abs difference 1.5"


def test_fits_shape_dtype_and_hdu_added(tmp_path: Path) -> None:
    old = _fits(tmp_path / "a.fits")
    new = _fits(tmp_path / "b.fits", sci=np.zeros((4, 5), np.float64), dq=True)
    changes = diff_reference_files(old, new)
    (data,) = [c for c in changes if c.what == "data"]
    assert data.detail["shape"] == ([4, 4], [4, 5])
    assert data.detail["dtype"] == ("float32", "float64")
    assert _by(changes, "hdu") == [("HDU 3 (DQ)", "added", None, None, "ImageHDU")]
    # the structural keywords say the same in the SCI header
    assert ("HDU 1 (SCI)", "changed", "BITPIX", -32, -64) in _by(changes, "keyword")


def test_fits_table_rows_by_position_and_by_key(tmp_path: Path) -> None:
    old = _fits(tmp_path / "a.fits")
    new = _fits(tmp_path / "b.fits", gains=[("A", 1.0), ("C", 3.5), ("D", 4.0)])
    by_position = _by(diff_reference_files(old, new), "row")
    assert by_position == [
        ("HDU 2 (GAINS)", "changed", "1", {"AMP": "B", "GAIN": 2.0}, {"AMP": "C", "GAIN": 3.5}),
        ("HDU 2 (GAINS)", "changed", "2", {"AMP": "C", "GAIN": 3.0}, {"AMP": "D", "GAIN": 4.0}),
    ]
    by_key = _by(diff_reference_files(old, new, row_key=["AMP"]), "row")
    assert by_key == [
        ("HDU 2 (GAINS)", "deleted", "AMP='B'", {"AMP": "B", "GAIN": 2.0}, None),
        ("HDU 2 (GAINS)", "changed", "AMP='C'", {"GAIN": 3.0}, {"GAIN": 3.5}),
        ("HDU 2 (GAINS)", "added", "AMP='D'", None, {"AMP": "D", "GAIN": 4.0}),
    ]
    limited = _by(diff_reference_files(old, new, limit=1), "row")
    assert len(limited) == 2 and limited[1][2] is None   # one row, then "... and 1 more"


def test_fits_cli_text_json_and_identical(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    old = _fits(tmp_path / "a.fits")
    new = _fits(tmp_path / "b.fits", gains=[("A", 1.0), ("B", 2.5), ("C", 3.0)])
    assert main(["diff", str(old), str(new), "--row-key", "AMP"]) == 1
    assert capsys.readouterr().out.splitlines() == ["HDU 2 (GAINS): row AMP='B': GAIN 2.0 -> 2.5"]
    assert main(["diff", str(old), str(new), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "reference" and data["differences"][0]["type"] == "row"
    assert main(["diff", str(old), str(_fits(tmp_path / "c.fits"))]) == 0
    assert main(["diff", str(old), str(new), "--row-key", "NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err


@pytest.mark.parametrize(("suffix", "old_text", "new_text"), [
    (".json", '{"matrix": [[1, 0], [0, 1]], "detector": "06", "gain": 1.5}',
     '{"matrix": [[1, 0.02], [0, 1]], "gain": 1.5, "amps": 16}'),
    (".yaml", "matrix:\n- [1, 0]\n- [0, 1]\ndetector: '06'\ngain: 1.5\n",
     "matrix:\n- [1, 0.02]\n- [0, 1]\ngain: 1.5\namps: 16\n"),
    (".toml", 'detector = "06"\ngain = 1.5\nmatrix = [[1, 0], [0, 1]]\n',
     'gain = 1.5\nmatrix = [[1, 0.02], [0, 1]]\namps = 16\n'),
])
def test_structured_files_by_key_path(tmp_path: Path, suffix: str, old_text: str,
                                      new_text: str) -> None:
    old, new = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    old.write_text(old_text)
    new.write_text(new_text)
    found = {(c.where, c.action, c.old, c.new) for c in diff_reference_files(old, new)}
    assert found == {("matrix[0][1]", "changed", 0, 0.02), ("detector", "deleted", "06", None),
                     ("amps", "added", None, 16)}


def test_structured_parse_error_names_file_and_line(tmp_path: Path) -> None:
    good, bad = tmp_path / "a.json", tmp_path / "b.json"
    good.write_text("{}")
    bad.write_text('{\n  "a": 1,\n  oops\n}')
    with pytest.raises(ValueError, match=r"b\.json:3: not valid JSON"):
        diff_reference_files(good, bad)


def test_asdf_tree_and_arrays(tmp_path: Path) -> None:
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    asdf.AsdfFile({"meta": {"reftype": "ARC", "useafter": "2027-01-01T00:00:00"},
                   "data": data}).write_to(tmp_path / "a.asdf")
    changed = data.copy()
    changed[1, 2] += 0.25
    asdf.AsdfFile({"meta": {"reftype": "ARC", "useafter": "2027-01-02T00:00:00"},
                   "data": changed}).write_to(tmp_path / "b.asdf")
    found = diff_reference_files(tmp_path / "a.asdf", tmp_path / "b.asdf")
    assert sorted((c.where, c.action) for c in found) == [("data", "changed"),
                                                         ("meta.useafter", "changed")]
    (array,) = [c for c in found if c.where == "data"]
    assert (array.detail["differing"], array.detail["max_abs_diff"]) == (1, 0.25)


class _Boom:
    """Unpickling this calls os.abort-like code: the diff must never unpickle."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (_explode, ("unpickled!",))


def _explode(message: str) -> None:
    raise AssertionError(message)


def test_pickles_compared_as_bytes_never_loaded(tmp_path: Path) -> None:
    old, new = tmp_path / "a.pkl", tmp_path / "b.pkl"
    old.write_bytes(pickle.dumps(_Boom()))
    new.write_bytes(pickle.dumps([_Boom(), 1]))
    (change,) = diff_reference_files(old, new)
    assert change.what == "file" and "never opened" in str(change)
    assert change.detail["size"] == [old.stat().st_size, new.stat().st_size]
    assert diff_reference_files(old, old) == []


def test_different_formats_refused(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "a.toml").write_text("")
    with pytest.raises(ValueError, match="same format"):
        diff_reference_files(tmp_path / "a.json", tmp_path / "a.toml")
