"""coverage: every demo chip and type with its file and age; missing and stale flagged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from astropy.io import fits

from csst_crds_plugin.cache import CacheLayout
from csst_crds_plugin.cli.main import main
from csst_crds_plugin.tools.coverage import coverage
from csst_crds_plugin.tools.delivery import deliver
from steps.demo.references import CHIPS, DAYS

DATE = "2027-01-05"
DAILY = ("bias", "dark", "flat")
ONCE = ("gain", "mask", "readnoise", "saturation")


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    status = main(["coverage", *argv, "--format", "json"])
    return status, json.loads(capsys.readouterr().out)


def test_every_demo_chip_and_type_has_its_file_and_age(demo_cache: Path) -> None:
    report = coverage(demo_cache, date=DATE)
    rows = {(r.detector, r.reftype): r for r in report.rows if r.instrument == "MSC"}
    assert {f"{n:02d}" for n in range(1, 31)} == {d for d, _ in rows}  # all 30 chips
    layout = CacheLayout(demo_cache, "csst")
    for chip in CHIPS:
        for reftype in DAILY + ONCE:
            row = rows[(chip, reftype)]
            assert row.status == "ok", row
            header = fits.getheader(layout.find_reference(row.file, "msc"), 0)
            assert (header["REFTYPE"].lower(), header["DETECTOR"]) == (reftype, chip)
            day = DAYS[-1] if reftype in DAILY else DAYS[0]
            assert header["USEAFTER"].startswith(day)
            assert row.useafter == f"{day} 00:00:00"
            assert row.age_days == {"2027-01-03": 2.0, "2027-01-01": 4.0}[day]
    # chips the demo never delivered are missing everything
    assert {rows[("02", t)].status for t in DAILY + ONCE} == {"missing"}


def test_a_chip_with_no_flat_is_flagged(demo_copy: Path, chain_files, capsys) -> None:
    deliver(demo_copy, chain_files("02"), activate=True)
    status, report = _json(capsys, "--cache", str(demo_copy), "--date", DATE,
                           "--detector", "02", "--instrument", "MSC")
    assert status == 3
    by_type = {row["reftype"]: row for row in report["rows"]}
    assert by_type["bias"]["status"] == by_type["dark"]["status"] == "ok"
    assert by_type["bias"]["age_days"] == 1.0
    assert by_type["flat"]["status"] == "missing"
    assert report["ok"] is False


def test_max_age_makes_an_old_type_stale(demo_cache: Path, capsys) -> None:
    common = ["--cache", str(demo_cache), "--date", DATE, "--detector", "06"]
    status, report = _json(capsys, *common, "--max-age", "flat=3", "--max-age", "gain=5")
    assert status == 0 and report["ok"]
    status, report = _json(capsys, *common, "--max-age", "flat=1.5")
    assert status == 3
    stale = [(r["detector"], r["reftype"]) for r in report["rows"] if r["status"] == "stale"]
    assert stale == [("06", "flat")]


def test_text_table_marks_problems(demo_cache: Path, capsys) -> None:
    status = main(["coverage", "--cache", str(demo_cache), "--date", DATE, "--detector", "06",
                   "--detector", "02", "--max-age", "bias=1"])
    out = capsys.readouterr().out.splitlines()
    assert status == 3
    flagged = [line.split()[1:4] for line in out if line.startswith("!")]
    assert ["MSC", "06", "bias"] in flagged and ["MSC", "02", "flat"] in flagged
    assert ["MSC", "06", "dark"] not in flagged


def test_a_bad_max_age_is_a_usage_error(demo_cache: Path, capsys) -> None:
    assert main(["coverage", "--cache", str(demo_cache), "--max-age", "bias"]) == 1
    assert "is not KEY=VALUE" in capsys.readouterr().err
