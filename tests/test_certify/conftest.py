"""Fixtures for certify tests: reference files written with astropy/asdf, small caches."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits

GOOD_HEADER: dict[str, Any] = {
    "TELESCOP": "CSST", "INSTRUME": "MSC", "REFTYPE": "BIAS", "DETECTOR": "06",
    "FILTER": "y", "READMODE": "FAST", "USEAFTER": "2027-01-01T00:00:00",
    "PEDIGREE": "INFLIGHT 2027-01-01 2027-01-02", "DESCRIP": "daily superbias",
    "AUTHOR": "calibration pipeline",
}

WriteFits = Callable[..., Path]


@pytest.fixture
def write_fits(tmp_path: Path) -> WriteFits:
    """Write a FITS reference: primary header from `header` (None drops a key), SCI/ERR/DQ."""

    def write(name: str = "csst_msc_bias_0001.fits", drop: tuple[str, ...] = (),
              data: np.ndarray | None = None, folder: Path | None = None,
              **overrides: Any) -> Path:
        header = {**GOOD_HEADER, **overrides}
        primary = fits.PrimaryHDU()
        for key, value in header.items():
            if key not in drop:
                primary.header[key] = value
        sci = np.zeros((4, 4), dtype=np.float32) if data is None else data
        hdus = fits.HDUList([
            primary,
            fits.ImageHDU(sci, name="SCI"),
            fits.ImageHDU(np.zeros(sci.shape, dtype=np.float32), name="ERR"),
            fits.ImageHDU(np.zeros(sci.shape, dtype=np.uint32), name="DQ"),
        ])
        path = (folder or tmp_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        hdus.writeto(path)
        return path

    return write
