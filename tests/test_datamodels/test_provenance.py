"""Provenance: CRDS_CTX, CRDS_VER, R_/S_/H_<TYPE>, STA_<STEP>, dependency provenance."""

from __future__ import annotations

from pathlib import Path

import pytest
from astropy.io import fits

import datamodels
from datamodels import ImageModel, MetadataError, RefSource, StepStatus
from datamodels.provenance import reftype_abbreviation, step_abbreviation


@pytest.mark.parametrize(
    ("reftype", "keyword"),
    [("bias", "BIAS"), ("dark", "DARK"), ("flat", "FLAT"), ("gain", "GAIN"),
     ("readnoise", "READN"), ("mask", "MASK"), ("saturation", "SATURA"), ("sflat", "SFLAT"),
     ("dflat", "DFLAT"), ("crosstalk", "CROSST"), ("arc", "ARC")],
)  # fmt: skip
def test_reftype_keywords_follow_csst(reftype: str, keyword: str) -> None:
    assert reftype_abbreviation(reftype) == keyword
    assert len(f"R_{keyword}") <= 8


@pytest.mark.parametrize(
    ("step", "keyword"),
    [("csst_dq_init", "DQI"), ("csst_saturation", "SATC"), ("csst_bias", "BIAS"),
     ("csst_dark", "DARK"), ("csst_flat", "FLAT"), ("csst_cr_reject", "CR"),
     ("csst_linearity", "LINE")],
)  # fmt: skip
def test_step_keywords_follow_csst(step: str, keyword: str) -> None:
    assert step_abbreviation(step) == keyword


def _image_with_provenance() -> ImageModel:
    model = ImageModel.create_minimal(shape=(2, 2))
    model.meta.ref_file.crds.context_used = "csst_0042.pmap"
    model.meta.ref_file.crds.sw_version = "0.1.0"
    model.meta.ref_file.set(
        "bias", "csst_msc_bias_0002.fits", RefSource.RULE, "sha256:" + "ab" * 32
    )
    model.meta.ref_file.set("readnoise", "mine.fits", "override")
    model.meta.ref_file.set("saturation", "N/A", "not_applicable")
    model.meta.ref_file.ledflat = {"name": "csst_msc_ledflat_0001.fits"}
    model.meta.cal_step.csst_dq_init = "COMPLETE"
    model.meta.cal_step.csst_dark = "SKIPPED"
    model.meta.cal_step.csst_my_new_thing = "COMPLETE"
    return model


def test_provenance_keywords_are_written_and_read_back(tmp_path: Path, same_model) -> None:
    model = _image_with_provenance()
    model.save(tmp_path / "l1.fits")
    header = fits.getheader(tmp_path / "l1.fits")
    assert header["CRDS_CTX"] == "csst_0042.pmap"
    assert header["CRDS_VER"] == "0.1.0"
    assert header["R_BIAS"] == "csst_msc_bias_0002.fits"
    assert header["S_BIAS"] == "rule"
    assert header["H_BIAS"] == "sha256:" + "ab" * 32
    assert (header["R_READN"], header["S_READN"]) == ("mine.fits", "override")
    assert (header["R_SATURA"], header["S_SATURA"]) == ("N/A", "not_applicable")
    assert header["R_LEDFLA"] == "csst_msc_ledflat_0001.fits" and "S_LEDFLA" not in header
    assert (header["STA_DQI"], header["STA_DARK"]) == (0, 1)
    assert header["STA_MYNE"] == 0
    assert all(len(key) <= 8 for key in header)
    with datamodels.open(tmp_path / "l1.fits") as reread:
        same_model(model, reread)
        assert reread.meta.cal_step.csst_my_new_thing == StepStatus.COMPLETE
        assert reread.meta.ref_file.ledflat.name == "csst_msc_ledflat_0001.fits"
        assert reread.meta.ref_file.bias.source is RefSource.RULE
        params = reread.get_crds_parameters()
    assert params["META.REF_FILE.CRDS.CONTEXT_USED"] == "csst_0042.pmap"
    assert params["META.CAL_STEP.CSST_DARK"] == "SKIPPED"
    assert params["META.REF_FILE.BIAS.NAME"] == "csst_msc_bias_0002.fits"


