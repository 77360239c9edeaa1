"""certify of reference files: formats, keywords, the MSC chip → filter table, arrays, pickles."""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import datamodels
from csst_crds_plugin.tools.certify import CertifyReport, FileReport, certify_files


def one(report: CertifyReport) -> FileReport:
    """Return the report of the only file."""
    (file_report,) = report.files
    return file_report


def errors_about(report: CertifyReport, *words: str) -> list[str]:
    """Return the errors that contain every word."""
    return [m for m in one(report).errors if all(w in m for w in words)]


# -- formats that pass -----
def test_good_fits_reference_passes(write_fits) -> None:
    report = certify_files([write_fits()])
    assert report.ok, report.errors
    assert one(report).kind == "reference"
    assert report.to_dict()["ok"] is True and report.warnings == []


def test_good_asdf_reference_passes(write_asdf) -> None:
    report = certify_files([write_asdf()])
    assert report.ok, report.errors


@pytest.mark.parametrize("suffix", [".toml", ".json", ".yaml"])
def test_crosstalk_documents_pass(write_document, good_header, suffix: str) -> None:
    meta = {**good_header, "REFTYPE": "CROSSTALK", "FILTER": "N/A", "READMODE": "N/A"}
    path = write_document(f"csst_msc_crosstalk_0001{suffix}", meta,
                          coefficients=np.eye(16).tolist())
    report = certify_files([path])
    assert report.ok, report.errors


def test_yaml_arc_line_list_passes_and_needs_its_columns(write_document, good_header) -> None:
    meta = {**good_header, "INSTRUME": "IFS", "REFTYPE": "ARC", "DETECTOR": "IFS",
            "FILTER": "N/A", "READMODE": "N/A"}
    lines = [{"wavelength": 500.0, "intensity": 10.0, "species": "Ne"}]
    assert certify_files([write_document("csst_ifs_arc_0001.yaml", meta, lines=lines)]).ok
    broken = [{"wavelength": 500.0, "species": "Ne"}]
    report = certify_files([write_document("csst_ifs_arc_0002.yaml", meta, lines=broken)])
    assert errors_about(report, "LINES", "intensity")


@pytest.mark.parametrize("model, name", [
    ("BiasRefModel", "csst_msc_bias_0007.fits"),
    ("DarkRefModel", "csst_msc_dark_0007.asdf"),
    ("FlatRefModel", "csst_msc_flat_0007.fits"),
    ("MaskRefModel", "csst_msc_mask_0007.fits"),
    ("CrosstalkRefModel", "csst_msc_crosstalk_0007.toml"),
    ("ArcRefModel", "csst_ifs_arc_0007.yaml"),
])
def test_files_written_by_the_data_models_pass(tmp_path: Path, model: str, name: str) -> None:
    """The data models are an independent writer of the same conventions."""
    path = tmp_path / name
    instance = getattr(datamodels, model).create_fake_data(
        **({} if model in ("CrosstalkRefModel", "ArcRefModel") else {"shape": (4, 4)}))
    instance.save(str(path))
    report = certify_files([path])
    assert report.ok, report.errors


# -- the must-hold findings ----------------------------------------------------------------------
def test_filter_not_on_its_chip(write_fits) -> None:
    path = write_fits(DETECTOR="06", FILTER="g")
    report = certify_files([path])
    assert not report.ok
    (message,) = one(report).errors
    assert message.startswith(str(path))
    assert "FILTER='g'" in message and "DETECTOR='06'" in message and "carries y" in message


@pytest.mark.parametrize("chip, band", [("01", "GI"), ("12", "NUV"), ("14", "u"), ("23", "g"),
                                        ("27", "GU"), ("29", "GV"), ("15", "y")])
