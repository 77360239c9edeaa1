"""Hostile inputs: the limited readers (tools/inputs.py) beside the libraries read directly.

    python benchmarks/bench_inputs.py [--folder DIR] [--gigabytes 2] [--levels 7]

Prints, side by side, the seconds to get the selection keywords of

* a sparse FITS file: a primary header (no data) followed by N GB of holes, i.e. zero bytes
  (the limited reader sees that the next block is no extension header and stops; astropy's lazy
  HDU walk, as the scan used before, searches the zeros for a header), and
* an ASDF file holding a YAML alias bomb of 10**LEVELS nodes (refused by the limited reader
  before ``asdf`` walks it; ``asdf.open`` alone, run in a child process stopped after
  ``--timeout`` seconds).
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from pathlib import Path

__all__ = ["main"]


def _sparse_fits(path: Path, gigabytes: float) -> None:
    from astropy.io import fits

    primary = fits.Header()
    primary["SIMPLE"] = True
    primary["BITPIX"] = 8
    primary["NAXIS"] = 0
    primary["INSTRUME"] = "MSC"
    with path.open("wb") as stream:
        stream.write(primary.tostring().encode())
        stream.truncate(stream.tell() + int(gigabytes * 1e9))


def _astropy_walk(path: str) -> None:
    """Scan as before: astropy's lazy HDU walk looking for the SCI extension."""
    import warnings

    from astropy.io import fits

    warnings.simplefilter("ignore")
    with fits.open(path, memmap=False, lazy_load_hdus=True) as hdul:
        for hdu in hdul:
            if hdu.name == "SCI":
                break


def _bomb(path: Path, levels: int) -> None:
    import asdf

    asdf.AsdfFile({"meta": {"instrument": {"name": "MSC"}}}).write_to(path)
    lines = [b"bomb:", b"  a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"  a{i}: &a{i} [".encode() + b", ".join([f"*a{i - 1}".encode()] * 10) + b"]"
              for i in range(1, levels)]
    text = path.read_bytes()
    at = text.index(b"meta:")
    path.write_bytes(text[:at] + b"\n".join(lines) + b"\n" + text[at:])


def _asdf_open(path: str) -> None:
    import asdf

    with asdf.open(path, lazy_load=True, memmap=False) as af:
        af.tree.get("meta")


def _timed(function: object, *args: object) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        function(*args)  # type: ignore[operator]
        outcome = "read"
    except Exception as exc:  # the limited readers refuse; report how
        outcome = f"refused: {str(exc).split(': ', 1)[-1][:60]}"
    return time.perf_counter() - start, outcome


def _child_seconds(target: object, path: Path, timeout: float) -> str:
    """Seconds `target(path)` takes in a child process, which is stopped after `timeout`."""
    process = multiprocessing.get_context("spawn").Process(target=target, args=(str(path),))
    start = time.perf_counter()
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join()
        return f"> {timeout:.0f} s (stopped)"
    return f"{time.perf_counter() - start:.2f} s"


def main() -> None:
    """Build the inputs in a temporary folder and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", help="where to write the inputs (default: a temporary one)")
    parser.add_argument("--gigabytes", type=float, default=2.0)
    parser.add_argument("--levels", type=int, default=7, help="alias bomb of 10**LEVELS nodes")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    from csst_crds_plugin.tools.affected.scan import scan_file
    from csst_crds_plugin.tools.inputs import check_asdf

    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        fits_path = Path(folder) / "sparse.fits"
        _sparse_fits(fits_path, args.gigabytes)
        limited, outcome = _timed(scan_file, fits_path)
        print(f"sparse FITS, header + {args.gigabytes:g} GB of holes: limited reader "
              f"{limited:.3f} s ({outcome}), astropy lazy walk "
              f"{_child_seconds(_astropy_walk, fits_path, args.timeout)}")
        asdf_path = Path(folder) / "bomb.asdf"
        _bomb(asdf_path, args.levels)
        limited, outcome = _timed(check_asdf, asdf_path)
        print(f"ASDF alias bomb, 10^{args.levels} nodes: limited reader {limited:.3f} s "
              f"({outcome}), asdf.open {_child_seconds(_asdf_open, asdf_path, args.timeout)}")


if __name__ == "__main__":
    main()
