"""Reference constraints kept as data: TOML files per instrument, validated by pydantic models.

``data/<observatory>/all.toml`` holds what every reference of the observatory needs; one file per
instrument (``msc.toml``, ...) adds its own keyword values, keyword combinations (the MSC
chip → filter table) and one table per reference type (extra keywords, arrays, formats).
The format is documented in ``docs/certify.md``.
"""

from __future__ import annotations

import functools
import re
import tomllib
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from csst_crds_plugin.errors import ConfigurationError
from csst_crds_plugin.observatories import Instrument, Observatory, get_observatory

__all__ = [
    "ArrayRule",
    "Combination",
    "Constraints",
    "InstrumentFile",
    "KeywordRule",
    "ReftypeRule",
    "constraints_for",
    "load_observatory",
]

Severity = Literal["error", "warning"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KeywordRule(_Strict):
    """One header keyword: presence, type and allowed values."""

    presence: Literal["required", "optional", "warn", "excluded"] = "optional"
    """required: missing is an error; warn: missing is a warning; excluded: must be absent."""
    type: Literal["str", "int", "float", "bool"] = "str"
    values: tuple[str, ...] = ()
    """Allowed values (compared case-insensitively); empty means any value of the type."""
    na: bool = True
    """Whether 'N/A' is accepted besides `values`."""
    values_severity: Severity = "error"
    """How a value outside `values` is reported (warning for unconfirmed lists)."""
    format: Literal["useafter", "pedigree", "reference", "nonempty", ""] = ""
    """A named validator (see docs/certify.md)."""
    range: tuple[float, float] | None = None
    """Inclusive numeric range."""
    reftype: str = ""
    """For format='reference': the reference type the named file must have."""
    description: str = ""

    def merged(self, other: KeywordRule) -> KeywordRule:
        """Return this rule with the fields `other` sets explicitly."""
        return self.model_copy(update=other.model_dump(exclude_unset=True))


class ArrayRule(_Strict):
    """One array (FITS extension, ASDF or document entry): shape, type, NaN policy."""

    presence: Literal["required", "optional"] = "required"
    kind: Literal["image", "table"] = "image"
    dtypes: tuple[str, ...] = ()
    """Allowed numpy dtype names (``float32``, ``uint32``, ...); empty means any."""
    ndim: int | None = None
    shape: tuple[int, ...] | None = None
    """An exact shape (numpy order)."""
    max_shape: tuple[int, ...] | None = None
    same_shape_as: str = ""
    nan: bool = True
    """Whether NaN values are allowed (floating arrays only)."""
    columns: tuple[str, ...] = ()
    """Required table columns."""


class Combination(_Strict):
    """Allowed values of keyword `of` for each value of keyword `by` (e.g. FILTER per chip)."""

    by: str
    of: str
    table: dict[str, tuple[str, ...]]
    severity: Severity = "error"
    source: str = ""


class ReftypeRule(_Strict):
    """What one reference type adds: keywords, arrays, allowed file formats."""

    description: str = ""
    formats: tuple[str, ...] = ("fits", "asdf")
    keywords: dict[str, KeywordRule] = Field(default_factory=dict)
    arrays: dict[str, ArrayRule] = Field(default_factory=dict)
    template: str = ""
    """Name of a template in the instrument file whose arrays this type uses."""


class InstrumentFile(_Strict):
    """The content of one constraints file (``all.toml`` or ``<instrument>.toml``)."""

    instrument: str = ""
    description: str = ""
    keywords: dict[str, KeywordRule] = Field(default_factory=dict)
    combinations: tuple[Combination, ...] = ()
    templates: dict[str, dict[str, ArrayRule]] = Field(default_factory=dict)
    reftypes: dict[str, ReftypeRule] = Field(default_factory=dict)
    array_aliases: dict[str, str] = Field(default_factory=dict)
    """ASDF/document entry names for FITS extension names (``data`` → ``SCI``)."""
    instruments: tuple[str, ...] = ()
    """all.toml only: the instruments that have a constraints file."""


class Constraints(_Strict):
    """The merged constraints for one instrument and reference type."""

    instrument: str
    reftype: str
    known_instrument: bool
    known_reftype: bool
    keywords: dict[str, KeywordRule]
    arrays: dict[str, ArrayRule]
    formats: tuple[str, ...]
    combinations: tuple[Combination, ...]
    array_aliases: dict[str, str]


def _read(package: str, name: str) -> InstrumentFile:
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    try:
        return InstrumentFile.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigurationError(f"constraints file {package}/{name} is invalid: {exc}") from exc


def _keyword(rules: dict[str, KeywordRule], name: str, **fields: object) -> KeywordRule:
    """Return the rule `name` of `rules` with `fields` set (a new rule if there is none)."""
    found = rules.get(name, KeywordRule())
    return found.merged(KeywordRule.model_validate(fields))


def _with_instruments(common: InstrumentFile, described: Observatory) -> InstrumentFile:
    """all.toml with the observatory's instruments (the list and the INSTRUME values)."""
    if not described.instruments:
        return common
    names = tuple(described.instruments)
    keywords = dict(common.keywords)
    keywords["INSTRUME"] = _keyword(keywords, "INSTRUME", values=names, na=False)
    return common.model_copy(update={"instruments": names, "keywords": keywords})


def _with_tables(found: InstrumentFile, instrument: Instrument | None) -> InstrumentFile:
    """Return an instrument file with the observatory's detector and filter tables.

    The tables (detectors, filters, the detector → filter table) are kept once, in the
    observatory description; an unconfirmed list or table gives warnings, not errors.
    """
    if instrument is None:
        return found
    keywords = dict(found.keywords)
    combinations = found.combinations
    if instrument.detector_names():
        keywords["DETECTOR"] = _keyword(
            keywords, "DETECTOR", values=instrument.detector_names(),
            values_severity="error" if instrument.detectors_confirmed else "warning")
    if instrument.filters:
        keywords["FILTER"] = _keyword(keywords, "FILTER", values=instrument.filters)
    if instrument.detector_filters:
        combinations = (*combinations, Combination(
            by="DETECTOR", of="FILTER", table=dict(instrument.detector_filters),
            severity="error" if instrument.filters_confirmed else "warning",
            source=instrument.filter_source))
    return found.model_copy(update={"keywords": keywords, "combinations": combinations})


@functools.cache
def load_observatory(observatory: str) -> tuple[InstrumentFile, dict[str, InstrumentFile]]:
    """Return the observatory's common file and its instrument files (by upper-case name).

    An observatory without constraints gets an empty common file and no instruments.
    """
    if not re.fullmatch(r"[a-z]{1,8}", observatory.lower()):
        return InstrumentFile(), {}  # not an observatory name (RULES.md §1.1)
    package = f"csst_crds_plugin.tools.certify.data.{observatory.lower()}"
    try:
        common = _read(package, "all.toml")
    except (ModuleNotFoundError, FileNotFoundError):
        return InstrumentFile(), {}
    described = get_observatory(observatory)
    common = _with_instruments(common, described)
    files = {}
    for instrument in common.instruments:
        name = f"{instrument.lower()}.toml"
        files[instrument.upper()] = found = _with_tables(
            _read(package, name), described.instruments.get(instrument.upper()))
        for reftype, rule in found.reftypes.items():
            if rule.template and rule.template not in found.templates:
                raise ConfigurationError(
                    f"constraints file {package}/{name}: reftypes.{reftype}.template names "
                    f"{rule.template!r}, which is not in [templates]"
                )
    return common, files


def constraints_for(observatory: str, instrument: str, reftype: str) -> Constraints:
    """Merge the constraints: common < instrument < reference type.

    An unknown instrument or type gets what is known (``known_instrument``, ``known_reftype``
    say which); an observatory without constraints files gets empty constraints.
    """
    common, files = load_observatory(observatory)
    instrument, reftype = instrument.upper(), reftype.lower()
    keywords = dict(common.keywords)
    specific = files.get(instrument, InstrumentFile())
    rule = specific.reftypes.get(reftype)
    for layer in (specific.keywords, rule.keywords if rule else {}):
        for name, keyword in layer.items():
            keywords[name] = keywords[name].merged(keyword) if name in keywords else keyword
    arrays: dict[str, ArrayRule] = {}
    if rule is not None:
        if rule.template:
            arrays.update(specific.templates[rule.template])
        arrays.update(rule.arrays)
    return Constraints(
        instrument=instrument, reftype=reftype, known_instrument=instrument in files,
        known_reftype=rule is not None, keywords=keywords, arrays=arrays,
        formats=rule.formats if rule else (),
        combinations=common.combinations + specific.combinations,
        array_aliases={**common.array_aliases, **specific.array_aliases},
    )