def test_every_chip_accepts_its_own_filter_and_no_other(write_fits, chip: str, band: str) -> None:
    """Pairs from CSST.md §1.1; the chip's band in other spellings passes too (case)."""
    assert certify_files([write_fits(DETECTOR=chip, FILTER=band)]).ok
    assert certify_files([write_fits("x.fits", DETECTOR=chip, FILTER=band.upper())]).ok
    other = "r" if band != "r" else "i"
    assert not certify_files([write_fits("y.fits", DETECTOR=chip, FILTER=other)]).ok


def test_filter_na_is_accepted_for_a_bias_but_not_for_a_flat(write_fits) -> None:
    assert certify_files([write_fits(FILTER="N/A")]).ok
    flat = write_fits("csst_msc_flat_0001.fits", REFTYPE="FLAT", FILTER="N/A",
                      R_BIAS="csst_msc_bias_0001.fits", R_DARK="csst_msc_dark_0001.fits")
    assert errors_about(certify_files([flat]), "FILTER", "may not be 'N/A'")


@pytest.mark.parametrize("value", [
    "2027-01-01", "2027/01/01T00:00:00", "2027-13-01T00:00:00", "2027-02-30T00:00:00",
    "2027-01-01 00:00:00", "01-01-2027T00:00:00", "2027-01-01T24:00:00", "2027-01-01T00:00",
    "2027-01-01T00:00:00Z", "2027-01-01T00:00:00.5", "yesterday", 20270101,
])
def test_malformed_useafter(write_fits, value: object) -> None:
    path = write_fits(USEAFTER=value)
    report = certify_files([path])
    (message,) = one(report).errors
    assert message.startswith(f"{path}: keyword USEAFTER={value!r}")


def test_missing_keywords_are_each_named(write_fits) -> None:
    path = write_fits(drop=("USEAFTER", "AUTHOR", "READMODE"))
    errors = one(certify_files([path])).errors
    assert len(errors) == 3
    for keyword in ("USEAFTER", "AUTHOR", "READMODE"):
        assert any(f"keyword {keyword} is required" in m and str(path) in m for m in errors)


@pytest.mark.parametrize("overrides, words", [
    ({"TELESCOP": "HST"}, ("TELESCOP='HST'", "CSST")),
    ({"INSTRUME": "WFC3"}, ("INSTRUME='WFC3'", "MSC")),
    ({"DETECTOR": "31"}, ("DETECTOR='31'", "allowed")),
    ({"DETECTOR": 6}, ("DETECTOR=6", "str")),
    ({"PEDIGREE": "MEASURED"}, ("PEDIGREE", "INFLIGHT")),
    ({"PEDIGREE": "INFLIGHT 2027-02-01 2027-01-01"}, ("PEDIGREE", "start after its end")),
    ({"DESCRIP": " "}, ("DESCRIP", "empty")),
    ({"NCOMBINE": 0}, ("NCOMBINE=0", "outside")),
])
def test_bad_keyword_values(write_fits, overrides: dict[str, Any], words: tuple[str, ...]) -> None:
    report = certify_files([write_fits(**overrides)])
    assert errors_about(report, *words), one(report).errors


def test_unconfirmed_lists_only_warn(write_fits) -> None:
    ifs = write_fits("csst_ifs_bias_0001.fits", INSTRUME="IFS", DETECTOR="BLUE", FILTER="N/A")
    mci = write_fits("csst_mci_bias_0001.fits", INSTRUME="MCI", DETECTOR="C1", FILTER="F999W")
    mode = write_fits("m.fits", READMODE="SLOW")
    report = certify_files([ifs, mci, mode])
    assert report.ok, report.errors
    assert ["DETECTOR='BLUE'" in m for m in report.files[0].warnings] == [True]
    assert ["FILTER='F999W'" in m for m in report.files[1].warnings] == [True]
    assert ["READMODE='SLOW'" in m for m in report.files[2].warnings] == [True]


