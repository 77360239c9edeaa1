"""Date parsing for UseAfter and ClosestTime (RULES.md §5), in CRDS's accepted spellings."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Final

from csst_crds_plugin.results import UNDEFINED

__all__ = [
    "DateFormatError",
    "UndefinedDateError",
    "encode_instant",
    "format_date",
    "is_plain_clock",
    "is_plain_day",
    "parse_date",
    "reformat_date",
    "seconds_field",
]

_T_SEPARATED_RE: Final = re.compile(r"^\d\d\d\d[-/]\d\d[-/]\d\dT\d\d(:\d\d){1,2}(\.\d{1,6})?$")
_ALPHABETICAL_RE: Final = re.compile(r"[A-Za-z]{3,10}")
_MONTH_DAY_YEAR_RE: Final = re.compile(r"^\d\d/\d\d/\d\d\d\d$")
_YEAR_MONTH_DAY_RE: Final = re.compile(r"^\d\d\d\d/\d\d/\d\d$")
_NINETEEN_HUNDREDS_RE: Final = re.compile(r"^\d\d/\d\d/9\d$")
_TWENTY_FIRST_RE: Final = re.compile(r"^\d\d/\d\d/[0-3]\d$")
_DATE_COLON_TIME_RE: Final = re.compile(r"^\d\d\d\d\d\d\d\d:\d\d\d\d\d\d$")
# 'YYYY-MM-DD HH:MM:SS[.f]' and 'YYYY-MM-DDTHH:MM:SS[.f]' ('/' or '-'), ASCII digits only: these
# take the same route through parse_date (the T form has its T replaced by a space).
_CANONICAL_RE: Final = re.compile(
    r"([0-9]{4})[-/]([0-9]{2})[-/]([0-9]{2})[ T]([0-9]{2}):([0-9]{2}):([0-9]{2}(?:\.[0-9]{1,6})?)\Z"
)
_DAYS: Final = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_LEAP_DAYS: Final = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class DateFormatError(ValueError):
    """A date/time string in none of the accepted formats."""


class UndefinedDateError(DateFormatError):
    """A date/time string that contains ``UNDEFINED``."""


def encode_instant(seconds: Any, fraction: Any = 0) -> Any:
    """The sortable integer of a date: ``2 * YYYYMMDDhhmmss + (microseconds > 0)``.

    `seconds` is the ``YYYYMMDDhhmmss`` number (an int or a numpy integer array), `fraction`
    whether the time has microseconds. Integer order is then the order of the reformatted
    date strings (RULES.md §2.3), which is what UseAfter compares; the bulk path and the
    UseAfter keys both use this one encoding.
    """
    return 2 * seconds + fraction


def parse_date(text: str) -> _dt.datetime:
    """Parse a date/time string in any spelling CRDS accepts.

    >>> parse_date("2020-01-02T03:04:05")
    datetime.datetime(2020, 1, 2, 3, 4, 5)
    >>> parse_date("Feb 08 2006 01:02AM")
    datetime.datetime(2006, 2, 8, 1, 2)
    """
    if UNDEFINED in text:
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
    if _CANONICAL_RE.match(text) is not None:
        # The common spellings, at fixed positions: the same checks as datetime() and the same
        # second arithmetic as the general path; anything out of range takes that path, which
        # raises with CRDS's wording.
        valid = _VALID_DAYS.get(text[:10])
        if valid is None:
            valid = _valid_day(text[:10])
        if valid and text[11:13] < "24" and text[14:16] < "60":
            seconds = seconds_field(text[17:])
            if seconds:
                if text[4] == "-" and text[7] == "-" and text[10] == " ":
                    return text[:16] + seconds
                return f"{text[:4]}-{text[5:7]}-{text[8:10]} {text[11:16]}{seconds}"
    return format_date(parse_date(text))


_VALID_DAYS: dict[str, bool] = {}
_SECONDS: dict[str, str] = {}
_CACHE_LIMIT: Final = 1 << 16
# A day and a time of day that reformat_date accepts, and keeps as they are, when joined by a
# space: 'YYYY-MM-DD' and 'HH:MM:SS[.f]' (ASCII digits; ranges checked apart).
_DAY_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_CLOCK_RE: Final = re.compile(r"[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?\Z")
_PLAIN_DAYS: dict[str, bool] = {}


def is_plain_day(text: str) -> bool:
    """Whether `text` is a ``YYYY-MM-DD`` date that :func:`reformat_date` accepts (remembered)."""
    valid = _PLAIN_DAYS.get(text)
    if valid is None:
        valid = bool(_DAY_RE.match(text)) and (_VALID_DAYS.get(text) or _valid_day(text))
        if len(_PLAIN_DAYS) >= _CACHE_LIMIT:
            _PLAIN_DAYS.clear()
        _PLAIN_DAYS[text] = valid
    return valid


def is_plain_clock(text: str) -> bool:
    """Whether `text` is an in-range ``HH:MM:SS[.f]`` (up to six fraction digits).

    Then ``f"{day} {text}"`` of a plain day is accepted by :func:`reformat_date`, which writes it
    as ``f"{day} {text[:5]}{seconds_field(text[6:])}"``.
    """
    return (_CLOCK_RE.match(text) is not None
            and text[:2] < "24" and text[3:5] < "60" and text[6:8] < "60")


def seconds_field(tail: str) -> str:
    """``SS[.f]`` as :func:`reformat_date` writes it, ``:SS[.ffffff]``; '' if out of range."""
    return (_SECONDS.get(tail) or _seconds(tail)) if len(tail) == 2 else _seconds(tail)


def _valid_day(text: str) -> bool:
    """Whether ``YYYY?MM?DD`` (ASCII digits) is a date datetime() accepts."""
    year, month, day = int(text[:4]), int(text[5:7]), int(text[8:10])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    valid = bool(year) and 1 <= month <= 12 and 1 <= day <= (_LEAP_DAYS if leap else _DAYS)[month]
    if len(_VALID_DAYS) >= _CACHE_LIMIT:
        _VALID_DAYS.clear()
    _VALID_DAYS[text] = valid
    return valid


def _seconds(text: str) -> str:
    """``SS[.f]`` as ``:SS[.ffffff]`` with _parse_time's arithmetic; '' if out of range."""
    fsecond = float(text)
    isecond = int(fsecond)
    micro = int((fsecond - isecond) * 10**6)
    whole = ":" + text[:2]  # isecond, as the two digits the pattern requires
    result = "" if isecond >= 60 else whole + "." + str(1000000 + micro)[1:] if micro else whole
    if len(text) == 2:  # whole seconds recur; fractions rarely do, so only these are kept
        _SECONDS[text] = result
    return result


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
