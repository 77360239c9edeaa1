"""The same answer in one process, on all cores and on a local Dask cluster; Parquet parts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, LocalCluster

from csst_crds_plugin.tools.affected import (
    AffectedReport,
    Catalog,
    find_affected,
    read_catalog,
    write_catalog,
)

OLD, NEW = "csst_0001.pmap", "csst_0002.pmap"
PART = 4_000


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """Start two worker processes on 127.0.0.1, once for the module.

    The dashboard gets a free HTTP port: with dashboard_address=None the scheduler still binds
    8787, which another user may hold.
    """
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0")
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def catalogue(rows_maker: Callable[..., list[dict[str, Any]]]) -> Catalog:
    return Catalog.from_rows(rows_maker(20_000, seed=11), source="catalogue")


def _answer(report: AffectedReport) -> tuple[dict[str, object], list[dict[str, object]]]:
    return report.header(), list(report.datasets())


def test_one_process_all_cores_and_dask_agree(contexts: Path, catalogue: Catalog,
                                              client: Client) -> None:
    serial = find_affected(catalogue, OLD, NEW, cache=contexts, rows_per_part=PART)
    pool = find_affected(catalogue, OLD, NEW, cache=contexts, rows_per_part=PART, jobs=2)
    dask = find_affected(catalogue, OLD, NEW, cache=contexts, rows_per_part=PART, dask=client)
    assert len(serial.parts) == 5 and serial.affected > 0
    assert _answer(pool) == _answer(serial)
    assert _answer(dask) == _answer(serial)


def test_parquet_parts_are_read_by_the_workers(contexts: Path, catalogue: Catalog,
                                               client: Client, tmp_path: Path) -> None:
    path = tmp_path / "catalogue.parquet"
    write_catalog(catalogue, path, row_group_rows=PART)
    back = read_catalog(path)
    assert [back.row(i) for i in (0, 7, 19_999)] == [catalogue.row(i) for i in (0, 7, 19_999)]
    serial = find_affected(catalogue, OLD, NEW, cache=contexts, rows_per_part=PART)
    on_dask = find_affected(path, OLD, NEW, cache=contexts, rows_per_part=PART, dask=client)
    # the Parquet ids are the catalogue's row numbers (it had no id column)
    assert list(on_dask.datasets()) == list(serial.datasets())
    assert on_dask.total == serial.total == 20_000