def test_unknown_reftype_warns_but_passes(write_fits) -> None:
    report = certify_files([write_fits("n.fits", REFTYPE="FRINGE")])
    assert report.ok
    assert any("no constraints for MSC 'fringe'" in m for m in one(report).warnings)


def test_file_name_must_agree_with_the_header(write_fits) -> None:
    report = certify_files([write_fits("csst_msc_dark_0001.fits")])  # a BIAS header
    assert errors_about(report, "file name says REFTYPE DARK", "BIAS")


# -- dependencies -----
def test_dark_and_flat_must_name_their_inputs(write_fits) -> None:
    dark = write_fits("csst_msc_dark_0001.fits", REFTYPE="DARK")
    flat = write_fits("csst_msc_flat_0001.fits", REFTYPE="FLAT",
                      R_BIAS="csst_msc_bias_0001.fits")
    report = certify_files([dark, flat])
    assert [m for m in report.files[0].errors if "R_BIAS is required" in m]
    assert [m for m in report.files[1].errors if "R_DARK is required" in m]
    assert not [m for m in report.files[1].errors if "R_BIAS" in m]


@pytest.mark.parametrize("value, words", [
    ("csst_msc_dark_0003.fits", ("names a dark reference", "must name a bias")),
    ("csst_mci_bias_0003.fits", ("of MCI, not of MSC",)),
    ("../csst_msc_bias_0003.fits", ("plain file name",)),
    ("csst_msc_bias_0003", ("must name a reference file",)),
])
def test_dependency_names_are_checked(write_fits, value: str, words: tuple[str, ...]) -> None:
    dark = write_fits("csst_msc_dark_0001.fits", REFTYPE="DARK", R_BIAS=value)
    assert errors_about(certify_files([dark]), "R_BIAS", *words)


# -- arrays -----
@pytest.mark.parametrize("arrays, words", [
    ({"sci": np.array([[1.0, np.nan], [np.nan, 1.0]], np.float32),
      "err": np.zeros((2, 2), np.float32), "dq": np.zeros((2, 2), np.uint32)},
     ("array SCI", "2 NaN")),
    ({"err": np.full((4, 4), np.nan, np.float32)}, ("array ERR", "16 NaN")),
    ({"sci": np.ones((4, 4), np.int16)}, ("array SCI", "dtype int16")),
    ({"sci": np.ones((2, 4, 4), np.float32), "err": None, "dq": None},
     ("array SCI", "3 dimension")),
    ({"err": np.zeros((4, 5), np.float32)}, ("array ERR", "differs from SCI")),
    ({"sci": None}, ("array SCI is required",)),
    ({"dq": np.zeros((4, 4), np.float32)}, ("array DQ", "dtype float32")),
])
def test_array_constraints(write_fits, arrays: dict[str, Any], words: tuple[str, ...]) -> None:
    report = certify_files([write_fits(**arrays)])
    assert errors_about(report, *words), one(report).errors


def test_nan_in_asdf_data_and_crosstalk_shape(write_asdf, write_document, good_header) -> None:
    data = np.ones((4, 4), np.float32)
    data[0, 0] = np.nan
    assert errors_about(certify_files([write_asdf(data=data)]), "array SCI", "1 NaN")
    meta = {**good_header, "REFTYPE": "CROSSTALK", "FILTER": "N/A", "READMODE": "N/A"}
    short = write_document("csst_msc_crosstalk_0002.json", meta,
                           coefficients=np.eye(16)[:15].tolist())
    assert errors_about(certify_files([short]), "array COEFFS", "(15, 16) must be (16, 16)")


def test_format_not_allowed_for_the_type(write_document, good_header) -> None:
    path = write_document("csst_msc_bias_0001.yaml", good_header)
    assert errors_about(certify_files([path]), "MSC bias", "cannot be YAML")


