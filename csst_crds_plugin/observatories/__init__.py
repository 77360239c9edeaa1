"""What distinguishes one observatory from another, as data: one TOML file per observatory.

``<name>.toml`` beside this module describes an observatory: how its rules spell data-model
paths (``meta_prefix``), the keys CRDS adds to every lookup (``extra_keys``), instrument
aliases, how certify treats equal-weight rules when merging, where its models record
provenance, and, for CSST, the selection keywords and the instrument tables (detectors, the
chip → filter table, filter spellings). The engine, the data models, certify and the
catalogue scanner all read it here; adding an observatory is adding a file (and its tests).

An observatory without a file (a third-party cache) gets `Observatory` defaults: no prefix,
no extra keys, no tables.
"""

from __future__ import annotations

import functools
import re
import tomllib
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from csst_crds_plugin.errors import ConfigurationError

__all__ = [
    "DEFAULT_OBSERVATORY",
    "Instrument",
    "Observatory",
    "SelectionKeyword",
    "get_observatory",
    "known_observatories",
]

DEFAULT_OBSERVATORY = "csst"
"""The observatory a command or API call means when none is named."""

_NAME = re.compile(r"[a-z][a-z0-9]{0,15}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SelectionKeyword(_Strict):
    """A selection keyword as the data models write it."""

    name: str
    """The FITS keyword (``DETECTOR``)."""
    path: str
    """The ASDF ``meta`` path (``instrument.detector``)."""
    header: Literal["PRIMARY", "SCI"] = "PRIMARY"
    """The FITS header the data models write it to (a reader looks there first)."""
    aliases: tuple[str, ...] = ()
    """Other keywords a raw header may use for it."""


class Instrument(_Strict):
    """One instrument's tables."""

    description: str = ""
    detectors: tuple[str, ...] = ()
    """The detector names; default the keys of `detector_filters`."""
    detectors_confirmed: bool = False
    """True: a detector outside the list is an error; False: it only warns."""
    detector_pattern: str = ""
    """A regular expression whose group 1 is the detector number (``CCD06`` → ``06``)."""
    detector_format: str = ""
    """How the number of `detector_pattern` is written (``{:02d}``)."""
    detector_help: str = ""
    """The allowed detectors, as error messages say them."""
    filters: tuple[str, ...] = ()
    """Normalised filter names; empty means any (upper-cased)."""
    filters_confirmed: bool = False
    """True: a filter outside the tables is an error; False: it only warns."""
    filter_source: str = ""
    """Where the filter tables come from (for messages)."""
    filter_spellings: dict[str, str] = Field(default_factory=dict)
    """Upper-case spelling → normalised filter name."""
    detector_filters: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Detector → the filters it can carry."""

    def detector_names(self) -> tuple[str, ...]:
        """Return the detectors: `detectors`, else the keys of `detector_filters`."""
        return self.detectors or tuple(self.detector_filters)


class Provenance(_Strict):
    """Where the observatory's output models record the context, version and references."""

    writer: Literal["plugin", "mission"] = "mission"
    """``plugin``: the plugin writes its own record; ``mission``: the mission's code does."""
    context: str = ""
    version: str = ""
    reference: str = ""


class Tables(_Strict):
    """Further tables of one observatory."""

    obsid_modules: dict[str, str] = Field(default_factory=dict)
    readmodes: tuple[str, ...] = ()
    pedigrees: tuple[str, ...] = ()


class Observatory(_Strict):
    """One observatory's description (see the module docstring)."""

    name: str
    title: str = ""
    meta_prefix: str = ""
    """Prefix the rules give to data-model paths: Roman's ``META.X`` is ``ROMAN.META.X``."""
    extra_keys: tuple[str, ...] = ()
    """Keys CRDS adds to every rmap's lookup keys (RULES.md §1.3)."""
    instrument_aliases: dict[str, str] = Field(default_factory=dict)
    """Lower-case instrument name → the pmap's name for it."""
    merge_ambiguity: Literal["error", "warning"] = "error"
    """How certify and insert report equal-weight rules when merging overlaps."""
    provenance: Provenance = Provenance()
    keywords: tuple[SelectionKeyword, ...] = ()
    tables: Tables = Tables()
    instruments: dict[str, Instrument] = Field(default_factory=dict)

    def rule_key(self, name: str) -> str:
        """Return a parameter name as this observatory's rules spell it (upper case)."""
        upper = name.upper()
        if self.meta_prefix and upper.startswith("META."):
            return self.meta_prefix + upper
        return upper

    def keyword(self, name: str) -> SelectionKeyword | None:
        """Return the selection keyword `name`, if described."""
        return next((k for k in self.keywords if k.name == name.upper()), None)


def _package() -> str:
    return __name__


@functools.cache
def get_observatory(name: str) -> Observatory:
    """Return the description of observatory `name` (any case); defaults if there is none."""
    key = str(name).strip().lower()
    if not _NAME.fullmatch(key):
        return Observatory(name=key)
    source = resources.files(_package()).joinpath(f"{key}.toml")
    if not source.is_file():
        return Observatory(name=key)
    try:
        found = Observatory.model_validate(tomllib.loads(source.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigurationError(f"observatory description {key}.toml is invalid: {exc}") \
            from exc
    if found.name != key:
        raise ConfigurationError(f"observatory description {key}.toml names {found.name!r}")
    return found


def known_observatories() -> tuple[str, ...]:
    """Return the observatories that have a description, sorted."""
    return tuple(sorted(entry.name.removesuffix(".toml")
                        for entry in resources.files(_package()).iterdir()
                        if entry.name.endswith(".toml")))
