"""The demo's reference files: CSST.md §5 chips, daily bias/dark/flat, rarer types once.

Every array comes from a seeded generator, so the files (and so the whole demo) are the same on
every run. Values are plausible, not real: bias ~100 ADU, dark ~0.02 e-/s, flat ~1.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

import datamodels

__all__ = ["CHIPS", "DAYS", "SHAPE", "daily_references", "toolkit_references"]

CHIPS: Mapping[str, str] = {"06": "y", "08": "g", "13": "NUV", "14": "u", "01": "GI", "03": "GU"}
"""MSC chip → its band (CSST.md §5.1: four imaging chips and two slitless ones)."""

DAYS = ("2027-01-01", "2027-01-02", "2027-01-03")
SHAPE = (256, 256)
AUTHOR = "csst-crds demo"


def _meta(reftype: str, chip: str, day: str, **extra: object) -> dict[str, object]:
    instrument: dict[str, object] = {
        "name": "MSC", "detector": chip, "readmode": "N/A",
        "filter": CHIPS[chip] if reftype == "FLAT" else "N/A",
    }
    return {"reftype": reftype, "instrument": instrument, "useafter": f"{day}T00:00:00",
            "pedigree": "SIMULATION", "description": f"demo {reftype.lower()} for chip {chip}",
            "author": AUTHOR, **extra}


def _rng(*labels: object) -> np.random.Generator:
    return np.random.default_rng([int.from_bytes(str(label).encode(), "little") % 2**32
                                  for label in labels])


def toolkit_references(folder: Path, shape: tuple[int, int] = SHAPE,
                       chips: Mapping[str, str] = CHIPS) -> list[Path]:
    """Gain, readnoise, mask and saturation per chip, one TOML crosstalk, one YAML arc."""
    folder.mkdir(parents=True, exist_ok=True)
    day = DAYS[0]
    paths = []
    for chip in chips:
        rng = _rng("toolkit", chip)
        mask = np.zeros(shape, np.uint32)
        rows, cols = rng.integers(0, shape[0], 20), rng.integers(0, shape[1], 20)
        mask[rows, cols] = 1 | 4  # DO_NOT_USE | DEAD: a few dead pixels
        models = {
            "gain": datamodels.GainRefModel(
                _meta("GAIN", chip, day), data=np.full(shape, 1.5, np.float32)),
            "readnoise": datamodels.ReadnoiseRefModel(
                _meta("READNOISE", chip, day), data=np.full(shape, 5.0, np.float32)),
            "mask": datamodels.MaskRefModel(_meta("MASK", chip, day), dq=mask),
            "saturation": datamodels.SaturationRefModel(
                _meta("SATURATION", chip, day), data=np.full(shape, 50000.0, np.float32)),
        }
        for reftype, model in models.items():
            paths.append(Path(model.save(folder / f"demo_{reftype}_{chip}.fits")))
    crosstalk = datamodels.CrosstalkRefModel(
        _meta("CROSSTALK", "06", day),
        coefficients=np.eye(16) + 1e-4 * _rng("crosstalk").standard_normal((16, 16)))
    paths.append(Path(crosstalk.save(folder / "demo_crosstalk_06.toml")))
    lines = np.array([(404.656, 1800.0, "Hg I"), (435.833, 4000.0, "Hg I"),
                      (546.074, 1100.0, "Hg I"), (696.543, 10000.0, "Ar I")],
                     dtype=[("wavelength", "f8"), ("intensity", "f8"), ("species", "U16")])
    arc = datamodels.ArcRefModel(
        {**_meta("ARC", "IFS", day),
         "instrument": {"name": "IFS", "detector": "IFS", "filter": "N/A", "readmode": "N/A"}},
        lines=lines)
    paths.append(Path(arc.save(folder / "demo_arc_ifs.yaml")))
    return paths


def daily_references(folder: Path, reftype: str, day: str,
                     depends_on: Mapping[str, Mapping[str, str]],
                     shape: tuple[int, int] = SHAPE,
                     chips: Mapping[str, str] = CHIPS) -> list[Path]:
    """One `reftype` file per chip for `day`; `depends_on` names each chip's bias (and dark).

    ``depends_on`` maps a dependency type (``bias``, ``dark``) to ``{chip: cache name}``; the
    names are written as ``R_BIAS``/``R_DARK``, which a delivery checks against the cache.
    """
    folder.mkdir(parents=True, exist_ok=True)
    classes = {"bias": datamodels.BiasRefModel, "dark": datamodels.DarkRefModel,
               "flat": datamodels.FlatRefModel}
    paths = []
    for chip in chips:
        rng = _rng(reftype, chip, day)
        if reftype == "bias":
            data = 100.0 + rng.normal(0.0, 2.0, shape)
            err = np.full(shape, 2.0)
        elif reftype == "dark":
            data = np.abs(0.02 + rng.normal(0.0, 0.002, shape))
            err = np.full(shape, 0.002)
        else:
            data = 1.0 + rng.normal(0.0, 0.01, shape)
            data[rng.integers(0, shape[0], 5), rng.integers(0, shape[1], 5)] = 0.0  # bad pixels
            err = np.full(shape, 0.01)
        provenance = {dep: {"name": names[chip]} for dep, names in depends_on.items()}
        model = classes[reftype](
            _meta(reftype.upper(), chip, day, ref_file=provenance),
            data=data.astype(np.float32), err=err.astype(np.float32),
            dq=np.zeros(shape, np.uint32))
        paths.append(Path(model.save(folder / f"demo_{reftype}_{chip}_{day}.fits")))
    return paths
