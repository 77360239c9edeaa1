"""The CSST data models: level-0 and level-1 exposures and one model per reference type."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np

from csst_crds_plugin.results import RefSource
from datamodels._base import DataModel
from datamodels._fields import SCI
from datamodels._spec import ArraySpec
from datamodels.errors import MetadataError, MetadataWarning
from datamodels.meta import ExposureMeta, ReferenceMeta

__all__ = [
    "ArcRefModel",
    "BiasRefModel",
    "CrosstalkRefModel",
    "DarkRefModel",
    "FlatRefModel",
    "GainRefModel",
    "ImageModel",
    "MaskRefModel",
    "RawModel",
    "ReadnoiseRefModel",
    "ReferenceModel",
    "SaturationRefModel",
]

_SCI_F32 = ArraySpec("data", "SCI", "float32", role=SCI)
_ERR_F32 = ArraySpec("err", "ERR", "float32", required=False, fill=0.0)
_DQ_U32 = ArraySpec("dq", "DQ", "uint32", required=False, fill=0)


def _exposure_meta(obstype: str, exptime: float) -> dict[str, Any]:
    return {
        "observation": {"obsid": "10100300001", "date": "2027-01-02", "time": "10:00:00"},
        "exposure": {"type": obstype, "exptime": exptime},
        "target": {"name": "WIDE-0001", "ra": 150.1, "dec": 2.2},
        "instrument": {"name": "MSC", "detector": "06", "filter": "y", "readmode": "NORMAL"},
    }


class RawModel(DataModel):
    """A level-0 exposure of one detector: ``data`` (uint16) in the first image extension."""

    meta_class = ExposureMeta
    array_specs = (ArraySpec("data", "SCI", "uint16", role=SCI),)

    @classmethod
    def _minimal_meta(cls) -> dict[str, Any]:
        return {
            "observation": {"date": "2027-01-02"},
            "instrument": {"name": "MSC", "detector": "06"},
        }

    @classmethod
    def _fake_meta(cls) -> dict[str, Any]:
        return _exposure_meta("SCI", 150.0)


class ImageModel(DataModel):
    """A level-1 image: ``data`` (SCI, float32), ``err`` (ERR, float32), ``dq`` (DQ, uint32).

    ``err`` and ``dq`` are created as zeros of the shape of ``data`` when first read unset.
    """

    meta_class = ExposureMeta
    array_specs = (_SCI_F32, _ERR_F32, _DQ_U32)
    # The arrays are properties made from array_specs when the class is created; named here for
    # the type checker (err and dq read as zeros of data's shape when unset).
    data: np.ndarray
    err: np.ndarray
    dq: np.ndarray

    @classmethod
    def _minimal_meta(cls) -> dict[str, Any]:
        return RawModel._minimal_meta()

    @classmethod
    def _fake_meta(cls) -> dict[str, Any]:
        meta = _exposure_meta("SCI", 150.0)
        meta["ref_file"] = {
            "crds": {"context_used": "csst_0001.pmap", "sw_version": "0.1.0"},
            "bias": {
                "name": "csst_msc_bias_0001.fits",
                "source": RefSource.RULE,
                "checksum": "sha256:" + "0" * 64,
            },
            "readnoise": {"name": "N/A", "source": RefSource.NOT_APPLICABLE},
            "saturation": {"name": "my_sat.fits", "source": RefSource.OVERRIDE},
        }
        meta["cal_step"] = {
            "csst_dq_init": "COMPLETE",
            "csst_bias": "COMPLETE",
            "csst_dark": "SKIPPED",
        }
        return meta


class ReferenceModel(DataModel):
    """Base of the reference models: selection keywords and dependency provenance.

    ``reftype`` is the class's REFTYPE; ``depends_on`` lists the reference types it is built
    from (a dark from a bias, a flat from a bias and a dark), recorded as
    ``meta.ref_file.<reftype>.name`` and written as ``R_<TYPE>``.
    """

    meta_class = ReferenceMeta
    _meta: ReferenceMeta  # an instance of meta_class, as DataModel checks
    reftype: ClassVar[str] = ""
    depends_on: ClassVar[tuple[str, ...]] = ()

    def _check_meta(self) -> None:
        super()._check_meta()
        meta = self._meta
        if meta.reftype != self.reftype:
            raise MetadataError(
                f"REFTYPE={meta.reftype!r} does not fit {type(self).__name__}; "
                f"allowed: {self.reftype!r}",
                keyword="REFTYPE",
                value=meta.reftype,
                allowed=self.reftype,
            )

    def dependencies(self) -> dict[str, str | None]:
        """Return ``{reftype: file name or None}`` for every type in ``depends_on``."""
        entries = self._meta.ref_file.entries()
        return {t: entries[t].name if t in entries else None for t in self.depends_on}

    def validate(self) -> None:
        """Check the arrays; warn when a dependency's provenance is missing."""
        super().validate()
        missing = [t for t, name in self.dependencies().items() if name is None]
        if missing:
            keys = ", ".join(f"meta.ref_file.{t}" for t in missing)
            warnings.warn(
                f"{type(self).__name__} does not record the {'/'.join(missing)} it was built "
                f"from; set {keys} (written as R_<TYPE>)",
                MetadataWarning,
                stacklevel=3,
            )

    @classmethod
    def _minimal_meta(cls) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "reftype": cls.reftype,
            "instrument": {"name": "MSC", "detector": "06"},
            "useafter": "2027-01-01T00:00:00",
            "pedigree": "SIMULATION",
            "description": f"minimal {cls.reftype.lower()} reference",
            "author": "csst-crds-plugin tests",
        }
        deps = {t: {"name": f"csst_msc_{t}_0001.fits"} for t in cls.depends_on}
        if deps:
            meta["ref_file"] = deps
        return meta

    @classmethod
    def _fake_meta(cls) -> dict[str, Any]:
        meta = cls._minimal_meta()
        meta["instrument"].update(filter="y", readmode="NORMAL")
        meta.update(
            pedigree="INFLIGHT 2027-01-01 2027-01-02",
            obsstart="2027-01-01T00:00:00",
            obsend="2027-01-01T06:00:00",
            combine_n=20,
        )
        for dep in meta.get("ref_file", {}).values():
            dep.update(source="rule", checksum="sha256:" + "1" * 64)
        return meta


