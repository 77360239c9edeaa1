"""The affected-datasets report: per dataset its changed types, a summary, three formats.

* ``json``: one document: the contexts, counts, the changed instruments and types, a summary
  ``{INSTRUMENT: {"datasets": n, "types": {reftype: n}}}`` and ``datasets``, a list of
  ``{"id", "instrument", "changes": {reftype: {"old": ..., "new": ...}}}`` in catalogue order.
* ``csv``: one line per changed (dataset, type): ``id,instrument,reftype,old,new``.
* ``table``: the summary, then one line per changed (dataset, type), for reading.

A report file is written to a temporary name and renamed when complete, so an interrupted run
leaves no partial report.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from csst_crds_plugin.cache.layout import atomic_open
from csst_crds_plugin.progress import Phase
from csst_crds_plugin.tools.affected.analysis import PartResult
from csst_crds_plugin.tools.affected.outcomes import outcome_text
from csst_crds_plugin.tools.affected.plan import ChangePlan

__all__ = ["REPORT_FORMATS", "AffectedReport", "summary_table", "write_report"]

REPORT_FORMATS = ("json", "csv", "table")


@dataclass
class AffectedReport:
    """The outcome of an affected-datasets run."""

    old: str
    new: str
    catalog: str
    plan: ChangePlan
    parts: list[PartResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Catalogue lines that could not be read (skipped), each naming its file and line."""

    @property
    def unusable(self) -> list[tuple[object, str]]:
        """(id, why) of datasets that could not be compared: no instrument in either context."""
        return [entry for part in sorted(self.parts, key=lambda p: p.start)
                for entry in part.unusable]

    @property
    def failures(self) -> list[str]:
        """Every input that could not be used, one line each (unreadable lines, unusable rows)."""
        return self.problems + [f"{self.catalog}: dataset {dataset!r}: {why}"
                                for dataset, why in self.unusable]

    @property
    def total(self) -> int:
        """Datasets in the catalogue."""
        return sum(p.count for p in self.parts)

    @property
    def examined(self) -> int:
        """Datasets looked up (the others' instruments and types did not change)."""
        return sum(p.examined for p in self.parts)

    @property
    def affected(self) -> int:
        """Datasets with at least one changed type."""
        return sum(len(p.rows) for p in self.parts)

    def datasets(self) -> Iterator[dict[str, object]]:
        """``{"id", "instrument", "changes"}`` per affected dataset, in catalogue order."""
        for part in sorted(self.parts, key=lambda p: p.start):
            changes: list[dict[str, object]] = [{} for _ in range(len(part.rows))]
            for reftype, (positions, old, new) in part.changes.items():
                for position, o, n in zip(positions.tolist(), old.tolist(), new.tolist(),
                                          strict=True):
                    changes[position][reftype] = {"old": part.outcomes[o],
                                                  "new": part.outcomes[n]}
            for dataset, instrument, change in zip(part.ids, part.instruments, changes,
                                                   strict=True):
                yield {"id": dataset, "instrument": instrument,
                       "changes": dict(sorted(change.items()))}

    def summary(self) -> dict[str, dict[str, object]]:
        """``{INSTRUMENT: {"datasets": n, "types": {reftype: n}}}``."""
        datasets: dict[str, int] = {}
        types: dict[str, dict[str, int]] = {}
        for part in self.parts:
            for instrument in part.instruments:
                datasets[instrument] = datasets.get(instrument, 0) + 1
            for reftype, (positions, _old, _new) in part.changes.items():
                for position in positions.tolist():
                    counts = types.setdefault(part.instruments[position], {})
                    counts[reftype] = counts.get(reftype, 0) + 1
        return {name: {"datasets": count, "types": dict(sorted(types.get(name, {}).items()))}
                for name, count in sorted(datasets.items())}

    def header(self) -> dict[str, object]:
        """Everything but the datasets."""
        return {
            "old_context": self.old, "new_context": self.new, "catalog": self.catalog,
            "datasets_in_catalog": self.total, "datasets_examined": self.examined,
            "datasets_affected": self.affected, "changed": self.plan.describe(),
            "summary": self.summary(), "unreadable_lines": list(self.problems),
            "unusable_datasets": [{"id": d, "reason": why} for d, why in self.unusable],
        }


def _ticking(report: AffectedReport, tick: Callable[[], None] | None
             ) -> Iterator[dict[str, object]]:
    for dataset in report.datasets():
        yield dataset
        if tick is not None:
            tick()


def _changes(datasets: Iterator[dict[str, object]]
             ) -> Iterator[tuple[object, str, str, object, object]]:
    for dataset in datasets:
        changes: Any = dataset["changes"]  # {reftype: {"old": ..., "new": ...}} from the scan
        for reftype, change in changes.items():
            yield dataset["id"], str(dataset["instrument"]), reftype, change["old"], \
                change["new"]


def _write(report: AffectedReport, fmt: str, out: TextIO,
           tick: Callable[[], None] | None = None) -> None:
    datasets = _ticking(report, tick)
    if fmt == "json":
        head = json.dumps(report.header(), indent=1)
        out.write(head[:-2] + ',\n "datasets": [')
        for number, dataset in enumerate(datasets):
            out.write(("," if number else "") + "\n  " + json.dumps(dataset))
        out.write("\n ]\n}\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["id", "instrument", "reftype", "old", "new"])
        for dataset_id, instrument, reftype, old, new in _changes(datasets):
            writer.writerow([dataset_id, instrument, reftype, outcome_text(old), outcome_text(new)])
    else:
        out.write(summary_table(report))
        out.write("\n")
        for dataset_id, instrument, reftype, old, new in _changes(datasets):
            out.write(f"{dataset_id}  {instrument}  {reftype}: {outcome_text(old)} -> "
                      f"{outcome_text(new)}\n")


def summary_table(report: AffectedReport) -> str:
    """Return the counts as a small text table."""
    lines = [f"{report.old} -> {report.new}: {report.affected:,} of {report.total:,} datasets "
             f"affected ({report.examined:,} examined)"]
    summary = report.summary()
    if summary:
        lines.append(f"{'instrument':<12}{'reftype':<16}{'datasets':>12}")
        for instrument, entry in summary.items():
            lines.append(f"{instrument:<12}{'(any)':<16}{entry['datasets']:>12,}")
            for reftype, count in entry["types"].items():  # type: ignore[attr-defined]  # a dict
                lines.append(f"{'':<12}{reftype:<16}{count:>12,}")
    return "\n".join(lines) + "\n"


def write_report(report: AffectedReport, path: str | Path | None, fmt: str = "json",
                 progress: Phase | None = None) -> None:
    """Write the report to `path` atomically, or to standard output when `path` is None.

    `progress` (a phase) counts the datasets written.
    """
    tick = None if progress is None else (lambda: progress.advance(1))
    if fmt not in REPORT_FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(REPORT_FORMATS)}")
    if path is None or str(path) == "-":
        _write(report, fmt, sys.stdout, tick)
        return
    with atomic_open(Path(path)) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        try:
            _write(report, fmt, text, tick)
        finally:
            text.flush()
            text.detach()  # atomic_open closes (or discards) the file itself

