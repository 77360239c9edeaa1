"""Header keyword checks of a reference against its constraints: presence, type, values."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from csst_crds_plugin.cache import check_name
from csst_crds_plugin.errors import CacheError
from csst_crds_plugin.tools.certify.constraints import Constraints, KeywordRule
from csst_crds_plugin.tools.certify.readers import FORMATS
from csst_crds_plugin.tools.certify.report import FileReport

__all__ = ["check_keywords", "crds_name_parts", "useafter_problem"]

_USEAFTER_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PEDIGREES = ("SIMULATION", "GROUND", "DUMMY", "MODEL")
_CRDS_NAME_RE = re.compile(r"^([a-z]{1,8})_([a-z][a-z0-9]{1,16})_([a-z][a-z0-9\-]{1,32})_\d{4}\.")
_TYPES: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
}


def crds_name_parts(name: str) -> tuple[str, str, str] | None:
    """(observatory, instrument, reftype) of a ``<obs>_<instr>_<type>_NNNN.<ext>`` name."""
    found = _CRDS_NAME_RE.match(name)
    return (found.group(1), found.group(2), found.group(3)) if found else None


def useafter_problem(value: object) -> str | None:
    """Why a USEAFTER value is malformed ('YYYY-MM-DDThh:mm:ss' expected), or None."""
    text = str(value)
    if not isinstance(value, str) or not _USEAFTER_RE.match(text):
        return "is not in the form 'YYYY-MM-DDThh:mm:ss' (e.g. '2027-01-01T00:00:00')"
    try:
        _dt.datetime.fromisoformat(text)
    except ValueError as exc:
        return f"is not a valid date and time ({exc})"
    return None


def _pedigree_problem(value: object) -> str | None:
    words = str(value).split()
    if len(words) == 1 and words[0].upper() in _PEDIGREES:
        return None
    if len(words) == 3 and words[0].upper() == "INFLIGHT":
        try:
            dates: list[_dt.date] | None = [_dt.date.fromisoformat(w) for w in words[1:]]
        except ValueError:
            dates = None
        if dates is not None and _DAY_RE.match(words[1]) and _DAY_RE.match(words[2]):
            return None if dates[0] <= dates[1] else "has its INFLIGHT start after its end"
    return (f"must be one of {', '.join(_PEDIGREES)} or 'INFLIGHT YYYY-MM-DD YYYY-MM-DD' "
            "(start <= end)")


def _reference_problem(value: object, rule: KeywordRule, header: Mapping[str, Any]) -> str | None:
    text = str(value)
    try:
        check_name(text, "reference")
    except CacheError:
        return "must be the plain file name of a reference in the cache (no folders)"
    if "." not in text or FORMATS.get(text[text.rfind("."):].lower()) is None:
        return "must name a reference file (.fits, .asdf, .json, .yaml, .toml, ...)"
    parts = crds_name_parts(text)
    instrument = str(header.get("INSTRUME", "")).lower()
    if parts is not None:
        if rule.reftype and parts[2] != rule.reftype:
            return f"names a {parts[2]} reference, but must name a {rule.reftype}"
        if instrument and parts[1] != instrument:
            return f"names a reference of {parts[1].upper()}, not of {instrument.upper()}"
    return None


_FORMATS: dict[str, Callable[[Any, KeywordRule, Mapping[str, Any]], str | None]] = {
    "useafter": lambda v, r, h: useafter_problem(v),
    "pedigree": lambda v, r, h: _pedigree_problem(v),
    "reference": _reference_problem,
    "nonempty": lambda v, r, h: None if str(v).strip() else "is empty",
}


def _is_na(value: object) -> bool:
    return isinstance(value, str) and value.strip().upper() == "N/A"


def check_keywords(report: FileReport, header: Mapping[str, Any],
                   constraints: Constraints) -> None:
    """Check every constrained keyword of `header`, then the keyword combinations."""
    for name, rule in constraints.keywords.items():
        if name not in header:
            if rule.presence == "required":
                what = f" ({rule.description})" if rule.description else ""
                report.error(f"keyword {name} is required for {constraints.instrument} "
                             f"{constraints.reftype} references but missing{what}")
            elif rule.presence == "warn":
                report.warn(f"keyword {name} is missing")
            continue
        value = header[name]
        if rule.presence == "excluded":
            report.error(f"keyword {name} must not be present")
            continue
        problem = _value_problem(value, rule, header)
        if problem is not None:
            severity, message = problem
            text = f"keyword {name}={value!r} {message}"
            report.error(text) if severity == "error" else report.warn(text)
    for combination in constraints.combinations:
        by, of = header.get(combination.by), header.get(combination.of)
        if by is None or of is None or _is_na(of):
            continue
        allowed = combination.table.get(str(by).strip())
        if allowed is None or str(of).strip().upper() in {a.upper() for a in allowed}:
            continue
        source = f"; see {combination.source}" if combination.source else ""
        text = (f"keyword {combination.of}={of!r} is not on {combination.by}={by!r}: "
                f"{combination.by} {by} carries {' or '.join(allowed)}{source}")
        report.error(text) if combination.severity == "error" else report.warn(text)


def _value_problem(value: object, rule: KeywordRule,
                   header: Mapping[str, Any]) -> tuple[str, str] | None:
    if _is_na(value):
        return None if rule.na else ("error", "may not be 'N/A'")
    if not _TYPES[rule.type](value):
        return "error", f"has type {type(value).__name__}; a {rule.type} is required"
    if rule.values and str(value).strip().upper() not in {v.upper() for v in rule.values}:
        allowed = ", ".join(rule.values) + (" or N/A" if rule.na else "")
        return rule.values_severity, f"is not one of the allowed values: {allowed}"
    if rule.range is not None and \
            not rule.range[0] <= float(value) <= rule.range[1]:  # type: ignore[arg-type]  # a number
        return "error", f"is outside {rule.range[0]:g}..{rule.range[1]:g}"
    if rule.format:
        message = _FORMATS[rule.format](value, rule, header)
        if message is not None:
            return "error", message
    return None
