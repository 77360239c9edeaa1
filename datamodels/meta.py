"""Metadata of CSST exposures and references as pydantic v2 models.

Every leaf field declares its FITS keyword and HDU once (``Annotated[..., FitsKeyword(...)]``);
the FITS, ASDF, TOML and YAML readers and writers walk these classes.  Normalisation follows
CSST.md §5.3 (see `datamodels.instruments`).
"""

from __future__ import annotations

import warnings
from typing import Annotated, Any, ClassVar

from pydantic import Field, field_validator, model_validator

from csst_crds_plugin.results import NA
from datamodels._fields import PRIMARY, SCI, FitsKeyword, KeywordValueError, MetaBase, fits_float
from datamodels.errors import MetadataWarning
from datamodels.instruments import (
    ObsId,
    keyword_aliases,
    normalise_date,
    normalise_detector,
    normalise_filter,
    normalise_instrument,
    normalise_pedigree,
    normalise_readmode,
    normalise_time,
    normalise_useafter,
    parse_obsid,
)
from datamodels.provenance import CalStep, RefFile, RunInfo

__all__ = [
    "ExposureInfo",
    "ExposureMeta",
    "InstrumentMeta",
    "MetaCommon",
    "ObservationMeta",
    "RefInstrumentMeta",
    "ReferenceMeta",
    "TargetMeta",
]


def _float(value: float | None) -> float | None:
    return None if value is None else fits_float(value)


class _InstrumentBase(MetaBase):
    """Shared normalisation of INSTRUME, DETECTOR, FILTER and READMODE."""

    _derive_filter: ClassVar[bool] = True
    _allow_na_detector: ClassVar[bool] = False

    name: str
    detector: str
    filter: str | None = None
    readmode: str | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> str:
        return normalise_instrument(value)

    @field_validator("readmode", mode="before")
    @classmethod
    def _readmode(cls, value: Any) -> str | None:
        return normalise_readmode(value)

    @model_validator(mode="after")
    def _detector_and_filter(self) -> _InstrumentBase:
        state = self.__dict__
        detector = self.detector
        if not (self._allow_na_detector and str(detector).upper() == NA):
            try:
                detector = normalise_detector(self.name, detector)
            except ValueError as exc:
                raise KeywordValueError("detector", self.detector, str(exc)) from None
        else:
            detector = NA
        state["detector"] = detector
        if self.filter is None and not self._derive_filter:
            return self
        try:
            state["filter"] = normalise_filter(self.name, detector, self.filter)
        except ValueError as exc:
            raise KeywordValueError("filter", self.filter, str(exc)) from None
        return self


class InstrumentMeta(_InstrumentBase):
    """Instrument and detector of an exposure (written to the SCI extension header)."""

    name: Annotated[str, FitsKeyword("INSTRUME", SCI, "CSST instrument (module)")]
    detector: Annotated[
        str, FitsKeyword("DETECTOR", SCI, "detector (chip) name",
                         aliases=keyword_aliases("DETECTOR"))
    ]
    filter: Annotated[str | None, FitsKeyword("FILTER", SCI, "filter or grating")] = None
    readmode: Annotated[str | None, FitsKeyword("READMODE", SCI, "readout mode")] = None


class RefInstrumentMeta(_InstrumentBase):
    """Selection keywords of a reference (primary header); ``'N/A'`` where they do not apply."""

    _derive_filter: ClassVar[bool] = False
    _allow_na_detector: ClassVar[bool] = True

    name: Annotated[str, FitsKeyword("INSTRUME", PRIMARY, "CSST instrument (module)")]
    detector: Annotated[str, FitsKeyword("DETECTOR", PRIMARY, "detector (chip) name")] = NA
    filter: Annotated[str | None, FitsKeyword("FILTER", PRIMARY, "filter or grating")] = None
    readmode: Annotated[str | None, FitsKeyword("READMODE", PRIMARY, "readout mode")] = None


class ObservationMeta(MetaBase):
    """OBSID and exposure start; an ISO ``DATE-OBS`` with a time part is split."""

    obsid: Annotated[str | None, FitsKeyword("OBSID", comment="observation ID")] = None
    date: Annotated[str, FitsKeyword("DATE-OBS", comment="exposure start date (UTC)")]
    time: Annotated[str | None, FitsKeyword("TIME-OBS", comment="exposure start time (UTC)")] = None

    @model_validator(mode="before")
    @classmethod
    def _split_iso(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("date"), str):
            return data
        date, sep, time = data["date"].strip().replace(" ", "T", 1).partition("T")
        if not sep:
            return data
        given = data.get("time")
        if given not in (None, "") and str(given).strip() != time:
            raise KeywordValueError(
                "time", given, f"disagrees with DATE-OBS={data['date']!r}; allowed: {time!r}"
            )
        return {**data, "date": date, "time": time}

    @field_validator("obsid", mode="before")
    @classmethod
    def _obsid(cls, value: Any) -> str | None:
        return None if value is None else str(parse_obsid(value))

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> str:
        return normalise_date(value)

    @field_validator("time", mode="before")
    @classmethod
    def _time(cls, value: Any) -> str | None:
        return None if value is None else normalise_time(value)

    @property
    def obsid_parts(self) -> ObsId | None:
        """The OBSID split into module, observation type and exposure number."""
        return None if self.obsid is None else parse_obsid(self.obsid)


