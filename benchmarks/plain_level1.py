"""Level 1 as a user would write it with numpy and astropy: the yardstick of bench_level1.

``python benchmarks/plain_level1.py RAW_L0.fits OUT_L1.fits`` (with ``CSST_CRDS_PATH`` set)
does what ``strun csst_level1`` does to the arrays: the same references (chosen by
`ReferenceProvider` from the exposure's keywords), the same arithmetic, flags and error
propagation in float32, written once with in-place operations on whole frames, references read
with astropy (memory-mapped where astropy can). It writes SCI, ERR and DQ; the headers are not
the point (the benchmark compares the arrays).
"""

from __future__ import annotations

import sys

import numpy as np
from astropy.io import fits

from csst_crds_plugin import ReferenceProvider

__all__ = ["level1", "main"]

DO_NOT_USE, SATURATED, NO_SAT_CHECK, NO_GAIN_VALUE, NO_FLAT_FIELD = 1, 2, 16, 32, 64
KEYWORDS = ("INSTRUME", "DETECTOR", "FILTER", "READMODE", "DATE-OBS", "TIME-OBS", "OBSTYPE",
            "EXPTIME")


def level1(raw_path: str, out_path: str, min_flat: float = 0.0) -> None:
    """Calibrate `raw_path` into `out_path` (SCI, ERR, DQ)."""
    with fits.open(raw_path) as raw:
        header = raw[0].header.copy()
        header.update({k: v for k, v in raw["SCI"].header.items() if k in KEYWORDS})
        data = raw["SCI"].data.astype(np.float32)
    err = np.zeros_like(data)
    dq = np.zeros(data.shape, np.uint32)
    provider = ReferenceProvider()
    exposure = {key: header[key] for key in KEYWORDS if key in header}

    def reference(reftype: str) -> fits.HDUList:
        return fits.open(provider.get_reference_file(exposure, reftype))

    with reference("mask") as ref:
        dq |= ref["DQ"].data
    with reference("saturation") as ref:
        level = ref["SCI"].data
        valid = np.isfinite(level) & (level > 0)
        dq[valid & (data >= level)] |= SATURATED | DO_NOT_USE
        dq[~valid] |= NO_SAT_CHECK
        del level, valid
    with reference("bias") as ref:
        data -= ref["SCI"].data
        np.hypot(err, ref["ERR"].data, out=err)
        dq |= ref["DQ"].data
    with reference("gain") as ref:
        gain = ref["SCI"].data
        invalid = ~(np.isfinite(gain) & (gain > 0))
        data *= gain
        err *= gain
        err *= err
        err += np.maximum(data, 0)
        np.sqrt(err, out=err)
        data[invalid] = np.nan
        err[invalid] = np.nan
        dq[invalid] |= NO_GAIN_VALUE | DO_NOT_USE
        del gain, invalid
    exptime = np.float32(header["EXPTIME"])
    with reference("dark") as ref:
        data -= ref["SCI"].data * exptime
        np.hypot(err, ref["ERR"].data * exptime, out=err)
        dq |= ref["DQ"].data
    with reference("flat") as ref:
        flat, flat_err, flat_dq = ref["SCI"].data, ref["ERR"].data, ref["DQ"].data
        bad = ~np.isfinite(flat) | (flat <= max(min_flat, 0.0)) | ((flat_dq & DO_NOT_USE) != 0)
        divisor = np.where(bad, np.float32(1), flat)
        relative = np.where(bad, np.float32(0), flat_err)
        data /= divisor
        err /= divisor
        relative *= data
        relative /= divisor
        np.hypot(err, relative, out=err)
        dq |= flat_dq
        dq[bad] |= NO_FLAT_FIELD | DO_NOT_USE
        del flat, flat_err, flat_dq, bad, divisor, relative
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data, name="SCI"),
                  fits.ImageHDU(err, name="ERR"), fits.ImageHDU(dq, name="DQ")]
                 ).writeto(out_path, overwrite=True)


def main(argv: list[str] | None = None) -> int:
    """``plain_level1.py RAW OUT``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: plain_level1.py RAW_L0.fits OUT_L1.fits (CSST_CRDS_PATH set)",
              file=sys.stderr)
        return 2
    np.seterr(all="ignore")
    level1(*args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
