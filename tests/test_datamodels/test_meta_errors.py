"""Bad metadata: errors name the keyword, the value, the place and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
from astropy.io import fits

import datamodels
from datamodels import MetadataError, MetadataWarning, RawModel


def _edit(path: Path, hdu: int, **cards: object) -> None:
    with fits.open(path, mode="update") as hdul:
        for key, value in cards.items():
            key = key.replace("_OBS", "-OBS")
            if value is None:
                del hdul[hdu].header[key]
            else:
                hdul[hdu].header[key] = value


@pytest.mark.parametrize(
    ("hdu", "cards", "keyword", "pattern"),
    [
        (0, {"OBSID": "1010030000"}, "OBSID", r"OBSID='1010030000' \(primary header of .*\.fits\) .*allowed: 11 digits"),  # noqa: E501
        (0, {"DETECTOR": "CCD99"}, "DETECTOR", r"DETECTOR='CCD99' \(primary header of .*\) is not a CSST MSC detector; allowed: 01\.\.30"),  # noqa: E501
        (1, {"FILTER": "g"}, "FILTER", r"FILTER='g' \(.*\) is not the filter of MSC chip 06; allowed: 'y'"),  # noqa: E501
        (0, {"DATE_OBS": "2027-02-30"}, "DATE-OBS", r"DATE-OBS='2027-02-30' \(primary header of .*\) is not a date; allowed: 'YYYY-MM-DD'"),  # noqa: E501
        (0, {"DATE_OBS": "2027-01-02T11:00:00"}, "TIME-OBS", r"TIME-OBS='10:00:00.5' .*disagrees with DATE-OBS"),  # noqa: E501
        (0, {"INSTRUME": "HST"}, "INSTRUME", r"INSTRUME='HST' .*allowed: MSC, MCI, IFS, CPIC, HSTDM"),  # noqa: E501
        (0, {"EXPTIME": -1.0}, "EXPTIME", r"EXPTIME=-1\.0 .*greater than or equal to 0"),
        (0, {"DATE_OBS": None}, "DATE-OBS", r"DATE-OBS is missing \(primary header of .*\); it is required"),  # noqa: E501
        (0, {"STA_DARK": 7}, "STA_DARK", r"STA_DARK=7 .*allowed: 0 \(COMPLETE\), 1 \(SKIPPED\)"),
    ],
)  # fmt: skip
def test_bad_keyword_in_a_file(
    level0_path: Path, hdu: int, cards: dict[str, object], keyword: str, pattern: str
) -> None:
    _edit(level0_path, hdu, **cards)
    with pytest.raises(MetadataError, match=pattern) as info:
        datamodels.open(level0_path)
    assert info.value.keyword == keyword
    assert isinstance(info.value, ValueError)


def test_several_problems_are_reported_together(level0_path: Path) -> None:
    _edit(level0_path, 0, OBSID="12", DETECTOR="CCD99")
    with pytest.raises(MetadataError, match="OBSID='12'.*; DETECTOR='CCD99'"):
        datamodels.open(level0_path)


def test_assignment_is_validated_and_rolled_back() -> None:
    model = RawModel.create_minimal()
    model.meta.instrument = {"name": "MSC", "detector": "CCD13", "filter": "nuv"}
    assert model.meta.instrument.detector == "13"
    with pytest.raises(MetadataError, match=r"FILTER='y' \(assigned in memory\).*allowed: 'NUV'"):
        model.meta.instrument.filter = "y"
    assert model.meta.instrument.filter == "NUV"
    model.meta.instrument.detector = 12
    assert model.meta.instrument.detector == "12"
    with pytest.raises(MetadataError, match="DETECTOR='CCD99'.*allowed: 01..30"):
        model.meta.instrument.detector = "CCD99"
    assert model.meta.instrument.detector == "12"
    with pytest.raises(MetadataError, match="OBSID='abc'"):
        model.meta.observation.obsid = "abc"
    assert model.meta.observation.obsid is None


def test_msc_filter_of_a_detector_change_must_agree() -> None:
    model = RawModel.create_minimal()
    assert model.meta.instrument.filter == "y"
    with pytest.raises(MetadataError, match="not the filter of MSC chip 08"):
        model.meta.instrument.detector = "08"
    model.meta.instrument = {"name": "MSC", "detector": "08"}
    assert model.meta.instrument.filter == "g"


def test_iso_date_obs_is_split() -> None:
    meta = {
        "observation": {"date": "2027-01-02T10:00:00.25"},
        "instrument": {"name": "MCI", "detector": "C2"},
    }
    model = RawModel(meta)
    assert (model.meta.observation.date, model.meta.observation.time) == (
        "2027-01-02",
        "10:00:00.25",
    )
    assert model.get_crds_parameters()["TIME-OBS"] == "10:00:00.25"


@pytest.mark.parametrize(
    ("meta_update", "pattern"),
    [
        ({"instrument": {"name": "MCI", "detector": "C1", "filter": "F814W"}}, "invented"),
        ({"instrument": {"name": "MSC", "detector": "06", "readmode": "slow"}}, "READMODE='slow'"),
        (
            {"observation": {"date": "2027-01-02", "obsid": "20100000001"}},
            "module digit 2 \\(MCI\\)",
        ),
        ({"telescope": "HST"}, "TELESCOP='HST'"),
    ],
)
def test_documented_warnings(meta_update: dict[str, object], pattern: str) -> None:
    meta = {"observation": {"date": "2027-01-02"}, "instrument": {"name": "MSC", "detector": "06"}}
    meta.update(meta_update)
    with pytest.warns(MetadataWarning, match=pattern):
        RawModel(meta)


def test_reference_without_dependency_provenance_warns_on_save(tmp_path: Path) -> None:
    dark = datamodels.DarkRefModel.create_minimal()
    dark.meta.ref_file = {}
    with pytest.warns(MetadataWarning, match=r"does not record the bias .*meta\.ref_file\.bias"):
        dark.save(tmp_path / "dark.fits")


def test_reftype_must_fit_the_class() -> None:
    meta = datamodels.BiasRefModel.create_minimal().meta.model_dump()
    with pytest.raises(
        MetadataError, match="REFTYPE='BIAS' does not fit DarkRefModel; allowed: 'DARK'"
    ):
        datamodels.DarkRefModel(meta)


def test_cal_step_values_and_names() -> None:
    model = RawModel.create_minimal()
    model.meta.cal_step.csst_dark = "SKIPPED"
    assert model.meta.cal_step.csst_dark == datamodels.StepStatus.SKIPPED
    with pytest.raises(MetadataError, match="'COMPLETE' or 'SKIPPED'"):
        model.meta.cal_step.csst_flat = "DONE"
    with pytest.raises(MetadataError, match="lower-case identifier"):
        setattr(model.meta.cal_step, "Bad-Name", "COMPLETE")
    assert model.meta.cal_step.statuses() == {"csst_dark": "SKIPPED"}


def test_text_that_fits_cannot_hold_is_refused() -> None:
    model = RawModel.create_minimal()
    with pytest.raises(MetadataError, match="OBJECT='Caf\u00e9' .*not printable ASCII"):
        model.meta.target.name = "Caf\u00e9"
    with pytest.raises(MetadataError, match="not printable ASCII"):
        model.meta.ref_file.set("bias", "b\tias.fits")
