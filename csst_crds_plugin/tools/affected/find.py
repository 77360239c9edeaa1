"""find_affected: which datasets of a catalogue select different references under a new context."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from csst_crds_plugin.progress import Progress
from csst_crds_plugin.provider import ReferenceProvider
from csst_crds_plugin.tools.affected.analysis import AffectedJob, PartResult
from csst_crds_plugin.tools.affected.catalog import Catalog
from csst_crds_plugin.tools.affected.catalog_io import (
    CatalogPart,
    catalog_format,
    catalog_parts,
    read_catalog,
)
from csst_crds_plugin.tools.affected.plan import plan_changes
from csst_crds_plugin.tools.affected.report import AffectedReport
from csst_crds_plugin.tools.affected.runners import run_dask, run_pool, run_serial

__all__ = ["DEFAULT_PART_ROWS", "available_cores", "find_affected", "prepare_job"]

DEFAULT_PART_ROWS = 1 << 20
"""Rows per part: large enough for vectorised lookups, small enough for steady progress."""


def available_cores() -> int:
    """Return the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


def prepare_job(old: str, new: str, *, cache: str | Path | None = None,
                observatory: str | None = None, ignore_checksum: bool = False) -> AffectedJob:
    """Resolve both contexts, check that their rules are all cached, and plan the comparison."""
    first = ReferenceProvider(cache=cache, context=old, observatory=observatory,
                              ignore_checksum=ignore_checksum)
    second = ReferenceProvider(cache=first.cache_root, context=new,
                               observatory=first.observatory, ignore_checksum=ignore_checksum)
    for provider in (first, second):
        provider.pmap.check_closure()
    plan = plan_changes(first.pmap, second.pmap)
    return AffectedJob(str(first.cache_root), first.observatory, first.context, second.context,
                       plan, ignore_checksum)


def find_affected(
    catalog: Catalog | str | Path,
    old: str,
    new: str,
    *,
    cache: str | Path | None = None,
    observatory: str | None = None,
    ignore_checksum: bool = False,
    jobs: int = 1,
    dask: Any = None,
    rows_per_part: int = DEFAULT_PART_ROWS,
    progress: bool | None | Progress = False,
    id_column: str = "id",
    catalog_format_name: str | None = None,
) -> AffectedReport:
    """Compare the selections of every catalogue dataset under contexts `old` and `new`.

    Parameters
    ----------
    catalog : Catalog or path
        The datasets; a Parquet file is read part by part where the parts are analysed.
    old, new : str
        The contexts (pmap names or specs resolvable in the cache).
    jobs : int
        Worker processes (1: this process), or Dask workers for ``dask="local"``.
    dask : str or distributed.Client, optional
        Run on Dask: a scheduler address, ``"local"``, or a client.
    rows_per_part : int
        Rows per part (for Parquet, whole row groups are gathered up to this).
    progress : bool, optional
        Show a progress bar on standard error (None: when it is a terminal), or a `Progress`
        to add the phases to (the caller closes it).

    Returns
    -------
    AffectedReport
    """
    display = progress if isinstance(progress, Progress) else Progress(enabled=progress)
    display.phase("affected: load rules and catalogue", 0, "")
    job = prepare_job(old, new, cache=cache, observatory=observatory,
                      ignore_checksum=ignore_checksum)
    label = catalog.source if isinstance(catalog, Catalog) else str(catalog)
    source: Catalog | Path
    problems: list[str] = []  # unreadable catalogue lines, skipped
    if isinstance(catalog, Catalog):
        source = catalog
    elif catalog_format(catalog, catalog_format_name) == "parquet":
        source = Path(catalog)
    else:
        source = read_catalog(catalog, catalog_format_name, id_column, problems=problems)
    parts = catalog_parts(source, rows_per_part, id_column)
    report = AffectedReport(job.old, job.new, label, job.plan, problems=problems)
    if not job.plan.instruments and not job.plan.everything:
        report.parts = [PartResult(p.start, p.count) for p in parts]  # nothing can differ
        if display is not progress:
            display.close()
        return report
    bar = display.phase("affected: select", sum(p.count for p in parts), "datasets")
    found = 0

    def done(part: CatalogPart, result: PartResult) -> None:
        nonlocal found
        found += len(result.rows)
        bar.advance(part.count, f"{found:,} affected")

    if dask is not None:
        report.parts = run_dask(parts, job, dask, jobs, done)
    elif jobs > 1 and len(parts) > 1:
        report.parts = run_pool(parts, job, min(jobs, len(parts)), done)
    else:
        report.parts = run_serial(parts, job, done)
    bar.finish()
    if display is not progress:
        display.close()
    return report