class BiasRefModel(ReferenceModel):
    """Superbias (``BIAS``): SCI, optional ERR and DQ."""

    reftype = "BIAS"
    array_specs = (_SCI_F32, _ERR_F32, _DQ_U32)


class DarkRefModel(ReferenceModel):
    """Superdark (``DARK``, e-/s), built from a bias (``R_BIAS``)."""

    reftype = "DARK"
    depends_on = ("bias",)
    array_specs = (_SCI_F32, _ERR_F32, _DQ_U32)


class FlatRefModel(ReferenceModel):
    """Detector (LED) flat (``FLAT``), built from a bias and a dark (``R_BIAS``, ``R_DARK``)."""

    reftype = "FLAT"
    depends_on = ("bias", "dark")
    array_specs = (_SCI_F32, _ERR_F32, _DQ_U32)


class GainRefModel(ReferenceModel):
    """Gain map (``GAIN``, e-/ADU)."""

    reftype = "GAIN"
    array_specs = (_SCI_F32,)


class ReadnoiseRefModel(ReferenceModel):
    """Read-noise map (``READNOISE``, e-)."""

    reftype = "READNOISE"
    array_specs = (_SCI_F32,)


class SaturationRefModel(ReferenceModel):
    """Saturation map (``SATURATION``, ADU)."""

    reftype = "SATURATION"
    array_specs = (_SCI_F32,)


class MaskRefModel(ReferenceModel):
    """Bad/hot pixel mask (``MASK``): ``dq`` (DQ, uint32)."""

    reftype = "MASK"
    array_specs = (ArraySpec("dq", "DQ", "uint32", role=SCI),)


class CrosstalkRefModel(ReferenceModel):
    """Crosstalk coefficients (``CROSSTALK``): a 16 × 16 float64 matrix, stored as TOML."""

    reftype = "CROSSTALK"
    text_formats = ("toml",)
    array_specs = (ArraySpec("coefficients", "COEFFS", "float64", shape=(16, 16), role=SCI),)


class ArcRefModel(ReferenceModel):
    """IFS arc line list (``ARC``): ``lines`` (wavelength nm, intensity, species), as YAML."""

    reftype = "ARC"
    text_formats = ("yaml",)
    array_specs = (
        ArraySpec(
            "lines",
            "LINES",
            [("wavelength", "float64"), ("intensity", "float64"), ("species", "U16")],
            role=SCI,
        ),
    )

    @classmethod
    def _minimal_meta(cls) -> dict[str, Any]:
        meta = super()._minimal_meta()
        meta["instrument"] = {"name": "IFS", "detector": "IFS"}
        return meta

    @classmethod
    def _fake_meta(cls) -> dict[str, Any]:
        meta = super()._fake_meta()
        meta["instrument"] = {"name": "IFS", "detector": "IFS", "filter": "N/A", "readmode": "N/A"}
        return meta
