"""Keyword normalisation from an observatory's tables: instrument, detector and filter.

Each function returns ``(value, warning)``: the normalised value and a message for a value
the tables only know as unconfirmed (None when there is nothing to say); a value the tables
refuse raises `ValueError` whose message says what is allowed. The data models turn the
warning into their own warning class; the catalogue scanner keeps raw values it cannot
normalise.
"""

from __future__ import annotations

import re

from csst_crds_plugin.observatories import Instrument, Observatory
from csst_crds_plugin.results import NA

__all__ = [
    "allowed_detectors",
    "normalise_detector",
    "normalise_filter",
    "normalise_instrument",
]

Normalised = tuple[str, str | None]


def normalise_instrument(observatory: Observatory, value: object) -> str:
    """The upper-case instrument name; `ValueError` if the observatory lists others only."""
    name = str(value).strip().upper()
    if observatory.instruments and name not in observatory.instruments:
        raise ValueError(f"is not a {observatory.name.upper()} instrument; allowed: "
                         f"{', '.join(observatory.instruments)}")
    return name


def allowed_detectors(observatory: Observatory, instrument: str) -> str:
    """The detectors of `instrument`, as messages say them."""
    found = observatory.instruments.get(instrument)
    if found is None:
        return "any non-empty name"
    if found.detector_help:
        return found.detector_help
    return ", ".join(found.detector_names()) or "any non-empty name"


def normalise_detector(observatory: Observatory, instrument: str, value: object) -> Normalised:
    """A detector name as the rules spell it (``CCD06``, ``6`` → ``06``; ``c1`` → ``C1``)."""
    text = str(value).strip()
    if not text:
        raise ValueError(f"is empty; allowed: {allowed_detectors(observatory, instrument)}")
    found = observatory.instruments.get(instrument, Instrument())
    names = found.detector_names()
    if found.detector_pattern:
        match = re.match(found.detector_pattern, text, re.IGNORECASE)
        name = found.detector_format.format(int(match.group(1))) if match else text
    else:
        name = text.upper()
    if names and name not in names:
        message = (f"is not a {observatory.name.upper()} {instrument} detector; allowed: "
                   f"{allowed_detectors(observatory, instrument)}")
        if found.detectors_confirmed:
            raise ValueError(message)
        return name, f"DETECTOR={value!r} {message} (the {instrument} list is unconfirmed)"
    return name, None


def normalise_filter(observatory: Observatory, instrument: str, detector: str | None,
                     value: object | None) -> tuple[str | None, str | None]:
    """A filter name checked against the detector's; a missing one derived from a one-filter chip.

    ``N/A`` passes unchanged. A filter outside a confirmed table raises `ValueError`; outside
    an unconfirmed one, it is kept with a warning.
    """
    found = observatory.instruments.get(instrument, Instrument())
    allowed = found.detector_filters.get(detector or "", ())
    if value is None or str(value).strip() == "":
        return (allowed[0] if len(allowed) == 1 and found.filters_confirmed else None), None
    text = str(value).strip()
    if text.upper() == NA:
        return NA, None
    band = found.filter_spellings.get(text.upper(), text.upper()) if found.filter_spellings \
        else text.upper()
    if found.filters and band not in found.filters:
        raise ValueError(f"is not a {observatory.name.upper()} {instrument} filter; allowed: "
                         f"{', '.join(found.filters)}")
    if allowed and band not in allowed:
        if found.filters_confirmed:
            raise ValueError(f"is not the filter of {instrument} chip {detector}; allowed: "
                             f"{', '.join(repr(a) for a in allowed)} ({found.filter_source})")
        return band, (f"FILTER={value!r} is not an {instrument} {detector} filter; known: "
                      f"{', '.join(allowed)} ({found.filter_source})")
    return band, None
