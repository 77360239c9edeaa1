"""Normalisers of CSST.md §5.3: detectors, filters, OBSID, dates."""

from __future__ import annotations

import pytest

from datamodels import MetadataWarning
from datamodels.instruments import (
    MSC_CHIP_FILTERS,
    normalise_date,
    normalise_detector,
    normalise_filter,
    normalise_instrument,
    normalise_pedigree,
    normalise_time,
    normalise_useafter,
    parse_obsid,
)

DETECTORS = [
    ("MSC", "CCD06", "06"),
    ("MSC", "6", "06"),
    ("MSC", 6, "06"),
    ("MSC", "06", "06"),
    ("MSC", "ccd30", "30"),
    ("MCI", "c1", "C1"),
    ("MCI", "C3", "C3"),
    ("CPIC", "emccd", "EMCCD"),
    ("HSTDM", "thz", "THZ"),
]

BAD_DETECTORS = [("MSC", "CCD99"), ("MSC", "0"), ("MSC", "31"), ("MSC", "C1"), ("MCI", "C4")]

FILTERS = [
    ("MSC", "13", "nuv", "NUV"),
    ("MSC", "12", "N", "NUV"),
    ("MSC", "06", "Y", "y"),
    ("MSC", "06", None, "y"),
    ("MSC", "03", "gu", "GU"),
    ("MSC", "08", "G", "g"),
    ("MSC", "06", "n/a", "N/A"),
    ("MCI", "C1", "f275w", "F275W"),
    ("IFS", "IFS", None, None),
]


@pytest.mark.parametrize(("instrument", "raw", "expected"), DETECTORS)
def test_detector_normalisation(instrument: str, raw: object, expected: str) -> None:
    assert normalise_detector(instrument, raw) == expected


@pytest.mark.parametrize(("instrument", "raw"), BAD_DETECTORS)
def test_unknown_detector_names_the_allowed_ones(instrument: str, raw: str) -> None:
    with pytest.raises(ValueError, match=f"not a CSST {instrument} detector; allowed: "):
        normalise_detector(instrument, raw)


def test_unconfirmed_ifs_detector_only_warns() -> None:
    with pytest.warns(MetadataWarning, match="unconfirmed"):
        assert normalise_detector("IFS", "blue") == "BLUE"


@pytest.mark.parametrize(("instrument", "detector", "raw", "expected"), FILTERS)
def test_filter_normalisation(instrument: str, detector: str, raw: object, expected: str) -> None:
    assert normalise_filter(instrument, detector, raw) == expected


def test_every_msc_chip_accepts_its_own_filter_and_derives_it() -> None:
    for chip, band in MSC_CHIP_FILTERS.items():
        assert normalise_filter("MSC", chip, band.upper()) == band
        assert normalise_filter("MSC", chip, None) == band
    assert sorted(set(MSC_CHIP_FILTERS.values())) == sorted(
        ["NUV", "u", "g", "r", "i", "z", "y", "GU", "GV", "GI"]
    )


@pytest.mark.parametrize(("detector", "band"), [("06", "g"), ("13", "u"), ("01", "GU")])
def test_filter_not_on_chip_is_an_error(detector: str, band: str) -> None:
    with pytest.raises(ValueError, match=rf"not the filter of MSC chip {detector}; allowed: "):
        normalise_filter("MSC", detector, band)


def test_unknown_msc_band_is_an_error() -> None:
    with pytest.raises(ValueError, match="allowed: NUV, u, g"):
        normalise_filter("MSC", "06", "H")


def test_invented_mci_filter_table_only_warns() -> None:
    with pytest.warns(MetadataWarning, match="F275W, F336W"):
        assert normalise_filter("MCI", "C1", "f814w") == "F814W"


def test_instruments() -> None:
    assert normalise_instrument(" msc ") == "MSC"
    with pytest.raises(ValueError, match="allowed: MSC, MCI, IFS, CPIC, HSTDM"):
        normalise_instrument("WFC3")


@pytest.mark.parametrize(
    ("obsid", "parts", "instrument"),
    [
        ("10100300001", ("1", "01", "00300001"), "MSC"),
        (20100000001, ("2", "01", "00000001"), "MCI"),
        ("30100000001", ("3", "01", "00000001"), None),
    ],
)
def test_obsid_parsing(obsid: object, parts: tuple[str, str, str], instrument: str | None) -> None:
    parsed = parse_obsid(obsid)
    assert tuple(parsed) == parts
    assert parsed.instrument == instrument
    assert str(parsed) == str(obsid)


@pytest.mark.parametrize(
    "obsid", ["100000100", "2000000000\u0660", "01010030000", "1010030000a", "101003000012", ""]
)
def test_malformed_obsid(obsid: str) -> None:
    with pytest.raises(ValueError, match="11 digits"):
        parse_obsid(obsid)


@pytest.mark.parametrize(
    "bad", ["2027-0\u0661-01", "2027-13-01", "2027-02-30", "27-01-01", "2027/01/01", "today"]
)
def test_bad_dates(bad: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        normalise_date(bad)


@pytest.mark.parametrize(("raw", "ok"), [("10:00:00", True), ("23:59:59.123456", True),
                                         ("24:00:00", False), ("10:00", False),
                                         ("1:00:00", False)])  # fmt: skip
def test_times(raw: str, ok: bool) -> None:
    if ok:
        assert normalise_time(raw) == raw
    else:
        with pytest.raises(ValueError, match="HH:MM:SS"):
            normalise_time(raw)


def test_useafter_and_pedigree() -> None:
    assert normalise_useafter("2027-01-01 00:00:00") == "2027-01-01T00:00:00"
    with pytest.raises(ValueError, match="YYYY-MM-DDThh:mm:ss"):
        normalise_useafter("2027-01-01")
    assert normalise_pedigree("inflight 2027-01-01 2027-01-02") == "INFLIGHT 2027-01-01 2027-01-02"
    for bad in ("FLIGHT", "INFLIGHT 2027-01-01", "GROUND 2027-01-01", "INFLIGHT 2027-01-01 x"):
        with pytest.raises(ValueError, match="allowed"):
            normalise_pedigree(bad)
