"""Running the analysis over catalogue parts: in this process, on all cores, or on Dask.

All three call :func:`analyse_part` on the same parts with the same job, so they give the same
answer. The process pool uses the ``spawn`` start method (safe whatever threads the caller
runs). The Dask runner maps the parts as a ``dask.bag`` (one partition per part) on a
``distributed`` client: a scheduler address, ``"local"`` for a LocalCluster on this machine,
or a Client object; Parquet parts are read by the workers themselves, parts held in memory
are scattered to them. A local cluster listens on 127.0.0.1 only, its HTTP port chosen free
(``dashboard_address=None`` would still bind port 8787 on every interface).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.tools.affected.analysis import AffectedJob, PartResult, analyse_part
from csst_crds_plugin.tools.affected.catalog_io import CatalogPart

__all__ = ["Done", "run_dask", "run_pool", "run_serial"]

Done = Callable[[CatalogPart, PartResult], None]
"""Called once per finished part (for progress)."""


def run_serial(parts: Sequence[CatalogPart], job: AffectedJob, done: Done | None = None
               ) -> list[PartResult]:
    """Analyse the parts one after another in this process."""
    results = []
    for part in parts:
        result = analyse_part(part, job)
        results.append(result)
        if done:
            done(part, result)
    return results


def run_pool(parts: Sequence[CatalogPart], job: AffectedJob, jobs: int,
             done: Done | None = None) -> list[PartResult]:
    """Analyse the parts on `jobs` worker processes."""
    results: list[PartResult | None] = [None] * len(parts)
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
    try:
        pending = {pool.submit(analyse_part, part, job): i for i, part in enumerate(parts)}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                index = pending.pop(future)
                results[index] = future.result()
                if done:
                    done(parts[index], results[index])  # type: ignore[arg-type]  # set just above
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown()
    return [r for r in results if r is not None]


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop at once on an error or an interrupt: no worker goes on with a part."""
    processes = list(getattr(pool, "_processes", {}).values())  # not public; best effort
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(5)


def run_dask(parts: Sequence[CatalogPart], job: AffectedJob, dask: Any, jobs: int = 2,
             done: Done | None = None) -> list[PartResult]:
    """Analyse the parts on a Dask cluster (see the module docstring for `dask`)."""
    try:
        import dask.bag as db
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise CsstCrdsError("Dask runs need dask and distributed: pip install "
                            "'csst-crds-plugin[dask]'") from exc
    cluster = None
    if isinstance(dask, str):
        if dask == "local":
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address="127.0.0.1:0")
            client = Client(cluster)
        else:
            client = Client(dask)
    else:
        client = dask
    futures: list[Any] = []
    try:
        if not parts:
            return []
        # rows held in memory go to the workers as data, not inside the task graph
        sources = [client.scatter(p) if p.rows is not None else p for p in parts]
        bag = db.from_sequence(sources, npartitions=len(parts)).map(analyse_part, job)
        futures = client.compute(bag.to_delayed())
        index = {future.key: i for i, future in enumerate(futures)}
        results: list[PartResult | None] = [None] * len(parts)
        for future in as_completed(futures):
            position = index[future.key]
            results[position] = future.result()[0]
            if done:
                done(parts[position], results[position])  # type: ignore[arg-type]  # set just above
        return [r for r in results if r is not None]
    except BaseException:
        if futures:
            client.cancel(futures)
        raise
    finally:
        if cluster is not None:
            client.close()
            cluster.close()
