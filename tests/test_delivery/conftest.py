"""Fixtures for delivery tests: CSST reference FITS files and caches with empty rules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from csst_crds_plugin.cache.manifest import STAMPS_NAME
from csst_crds_plugin.tools.delivery import add_reference_types

CHIP_FILTERS = {"06": "y", "08": "g", "13": "NUV", "14": "u", "01": "GI", "03": "GU"}
"""The six fixture chips of CSST.md §5.1 and their filters (§1.1)."""

MakeReference = Callable[..., Path]


def write_reference(path: Path, reftype: str = "bias", detector: str = "06",
                    useafter: str = "2027-01-01T00:00:00", *, fill: float = 0.0,
                    **keywords: object) -> Path:
    """Write an 8x8 CSST reference (primary header + SCI) with the CSST.md §5.3 keywords."""
    header = fits.Header()
    values: dict[str, object] = {
        "TELESCOP": "CSST", "INSTRUME": "MSC", "REFTYPE": reftype.upper(),
        "DETECTOR": detector, "FILTER": CHIP_FILTERS.get(detector, "N/A"), "READMODE": "N/A",
        "USEAFTER": useafter, "PEDIGREE": "SIMULATION", "DESCRIP": f"test {reftype}",
        "AUTHOR": "delivery tests",
    }
    values.update(keywords)
    for key, value in values.items():
        if value is not None:
            header[key] = value
    data = np.full((8, 8), fill, dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.HDUList([fits.PrimaryHDU(header=header),
                  fits.ImageHDU(data, name="SCI")]).writeto(path)
    return path


@pytest.fixture
def make_reference(tmp_path: Path) -> MakeReference:
    """``make_reference(name, reftype, detector, useafter, **keywords)`` → a FITS file."""
    counter = iter(range(1, 1_000_000))

    def make(name: str, reftype: str = "bias", detector: str = "06",
             useafter: str = "2027-01-01T00:00:00", **keywords: object) -> Path:
        # a distinct fill value per file, so no two files have the same content
        keywords.setdefault("fill", float(next(counter)))
        return write_reference(tmp_path / "submit" / name, reftype, detector, useafter,
                               **keywords)  # type: ignore[arg-type]

    return make


@pytest.fixture
def rules_cache(tmp_path: Path) -> Path:
    """Build a cache whose first context, csst_0001.pmap, has empty MSC bias, dark, flat rmaps."""
    root = tmp_path / "cache"
    add_reference_types(root, ["msc:bias", "msc:dark", "msc:flat"])
    return root


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock") and p.name != STAMPS_NAME}


@pytest.fixture
def snapshot() -> Callable[[Path], dict[str, bytes]]:
    """Return ``snapshot(root)``: every file of a cache (relative path → bytes).

    Lock files and the stamps of verified references (a record of hashes already checked) are
    left out.
    """
    return _snapshot


@pytest.fixture
def leftover_temps() -> Callable[[Path], list[Path]]:
    """``leftover_temps(root)``: temporary files left anywhere under a directory."""
    return lambda root: sorted(root.rglob(".tmp-*"))
