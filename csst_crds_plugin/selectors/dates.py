"""Date parsing for UseAfter and ClosestTime (RULES.md §5), in CRDS's accepted spellings."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Final

__all__ = ["DateFormatError", "UndefinedDateError", "format_date", "parse_date", "reformat_date"]

_T_SEPARATED_RE: Final = re.compile(r"^\d\d\d\d[-/]\d\d[-/]\d\dT\d\d(:\d\d){1,2}(\.\d{1,6})?$")
_ALPHABETICAL_RE: Final = re.compile(r"[A-Za-z]{3,10}")
_MONTH_DAY_YEAR_RE: Final = re.compile(r"^\d\d/\d\d/\d\d\d\d$")
_YEAR_MONTH_DAY_RE: Final = re.compile(r"^\d\d\d\d/\d\d/\d\d$")
_NINETEEN_HUNDREDS_RE: Final = re.compile(r"^\d\d/\d\d/9\d$")
_TWENTY_FIRST_RE: Final = re.compile(r"^\d\d/\d\d/[0-3]\d$")
_DATE_COLON_TIME_RE: Final = re.compile(r"^\d\d\d\d\d\d\d\d:\d\d\d\d\d\d$")
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class DateFormatError(ValueError):
    """A date/time string in none of the accepted formats."""


class UndefinedDateError(DateFormatError):
    """A date/time string that contains ``UNDEFINED``."""


def parse_date(text: str) -> _dt.datetime:
    """Parse a date/time string in any spelling CRDS accepts.

    >>> parse_date("2020-01-02T03:04:05")
    datetime.datetime(2020, 1, 2, 3, 4, 5)
    >>> parse_date("Feb 08 2006 01:02AM")
    datetime.datetime(2006, 2, 8, 1, 2)
    """
    if "UNDEFINED" in text:
        raise UndefinedDateError("One or more required date/time values is UNDEFINED")
    if text.endswith(" UT"):
        text = text[:-3]
    if _T_SEPARATED_RE.match(text):
        text = text.replace("T", " ")
    try:
        if _ALPHABETICAL_RE.search(text):
            return _parse_alphabetical(text)
        return _parse_numerical(text)
    except DateFormatError:
        raise
    except (ValueError, TypeError, IndexError) as exc:
        raise DateFormatError(str(exc)) from exc


def format_date(value: _dt.datetime) -> str:
    """Return ``YYYY-MM-DD HH:MM:SS`` plus ``.ffffff`` when microseconds are not zero."""
    return value.isoformat(" ")


def reformat_date(text: str) -> str:
    """Parse `text` and return it in the canonical UseAfter form."""
    return format_date(parse_date(text))


def _month_number(name: str) -> int:
    try:
        return _MONTHS.index(name[:3].capitalize()) + 1
    except ValueError:
        raise DateFormatError(f"Invalid month value {name!r}") from None


def _parse_time(text: str) -> tuple[int, int, int, int]:
    """Return (hour, minute, second, microsecond) of ``H:M[:S[.f]]`` with an optional AM/PM."""
    text = text.strip()
    ampm = ""
    if text[-2:].upper() in ("AM", "PM"):
        ampm = text[-2:].upper()
        text = text[:-2]
    parts = text.split(":")
    if len(parts) == 2:
        hour, minute, second = parts[0], parts[1], "00"
    elif len(parts) in (3, 4):
        hour, minute, second = parts[0], parts[1], parts[2]
    else:
        raise DateFormatError(f"Invalid time {text!r}")
    ihour, iminute = int(hour), int(minute)
    fsecond = float(second)
    isecond = int(fsecond)
    # The same IEEE arithmetic as CRDS, so that '05.000004' gives 3 microseconds there and here.
    imicro = int((fsecond - isecond) * 10**6)
    if ampm == "PM" and ihour < 12:
        ihour += 12
    elif ampm == "AM" and ihour == 12:
        ihour -= 12
    return ihour, iminute, isecond, imicro


def _parse_alphabetical(text: str) -> _dt.datetime:
    while text.lower().endswith(" am"):
        text = text.lower().replace(" am", "am")
    while text.lower().endswith(" pm"):
        text = text.lower().replace(" pm", "pm")
    fields = text.replace("-", " ").replace("/", " ").split()
    if len(fields) == 4:
        month, day, year, time = fields
    elif len(fields) == 3:
        month, day, year = fields
        time = "00:00AM"
    else:
        raise DateFormatError(f"Unknown alphabetical date format: {text!r}")
    day = day.removesuffix(",")
    try:
        imonth, iday, iyear = _month_number(month), int(day), int(year)
    except (DateFormatError, ValueError):
        day, month = month, day
        imonth, iday, iyear = _month_number(month), int(day), int(year)
    hour, minute, second, micro = _parse_time(time)
    return _dt.datetime(iyear, imonth, iday, hour, minute, second, micro)


def _parse_numerical(text: str) -> _dt.datetime:
    fields = text.replace("-", "/").split()
    if not fields:
        raise DateFormatError(f"Unknown numerical date format: {text!r}")
    date = fields[0]
    time = " ".join(fields[1:]) if len(fields) > 1 else "00:00:00"
    hour, minute, second, micro = _parse_time(time)
    if _MONTH_DAY_YEAR_RE.match(date):
        month, day, year = date.split("/")
    elif _YEAR_MONTH_DAY_RE.match(date):
        year, month, day = date.split("/")
    elif _NINETEEN_HUNDREDS_RE.match(date):
        day, month, year = date.split("/")
        year = "19" + year
    elif _TWENTY_FIRST_RE.match(date):
        day, month, year = date.split("/")
        year = "20" + year
    elif _DATE_COLON_TIME_RE.match(date):
        year, month, day = date[:4], date[4:6], date[6:8]
        hour, minute, second, micro = int(date[9:11]), int(date[11:13]), int(date[13:15]), 0
    else:
        raise DateFormatError(f"Unknown numerical date format: {text!r}")
    return _dt.datetime(int(year), int(month), int(day), hour, minute, second, micro)
