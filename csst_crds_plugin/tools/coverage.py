"""``csst-crds coverage``: which reference every chip would get at a date, and how old it is.

For every instrument of a context, every detector of that instrument (the observatory's
description lists them, ``observatories/<obs>.toml``: e.g. the 30 MSC chips; plus any detector
the rules name) and every reference type of the instrument's imap, the lookup a science
exposure at the date would make: the selected file, the UseAfter date of the rule that
selected it, its age in days, and a status: ``ok``, ``n/a`` (the rules say the type does not
apply), ``missing`` (no rule matches, or the file is marked bad) or ``stale`` (older than the
allowed age for its type).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csst_crds_plugin.errors import ConfigurationError
from csst_crds_plugin.observatories import get_observatory
from csst_crds_plugin.provider import ReferenceProvider
from csst_crds_plugin.results import NOT_APPLICABLE, terminal_files
from csst_crds_plugin.selectors.values import is_na_value, is_omit_value
from csst_crds_plugin.tools.diffing.rules import walk_terminals

__all__ = ["CoverageReport", "CoverageRow", "coverage", "parse_date", "rule_dates"]

_PROBLEMS = ("missing", "stale")


@dataclass(frozen=True, slots=True)
class CoverageRow:
    """One instrument, detector and reference type at the report's date."""

    instrument: str
    detector: str
    reftype: str
    status: str
    """``ok``, ``n/a``, ``missing`` or ``stale``."""
    file: str | None = None
    useafter: str | None = None
    age_days: float | None = None
    rmap: str | None = None
    filter: str | None = None
    note: str = ""


@dataclass
class CoverageReport:
    """Coverage of a context at a date."""

    context: str
    date: str
    max_age: dict[str, float] = field(default_factory=dict)
    rows: list[CoverageRow] = field(default_factory=list)

    @property
    def problems(self) -> list[CoverageRow]:
        """Rows missing or stale."""
        return [row for row in self.rows if row.status in _PROBLEMS]

    @property
    def ok(self) -> bool:
        """True when nothing is missing or stale."""
        return not self.problems

    def counts(self) -> dict[str, int]:
        """Rows per status."""
        found: dict[str, int] = {}
        for row in self.rows:
            found[row.status] = found.get(row.status, 0) + 1
        return found

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {"context": self.context, "date": self.date, "max_age_days": dict(self.max_age),
                "ok": self.ok, "counts": self.counts(),
                "rows": [asdict(row) for row in self.rows]}

    def lines(self) -> list[str]:
        """Return an aligned text table, problems marked with ``!``."""
        head = ("", "INSTRUMENT", "DETECTOR", "TYPE", "STATUS", "FILE", "USEAFTER", "AGE(d)",
                "NOTE")
        table = [head]
        for row in self.rows:
            age = "" if row.age_days is None else f"{row.age_days:.1f}"
            table.append(("!" if row.status in _PROBLEMS else "", row.instrument, row.detector,
                          row.reftype, row.status, row.file or "-", row.useafter or "-",
                          age or "-", _short(row.note)))
        widths = [max(len(cells[i]) for cells in table) for i in range(len(head))]
        out = ["  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()
               for cells in table]
        counts = ", ".join(f"{n} {status}" for status, n in sorted(self.counts().items()))
        out.append(f"context {self.context} at {self.date}: {counts}")
        return out


def _short(note: str, width: int = 60) -> str:
    return note if len(note) <= width else note[:width - 3] + "..."


def parse_date(text: str | None) -> datetime:
    """``YYYY-MM-DD`` or ``YYYY-MM-DD[T ]HH:MM:SS``; None means now (UTC)."""
    if text is None:
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    for pattern in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern)
        except ValueError:
            continue
    raise ConfigurationError(f"date {text!r} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS")


def rule_dates(ir: Any, name: str) -> list[str]:
    """Return the UseAfter dates of the rules of an rmap (its IR) that select `name`."""
    found: list[str] = []
    for path, classes, terminal in walk_terminals(ir.selector):
        if name in terminal_files(terminal) or terminal == name:
            found.extend(str(key) for key, kind in zip(path, classes, strict=False)
                         if kind == "UseAfter")
    return found


def _detectors(observatory: str) -> dict[str, list[str]]:
    """Instrument (upper case) → its detectors, from the observatory's description."""
    described = get_observatory(observatory).instruments
    return {name.upper(): list(instrument.detector_names())
            for name, instrument in described.items()}


