"""CSST instrument tables and the keyword normalisers built on them.

The tables are data kept once, in the engine's description of the CSST observatory
(``csst_crds_plugin/observatories/csst.toml``), which certify and the catalogue scanner read
too. They follow ``CSST.md``: the MSC chip → filter mapping of §1.1 (confirmed for the
simulation cycles C3–C5), the MCI channels ``C1..C3`` with the *invented* demo filters of
§5.1, the OBSID module digits of §1.2 and the filter spellings of §5.3.  Tables marked
*confirmed* make a mismatch an error; tables marked *unconfirmed* only warn.

Every normaliser takes the raw value and returns the normalised one, or raises
`ValueError` whose message says what is allowed (the metadata layer adds the keyword and the
place it came from) or issues a `datamodels.errors.MetadataWarning`.
"""

from __future__ import annotations

import datetime as _dt
import re
import warnings
from typing import NamedTuple

from csst_crds_plugin.observatories import get_observatory
from csst_crds_plugin.observatories import keywords as _keywords
from csst_crds_plugin.results import NA
from datamodels.errors import MetadataWarning

__all__ = [
    "INSTRUMENTS",
    "MCI_CHANNEL_FILTERS",
    "MSC_CHIP_FILTERS",
    "MSC_FILTERS",
    "OBSERVATORY",
    "OBSID_MODULES",
    "PEDIGREES",
    "READMODES",
    "ObsId",
    "allowed_detectors",
    "keyword_aliases",
    "normalise_date",
    "normalise_detector",
    "normalise_filter",
    "normalise_instrument",
    "normalise_pedigree",
    "normalise_readmode",
    "normalise_time",
    "normalise_useafter",
    "parse_obsid",
]

OBSERVATORY = get_observatory("csst")
"""The CSST description the tables below are read from."""

#: The five first-generation CSST modules (CSST.md §1).
INSTRUMENTS: tuple[str, ...] = tuple(OBSERVATORY.instruments)

#: MSC chip → filter or grating (CSST.md §1.1, confirmed for cycles C3–C5).
MSC_CHIP_FILTERS: dict[str, str] = {
    chip: bands[0] for chip, bands in OBSERVATORY.instruments["MSC"].detector_filters.items()}

#: Normalised MSC band spellings (CSST.md §5.3).
MSC_FILTERS: tuple[str, ...] = OBSERVATORY.instruments["MSC"].filters

#: MCI channel → filters.  The filter names are INVENTED for the demo (CSST.md §5.1), so a
#: filter outside this table only warns.
MCI_CHANNEL_FILTERS: dict[str, tuple[str, ...]] = dict(
    OBSERVATORY.instruments["MCI"].detector_filters)

#: OBSID module digit → instrument (CSST.md §1.2; only MSC and MCI are known).
OBSID_MODULES: dict[str, str] = dict(OBSERVATORY.tables.obsid_modules)

#: READMODE values (an INVENTED placeholder, CSST.md §5.3): others warn.
READMODES: tuple[str, ...] = OBSERVATORY.tables.readmodes

#: PEDIGREE values; ``INFLIGHT`` takes two dates (CSST.md §5.3).
PEDIGREES: tuple[str, ...] = OBSERVATORY.tables.pedigrees

_OBSID_RE = re.compile(r"^[1-9][0-9]{10}$")
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TIME_RE = re.compile(r"^[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?$")


def _warn(message: str | None) -> None:
    if message:
        warnings.warn(message, MetadataWarning, stacklevel=4)


def keyword_aliases(name: str) -> tuple[str, ...]:
    """The other header keywords a raw file may use for selection keyword `name`."""
    found = OBSERVATORY.keyword(name)
    return found.aliases if found is not None else ()


def normalise_instrument(value: object) -> str:
    """Return the upper-case instrument name; raise `ValueError` if it is not a CSST module."""
    return _keywords.normalise_instrument(OBSERVATORY, value)


def allowed_detectors(instrument: str) -> str:
    """Describe the detectors of ``instrument`` for error messages."""
    return _keywords.allowed_detectors(OBSERVATORY, instrument)