# -- unreadable and unknown files -----
def test_unreadable_and_unknown_files_are_findings(tmp_path: Path) -> None:
    garbage = tmp_path / "csst_msc_bias_0001.fits"
    garbage.write_bytes(b"not a FITS file at all")
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    listing = tmp_path / "list.json"
    listing.write_text("[1, 2]", encoding="utf-8")
    report = certify_files([garbage, text, listing])
    assert "cannot be read as FITS" in report.files[0].errors[0]
    assert "unknown reference format '.txt'" in report.files[1].errors[0]
    assert "cannot be read as JSON" in report.files[2].errors[0]


# -- pickles -----
class _Payload:
    """Unpickling this creates a directory: proof that a pickle was (not) loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.marker),))


@pytest.mark.parametrize("suffix", [".pkl", ".pickle", ".pth"])
def test_pickle_refused_unless_allowed(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"csst_msc_crmodel_0001{suffix}"
    path.write_bytes(pickle.dumps({"weights": [1, 2]}, protocol=4))
    refused = certify_files([path])
    (message,) = one(refused).errors
    assert message.startswith(str(path)) and "pickle" in message and "--allow-pickle" in message
    allowed = certify_files([path], allow_pickle=True)
    assert allowed.ok, allowed.errors
    assert any("cannot be checked without unpickling" in m for m in one(allowed).warnings)


def test_pickle_is_never_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    data = pickle.dumps(_Payload(marker), protocol=2)
    path = tmp_path / "csst_msc_crmodel_0002.pkl"
    path.write_bytes(data)
    assert certify_files([path], allow_pickle=True).ok
    assert certify_files([path]).files[0].errors
    assert not marker.exists()
    pickle.loads(data)  # noqa: S301 (our own payload: proves it would have acted)
    assert marker.is_dir()


def test_pickle_checks_by_magic_and_type(tmp_path: Path) -> None:
    fake = tmp_path / "csst_msc_crmodel_0003.pkl"
    fake.write_bytes(b"SIMPLE  = T")
    empty = tmp_path / "csst_msc_crmodel_0004.pth"
    empty.write_bytes(b"")
    torch_zip = tmp_path / "csst_msc_crmodel_0005.pth"
    torch_zip.write_bytes(b"PK\x03\x04" + b"\x00" * 20)
    wrong_type = tmp_path / "csst_msc_bias_0009.pkl"
    wrong_type.write_bytes(pickle.dumps([1]))
    report = certify_files([fake, empty, torch_zip, wrong_type], allow_pickle=True)
    assert "neither a pickle" in report.files[0].errors[0]
    assert "empty" in report.files[1].errors[0]
    assert report.files[2].ok
    assert "MSC bias references cannot be pickles" in report.files[3].errors[0]


def test_native_dates_and_gzipped_fits(tmp_path: Path, write_fits, good_header) -> None:
    """An unquoted YAML date/time reads as a date; a gzipped FITS file is read as FITS."""
    meta = {**good_header, "REFTYPE": "CROSSTALK", "FILTER": "N/A", "READMODE": "N/A"}
    lines = [f"  {k}: {v!r}" if k != "USEAFTER" else f"  {k}: {v}" for k, v in meta.items()]
    path = tmp_path / "csst_msc_crosstalk_0001.yaml"
    path.write_text("meta:\n" + "\n".join(lines) + f"\ncoefficients: {np.eye(16).tolist()}\n",
                    encoding="utf-8")
    assert "  USEAFTER: 2027-01-01T00:00:00\n" in path.read_text(encoding="utf-8")
    report = certify_files([path])
    assert report.ok, report.errors
    gz = tmp_path / "csst_msc_bias_0001.fits.gz"
    gz.write_bytes(gzip.compress(write_fits().read_bytes()))
    assert certify_files([gz]).ok
    bad = tmp_path / "csst_msc_bias_0002.fits.gz"
    bad.write_bytes(gzip.compress(write_fits("b.fits", FILTER="g").read_bytes()))
    assert errors_about(certify_files([bad]), "FILTER='g'")