def _filters(observatory: str, instrument: str) -> dict[str, list[str]]:
    """Detector → the filters it carries, from the observatory's description."""
    described = get_observatory(observatory).instruments.get(instrument.upper())
    if described is None:
        return {}
    return {str(k): list(v) for k, v in described.detector_filters.items()}


def _rule_detectors(rmap: Any) -> set[str]:
    levels = [tuple(str(p).upper() for p in level) for level in rmap.parkey]
    found: set[str] = set()
    for path, _classes, _terminal in walk_terminals(rmap.ir.selector):
        for names, key in zip(levels, path, strict=False):
            values = key if isinstance(key, tuple) else (key,)
            for name, value in zip(names, values, strict=False):
                text = str(value)
                if name == "DETECTOR" and text.replace("-", "").isalnum():
                    found.add(text)
    return found


def coverage(cache: str | Path | None = None, *, context: str | None = None,
             date: str | datetime | None = None, max_age: Mapping[str, float] | None = None,
             instruments: Iterable[str] | None = None, detectors: Iterable[str] | None = None,
             parameters: Mapping[str, str] | None = None) -> CoverageReport:
    """Coverage of `context` (default: pinned or operational) at `date` (default: now).

    `max_age` maps a reference type to the oldest allowed age in days; `parameters` adds
    exposure keywords (e.g. ``READMODE``) to every lookup.
    """
    when = date if isinstance(date, datetime) else parse_date(date)
    limits = {k.lower(): float(v) for k, v in (max_age or {}).items()}
    provider = ReferenceProvider(cache=cache, context=context)
    pmap = provider.pmap
    report = CoverageReport(provider.context, when.isoformat(), limits)
    wanted_instruments = {i.upper() for i in instruments} if instruments else None
    wanted_detectors = set(detectors) if detectors else None
    known = _detectors(provider.observatory)
    for instrument, imap_name in sorted(pmap.entries.items()):
        if is_na_value(imap_name) or is_omit_value(imap_name):
            continue
        if wanted_instruments is not None and instrument.upper() not in wanted_instruments:
            continue
        imap = pmap.imap(instrument)
        reftypes = sorted(t for t, n in imap.entries.items() if not is_omit_value(n))
        chips = set(known.get(instrument.upper(), []))
        for reftype in reftypes:
            if not is_na_value(imap.entries[reftype]):
                chips |= _rule_detectors(imap.rmap(reftype))
        filters = _filters(provider.observatory, instrument)
        for chip in sorted(chips):
            if wanted_detectors is not None and chip not in wanted_detectors:
                continue
            for chip_filter in filters.get(chip) or ["N/A"]:
                report.rows.extend(_lookups(provider, imap, instrument, chip, chip_filter,
                                            reftypes, when, limits, parameters or {}))
    return report


def _lookups(provider: ReferenceProvider, imap: Any, instrument: str, chip: str,
             chip_filter: str, reftypes: list[str], when: datetime, limits: Mapping[str, float],
             parameters: Mapping[str, str]) -> list[CoverageRow]:
    exposure = {"INSTRUME": instrument.upper(), "DETECTOR": chip, "FILTER": chip_filter,
                "DATE-OBS": when.strftime("%Y-%m-%d"), "TIME-OBS": when.strftime("%H:%M:%S"),
                **parameters}
    selections = provider.best_references(exposure, reftypes, errors="collect")
    rows = []
    for reftype in reftypes:
        selection = selections.get(reftype)
        common = {"instrument": instrument.upper(), "detector": chip, "reftype": reftype,
                  "filter": chip_filter, "rmap": imap.entries.get(reftype)}
        if selection is None:
            continue  # omitted for these parameters
        if selection.error is not None:
            note = str(selection.error).splitlines()[0].split(":  ", 1)[-1]
            rows.append(CoverageRow(status="missing", note=note[:300], **common))
            continue
        if selection.value is NOT_APPLICABLE:
            rows.append(CoverageRow(status="n/a", note="not applicable", **common))
            continue
        files = selection.files()
        name = files[0] if files else str(selection.value)
        dates = sorted(d for d in rule_dates(imap.rmap(reftype).ir, name)
                       if d <= when.strftime("%Y-%m-%d %H:%M:%S"))
        useafter = dates[-1] if dates else None
        age = None
        if useafter is not None:
            age = round((when - parse_date(useafter)).total_seconds() / 86400.0, 3)
        status = "ok"
        note = ""
        if age is not None and reftype in limits and age > limits[reftype]:
            status, note = "stale", f"older than {limits[reftype]:g} days"
        rows.append(CoverageRow(status=status, file=", ".join(files) or name,
                                useafter=useafter, age_days=age, note=note, **common))
    return rows