def normalise_detector(instrument: str, value: object) -> str:
    """Normalise a detector name for ``instrument``.

    MSC: ``'CCD06'``, ``'6'`` or ``6`` → ``'06'``; MCI: ``'c1'`` → ``'C1'``.  An unknown
    detector of an instrument with a confirmed list raises `ValueError`; of one with an
    unconfirmed list, it warns.
    """
    name, warning = _keywords.normalise_detector(OBSERVATORY, instrument, value)
    _warn(warning)
    return name


def normalise_filter(instrument: str, detector: str | None, value: object | None) -> str | None:
    """Normalise a filter and check it against the detector.

    MSC: spellings ``nuv``/``N`` → ``NUV``, ``U``/``Y`` … → ``u``/``y``; a missing filter
    is derived from the chip; a filter not on the chip raises `ValueError`.  MCI: upper
    case; a filter not in the (invented) channel table warns.  ``'N/A'`` passes unchanged.
    """
    name, warning = _keywords.normalise_filter(OBSERVATORY, instrument, detector, value)
    _warn(warning)
    return name


def normalise_readmode(value: object | None) -> str | None:
    """Upper-case READMODE; warn on a value outside the invented placeholder list."""
    if value is None:
        return None
    name = str(value).strip().upper()
    if name not in (*READMODES, NA):
        _warn(f"READMODE={value!r} is not one of {', '.join(READMODES)} (an invented list)")
    return name


def normalise_date(value: object) -> str:
    """Check a ``YYYY-MM-DD`` calendar date; raise `ValueError` otherwise."""
    text = str(value).strip()
    try:
        if not _DATE_RE.match(text):
            raise ValueError(text)
        _dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError("is not a date; allowed: 'YYYY-MM-DD' (a real calendar date)") from None
    return text


def normalise_time(value: object) -> str:
    """Check an ``HH:MM:SS[.ffffff]`` time of day; raise `ValueError` otherwise."""
    text = str(value).strip()
    try:
        if not _TIME_RE.match(text):
            raise ValueError(text)
        _dt.time.fromisoformat(text)
    except ValueError:
        raise ValueError("is not a time; allowed: 'HH:MM:SS[.ffffff]'") from None
    return text


def normalise_useafter(value: object) -> str:
    """Normalise a USEAFTER to ``YYYY-MM-DDThh:mm:ss`` (a space separator is accepted)."""
    text = str(value).strip().replace(" ", "T", 1)
    date, _, time = text.partition("T")
    try:
        return f"{normalise_date(date)}T{normalise_time(time)}"
    except ValueError:
        raise ValueError("is not a date-time; allowed: 'YYYY-MM-DDThh:mm:ss'") from None


def normalise_pedigree(value: object) -> str:
    """Check PEDIGREE: SIMULATION, GROUND, DUMMY, MODEL or ``INFLIGHT <start> <end>``."""
    words = str(value).strip().upper().split()
    allowed = "SIMULATION, GROUND, DUMMY, MODEL or 'INFLIGHT YYYY-MM-DD YYYY-MM-DD'"
    if not words or words[0] not in PEDIGREES:
        raise ValueError(f"is not a pedigree; allowed: {allowed}")
    if words[0] == "INFLIGHT":
        if len(words) != 3:  # noqa: PLR2004
            raise ValueError(f"needs two dates; allowed: {allowed}")
        for word in words[1:]:
            normalise_date(word)
    elif len(words) != 1:
        raise ValueError(f"takes no dates; allowed: {allowed}")
    return " ".join(words)


class ObsId(NamedTuple):
    """An 11-digit CSST OBSID split into its parts (CSST.md §1.2)."""

    module: str
    obs_type: str
    exposure: str

    @property
    def instrument(self) -> str | None:
        """The instrument of the module digit, when known."""
        return OBSID_MODULES.get(self.module)

    def __str__(self) -> str:
        return f"{self.module}{self.obs_type}{self.exposure}"


def parse_obsid(value: object) -> ObsId:
    """Split an OBSID: module (1 digit), observation type (2) and exposure number (8).

    Raises
    ------
    ValueError
        When the value is not 11 digits starting with a non-zero module digit.
    """
    text = str(value).strip()
    if not _OBSID_RE.match(text):
        raise ValueError(
            "is not a CSST OBSID; allowed: 11 digits = module (1-9) + observation type (2) "
            "+ exposure number (8), e.g. '10100300001'"
        )
    return ObsId(text[0], text[1:3], text[3:])
