"""CSST instrument tables (data, not code) and the keyword normalisers built on them.

The tables follow ``CSST.md``: the MSC chip → filter mapping of §1.1 (confirmed for the
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

from datamodels.errors import MetadataWarning

__all__ = [
    "INSTRUMENTS",
    "MCI_CHANNEL_FILTERS",
    "MSC_CHIP_FILTERS",
    "MSC_FILTERS",
    "NOT_APPLICABLE",
    "OBSID_MODULES",
    "PEDIGREES",
    "READMODES",
    "ObsId",
    "allowed_detectors",
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

#: The value written for a selection keyword that does not apply (CRDS and CSST L1 convention).
NOT_APPLICABLE = "N/A"

#: The five first-generation CSST modules (CSST.md §1).
INSTRUMENTS: tuple[str, ...] = ("MSC", "MCI", "IFS", "CPIC", "HSTDM")

#: MSC chip → filter or grating (CSST.md §1.1, confirmed for cycles C3–C5).
MSC_CHIP_FILTERS: dict[str, str] = {
    "01": "GI", "02": "GV", "03": "GU", "04": "GU", "05": "GV",
    "06": "y", "07": "i", "08": "g", "09": "r", "10": "GI",
    "11": "z", "12": "NUV", "13": "NUV", "14": "u", "15": "y",
    "16": "y", "17": "u", "18": "NUV", "19": "NUV", "20": "z",
    "21": "GI", "22": "r", "23": "g", "24": "i", "25": "y",
    "26": "GV", "27": "GU", "28": "GU", "29": "GV", "30": "GI",
}  # fmt: skip

#: Normalised MSC band spellings (CSST.md §5.3).
MSC_FILTERS: tuple[str, ...] = ("NUV", "u", "g", "r", "i", "z", "y", "GU", "GV", "GI")

#: MCI channel → filters.  The filter names are INVENTED for the demo (CSST.md §5.1), so a
#: filter outside this table only warns.
MCI_CHANNEL_FILTERS: dict[str, tuple[str, ...]] = {
    "C1": ("F275W", "F336W"),
    "C2": ("F475W", "F555W"),
    "C3": ("F814W", "F850LP"),
}

#: Detectors per instrument and whether the list is confirmed (a stranger is an error) or not
#: (a stranger warns).  HSTDM has no detector table: any non-empty name is accepted.
_DETECTORS: dict[str, tuple[tuple[str, ...], bool]] = {
    "MSC": (tuple(MSC_CHIP_FILTERS), True),
    "MCI": (tuple(MCI_CHANNEL_FILTERS), True),
    "IFS": (("IFS", "B", "R"), False),
    "CPIC": (("EMCCD", "NIR"), True),
}

#: OBSID module digit → instrument (CSST.md §1.2; only MSC and MCI are known).
OBSID_MODULES: dict[str, str] = {"1": "MSC", "2": "MCI"}

#: READMODE values (an INVENTED placeholder, CSST.md §5.3): others warn.
READMODES: tuple[str, ...] = ("NORMAL", "FAST")

#: PEDIGREE values; ``INFLIGHT`` takes two dates (CSST.md §5.3).
PEDIGREES: tuple[str, ...] = ("SIMULATION", "GROUND", "DUMMY", "MODEL", "INFLIGHT")

_FILTER_SPELLINGS: dict[str, str] = {"N": "NUV", "NUV": "NUV"}
_GRISMS = ("GU", "GV", "GI")
_OBSID_RE = re.compile(r"^[1-9][0-9]{10}$")
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TIME_RE = re.compile(r"^[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?$")
_MSC_DET_RE = re.compile(r"^(?:CCD)?0*([0-9]{1,2})$", re.IGNORECASE)


def _warn(message: str) -> None:
    warnings.warn(message, MetadataWarning, stacklevel=4)


def normalise_instrument(value: object) -> str:
    """Return the upper-case instrument name; raise `ValueError` if it is not a CSST module."""
    name = str(value).strip().upper()
    if name not in INSTRUMENTS:
        raise ValueError(f"is not a CSST instrument; allowed: {', '.join(INSTRUMENTS)}")
    return name


def allowed_detectors(instrument: str) -> str:
    """Describe the detectors of ``instrument`` for error messages."""
    if instrument == "MSC":
        return "01..30 (also written CCD06 or 6)"
    names, _confirmed = _DETECTORS.get(instrument, ((), False))
    return ", ".join(names) if names else "any non-empty name"


def normalise_detector(instrument: str, value: object) -> str:
    """Normalise a detector name for ``instrument``.

    MSC: ``'CCD06'``, ``'6'`` or ``6`` → ``'06'``; MCI: ``'c1'`` → ``'C1'``.  An unknown
    detector of an instrument with a confirmed list raises `ValueError`; of one with an
    unconfirmed list, it warns.
    """
    text = str(value).strip()
    if not text:
        raise ValueError(f"is empty; allowed: {allowed_detectors(instrument)}")
    if instrument == "MSC":
        match = _MSC_DET_RE.match(text)
        chip = f"{int(match.group(1)):02d}" if match else text
        if chip not in MSC_CHIP_FILTERS:
            raise ValueError(f"is not a CSST MSC detector; allowed: {allowed_detectors('MSC')}")
        return chip
    name = text.upper()
    names, confirmed = _DETECTORS.get(instrument, ((), False))
    if names and name not in names:
        message = f"is not a CSST {instrument} detector; allowed: {allowed_detectors(instrument)}"
        if confirmed:
            raise ValueError(message)
        _warn(f"DETECTOR={value!r} {message} (the {instrument} list is unconfirmed)")
    return name


def normalise_filter(instrument: str, detector: str | None, value: object | None) -> str | None:
    """Normalise a filter and check it against the detector.

    MSC: spellings ``nuv``/``N`` → ``NUV``, ``U``/``Y`` … → ``u``/``y``; a missing filter
    is derived from the chip; a filter not on the chip raises `ValueError`.  MCI: upper
    case; a filter not in the (invented) channel table warns.  ``'N/A'`` passes unchanged.
    """
    if value is None or str(value).strip() == "":
        if instrument == "MSC" and detector in MSC_CHIP_FILTERS:
            return MSC_CHIP_FILTERS[detector]
        return None
    text = str(value).strip()
    if text.upper() == NOT_APPLICABLE:
        return NOT_APPLICABLE
    if instrument == "MSC":
        upper = text.upper()
        band = _FILTER_SPELLINGS.get(upper) or (upper if upper in _GRISMS else text.lower())
        if band not in MSC_FILTERS:
            raise ValueError(f"is not a CSST MSC filter; allowed: {', '.join(MSC_FILTERS)}")
        if detector in MSC_CHIP_FILTERS and MSC_CHIP_FILTERS[detector] != band:
            raise ValueError(
                f"is not the filter of MSC chip {detector}; allowed: "
                f"{MSC_CHIP_FILTERS[detector]!r} (CSST.md §1.1)"
            )
        return band
    name = text.upper()
    if instrument == "MCI" and detector in MCI_CHANNEL_FILTERS:
        if name not in MCI_CHANNEL_FILTERS[detector]:
            allowed = ", ".join(MCI_CHANNEL_FILTERS[detector])
            _warn(
                f"FILTER={value!r} is not an MCI {detector} filter; known: {allowed} "
                "(the MCI filter table is invented)"
            )
    return name


def normalise_readmode(value: object | None) -> str | None:
    """Upper-case READMODE; warn on a value outside the invented placeholder list."""
    if value is None:
        return None
    name = str(value).strip().upper()
    if name not in (*READMODES, NOT_APPLICABLE):
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
