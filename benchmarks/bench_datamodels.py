"""Time opening a full-size CSST level-0 exposure and reading its metadata.

Writes a 9216 x 9232 uint16 MSC level-0 file (as CSST.md §2 describes it: telescope, target
and time in the primary header, instrument and detector with the image) to a temporary
directory, then times ``datamodels.open`` + ``get_crds_parameters()`` (the data stay on
disk: they load lazily), and, for comparison, reading the whole array.

Run: ``.venv/bin/python benchmarks/bench_datamodels.py [--repeat N]``.  Goal: metadata under
0.1 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from astropy.io import fits

import datamodels

__all__ = ["main", "write_level0"]

SHAPE = (9232, 9216)  # NAXIS2 x NAXIS1: 9216 columns, 9232 rows


def write_level0(path: Path) -> None:
    """Write a full-size MSC level-0 exposure with astropy alone."""
    primary = fits.PrimaryHDU()
    primary.header.update(
        {
            "TELESCOP": "CSST", "OBSID": "10100300001", "FILETYPE": "SCI",
            "DATE-OBS": "2027-01-02", "TIME-OBS": "10:00:00", "EXPTIME": 150.0,
            "OBJECT": "WIDE-0001", "RA_OBJ": 150.1, "DEC_OBJ": 2.2,
        }
    )  # fmt: skip
    data = np.random.default_rng(0).integers(0, 65535, SHAPE, dtype=np.uint16)
    image = fits.ImageHDU(data, name="SCI")
    image.header.update({"INSTRUME": "MSC", "DETECTOR": "CCD06", "GAIN1": 1.5, "RDNOISE1": 5.0})
    fits.HDUList([primary, image]).writeto(path)


def _time(func, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    """Write the file, time the reads, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed repetitions (default 7)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = (
            Path(tmp) / "CSST_MSC_MS_WIDE_20270102100000_20270102100230_10100300001_06_L0_V01.fits"
        )
        write_level0(path)
        size_mb = path.stat().st_size / 1e6

        def metadata() -> None:
            with datamodels.open(path) as model:
                params = model.get_crds_parameters()
            if (params["DETECTOR"], params["FILTER"]) != ("06", "y"):
                raise RuntimeError(f"{path}: read the wrong parameters {params}")

        def full_read() -> None:
            with datamodels.open(path) as model:
                if int(model.data[-1, -1]) < 0:
                    raise RuntimeError(f"{path}: a uint16 pixel read as negative")
                model.data.sum()

        meta_times = _time(metadata, args.repeat)
        data_times = _time(full_read, max(1, args.repeat // 3))
    print(f"file: {SHAPE[1]} x {SHAPE[0]} uint16 level-0, {size_mb:.0f} MB")  # noqa: T201
    print(  # noqa: T201
        f"open + get_crds_parameters: median {statistics.median(meta_times) * 1e3:.1f} ms, "
        f"min {min(meta_times) * 1e3:.1f} ms over {len(meta_times)} runs (goal < 100 ms)"
    )
    print(  # noqa: T201
        f"open + read the whole array: median {statistics.median(data_times) * 1e3:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