def test_foreign_status_keywords_without_comments(tmp_path: Path) -> None:
    ImageModel.create_minimal().save(tmp_path / "x.fits")
    with fits.open(tmp_path / "x.fits", mode="update") as hdul:
        hdul[0].header["STA_FLAT"] = 0
        hdul[0].header["STA_CR"] = 1
        hdul[0].header["R_DFLAT"] = "dflat.fits"
        hdul[0].header["R_READN"] = "rn.fits"
    with datamodels.open(tmp_path / "x.fits") as model:
        assert model.meta.cal_step.statuses() == {
            "csst_flat": "COMPLETE",
            "csst_cr_reject": "SKIPPED",
        }
        entries = model.meta.ref_file.entries()
    assert entries["dflat"].name == "dflat.fits" and entries["dflat"].source is None
    assert entries["readnoise"].name == "rn.fits"


def test_two_names_for_one_keyword_are_refused(tmp_path: Path) -> None:
    model = ImageModel.create_minimal()
    model.meta.cal_step.csst_dark = "COMPLETE"
    model.meta.cal_step.dark = "COMPLETE"
    with pytest.raises(
        MetadataError, match="meta.cal_step.csst_dark and meta.cal_step.dark .* STA_DARK"
    ):
        model.save(tmp_path / "x.fits")


def test_dark_and_flat_record_what_they_were_built_from(tmp_path: Path) -> None:
    dark = datamodels.DarkRefModel.create_fake_data()
    dark.meta.ref_file.set("bias", "csst_msc_bias_0002.fits")
    dark.save(tmp_path / "csst_msc_dark_0002.fits")
    flat = datamodels.FlatRefModel.create_fake_data()
    flat.meta.ref_file.set("bias", "csst_msc_bias_0002.fits")
    flat.meta.ref_file.set("dark", "csst_msc_dark_0002.fits")
    flat.save(tmp_path / "csst_msc_flat_0002.fits")
    assert (
        fits.getheader(tmp_path / "csst_msc_dark_0002.fits")["R_BIAS"] == "csst_msc_bias_0002.fits"
    )
    header = fits.getheader(tmp_path / "csst_msc_flat_0002.fits")
    assert (header["R_BIAS"], header["R_DARK"]) == (
        "csst_msc_bias_0002.fits",
        "csst_msc_dark_0002.fits",
    )
    with datamodels.open(tmp_path / "csst_msc_flat_0002.fits") as reread:
        assert reread.dependencies() == {
            "bias": "csst_msc_bias_0002.fits",
            "dark": "csst_msc_dark_0002.fits",
        }
    assert datamodels.BiasRefModel.create_minimal().dependencies() == {}


def test_reference_selection_keywords(tmp_path: Path) -> None:
    flat = datamodels.FlatRefModel.create_fake_data()
    flat.save(tmp_path / "flat.fits")
    header = fits.getheader(tmp_path / "flat.fits")
    for key, value in {"INSTRUME": "MSC", "REFTYPE": "FLAT", "DETECTOR": "06", "FILTER": "y",
                       "USEAFTER": "2027-01-01T00:00:00", "TELESCOP": "CSST"}.items():  # fmt: skip
        assert header[key] == value
    assert {"PEDIGREE", "DESCRIP", "AUTHOR", "READMODE"} <= set(header)
    params = flat.get_crds_parameters()
    assert params["REFTYPE"] == "FLAT" and params["META.REFTYPE"] == "FLAT"
    bias = datamodels.BiasRefModel.create_minimal()
    assert "FILTER" not in bias.get_crds_parameters()  # not derived for references
    bias.meta.instrument.filter = "n/a"
    assert bias.get_crds_parameters()["FILTER"] == "N/A"