class ExposureInfo(MetaBase):
    """Observation type and exposure time."""

    type: Annotated[
        str | None, FitsKeyword("OBSTYPE", comment="observation type",
                                aliases=keyword_aliases("OBSTYPE"))
    ] = None
    exptime: Annotated[float | None, FitsKeyword("EXPTIME", comment="exposure time (s)")] = Field(
        default=None, ge=0
    )

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> str | None:
        if value is None:
            return None
        text = str(value).strip().upper()
        if not text:
            raise ValueError("is empty; allowed: a non-empty type such as SCI, BIAS, DARK, FLAT")
        return text

    _exptime = field_validator("exptime", mode="after")(_float)


class TargetMeta(MetaBase):
    """Target name and coordinates."""

    name: Annotated[str | None, FitsKeyword("OBJECT", comment="target name")] = None
    ra: Annotated[
        float | None, FitsKeyword("RA_OBJ", comment="target RA (deg)", aliases=("OBJ_RA",))
    ] = Field(default=None, ge=0, lt=360)
    dec: Annotated[
        float | None, FitsKeyword("DEC_OBJ", comment="target Dec (deg)", aliases=("OBJ_DEC",))
    ] = Field(default=None, ge=-90, le=90)

    _coords = field_validator("ra", "dec", mode="after")(_float)


class MetaCommon(MetaBase):
    """Fields shared by every model: class, file name, telescope, provenance."""

    model_type: Annotated[str | None, FitsKeyword("DATAMODL", comment="CSST data model")] = None
    filename: Annotated[str | None, FitsKeyword("FILENAME", comment="file name")] = None
    telescope: Annotated[str, FitsKeyword("TELESCOP", comment="telescope")] = "CSST"
    ref_file: RefFile = Field(default_factory=RefFile)
    cal_step: CalStep = Field(default_factory=CalStep)
    run: RunInfo = Field(default_factory=RunInfo)

    @field_validator("telescope", mode="after")
    @classmethod
    def _telescope(cls, value: str) -> str:
        if value.upper() != "CSST":
            warnings.warn(f"TELESCOP={value!r} is not 'CSST'", MetadataWarning, stacklevel=2)
        return value


class ExposureMeta(MetaCommon):
    """Metadata of a level-0 or level-1 exposure."""

    observation: ObservationMeta
    exposure: ExposureInfo = Field(default_factory=ExposureInfo)
    target: TargetMeta = Field(default_factory=TargetMeta)
    instrument: InstrumentMeta

    @model_validator(mode="after")
    def _obsid_module(self) -> ExposureMeta:
        parts = self.observation.obsid_parts
        if parts is not None and parts.instrument not in (None, self.instrument.name):
            warnings.warn(
                f"OBSID={self.observation.obsid!r} has module digit {parts.module} "
                f"({parts.instrument}) but INSTRUME={self.instrument.name!r}",
                MetadataWarning,
                stacklevel=2,
            )
        return self


class ReferenceMeta(MetaCommon):
    """Metadata of a reference file: CRDS-style selection keywords and dependency provenance."""

    reftype: Annotated[str, FitsKeyword("REFTYPE", comment="reference type")]
    instrument: RefInstrumentMeta
    useafter: Annotated[str, FitsKeyword("USEAFTER", comment="use after (UTC)")]
    pedigree: Annotated[str, FitsKeyword("PEDIGREE", comment="origin of the data")]
    description: Annotated[str, FitsKeyword("DESCRIP", comment="description")] = Field(min_length=1)
    author: Annotated[str, FitsKeyword("AUTHOR", comment="author")] = Field(min_length=1)
    obsstart: Annotated[str | None, FitsKeyword("OBSSTART", comment="first input (UTC)")] = None
    obsend: Annotated[str | None, FitsKeyword("OBSEND", comment="last input (UTC)")] = None
    combine_n: Annotated[
        int | None, FitsKeyword("NCOMBINE", comment="inputs combined (COMBINE_N)")
    ] = Field(default=None, ge=1)

    @field_validator("reftype", mode="before")
    @classmethod
    def _reftype(cls, value: Any) -> str:
        text = str(value).strip().upper()
        if not text.isidentifier():
            raise ValueError("is not a reference type; allowed: a name such as BIAS, DARK, FLAT")
        return text

    @field_validator("useafter", "obsstart", "obsend", mode="before")
    @classmethod
    def _datetime(cls, value: Any) -> str | None:
        return None if value is None else normalise_useafter(value)

    @field_validator("pedigree", mode="before")
    @classmethod
    def _pedigree(cls, value: Any) -> str:
        return normalise_pedigree(value)
