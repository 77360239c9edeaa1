"""Fixtures for the data-model tests: real files in tmp_path, bit-exact comparisons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

import datamodels


def native_bytes(array: np.ndarray) -> bytes:
    """Return the array's bits in native byte order (FITS arrays come back big-endian)."""
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("=")).tobytes()


def assert_same_model(a: datamodels.DataModel, b: datamodels.DataModel) -> None:
    """Check for the same class, same metadata (every field), same arrays bit for bit."""
    assert type(a) is type(b)
    assert a.meta.model_dump() == b.meta.model_dump()
    arrays_a, arrays_b = a.arrays(), b.arrays()
    assert sorted(arrays_a) == sorted(arrays_b)
    for name, value in arrays_a.items():
        other = arrays_b[name]
        assert value.shape == other.shape, name
        assert value.dtype.newbyteorder("=") == other.dtype.newbyteorder("="), name
        assert native_bytes(value) == native_bytes(other), name


@pytest.fixture(scope="session")
def same_model():
    """Return the comparison helper as a stateless fixture (test modules import no other)."""
    return assert_same_model


@pytest.fixture
def level0_path(tmp_path: Path) -> Path:
    """Return a realistic C5-style MSC level-0 file written with astropy alone (CSST.md §2.1)."""
    primary = fits.PrimaryHDU()
    header = primary.header
    header["TELESCOP"] = "CSST"
    header["INSTRUME"] = "MSC"
    header["DETECTOR"] = "CCD06"
    header["OBSID"] = "10100300001"
    header["FILETYPE"] = "SCI"
    header["DATE-OBS"] = "2027-01-02"
    header["TIME-OBS"] = "10:00:00.5"
    header["EXPSTART"] = 61407.416672
    header["EXPTIME"] = 150.0
    header["OBJECT"] = "WIDE-0001"
    header["RA_OBJ"] = 150.1
    header["DEC_OBJ"] = 2.2
    header["RA_PNT0"] = 150.1
    header["DEC_PNT0"] = 2.2
    header["FILENAME"] = "CSST_MSC_MS_WIDE_20270102100000_20270102100230_10100300001_06_L0_V01"
    image = fits.ImageHDU(np.arange(16 * 16, dtype=np.uint16).reshape(16, 16))
    for key, value in {
        "GAIN1": 1.5, "RDNOISE1": 5.0, "SATURATE": 65535, "CTYPE1": "RA---TAN",
        "CTYPE2": "DEC--TAN", "CRPIX1": 8.0, "CRPIX2": 8.0, "CRVAL1": 150.1, "CRVAL2": 2.2,
    }.items():  # fmt: skip
        image.header[key] = value
    path = tmp_path / "CSST_MSC_MS_WIDE_20270102100000_20270102100230_10100300001_06_L0_V01.fits"
    fits.HDUList([primary, image]).writeto(path)
    return path
