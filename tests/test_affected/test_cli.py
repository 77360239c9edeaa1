"""``csst-crds affected`` and ``bestrefs --old-context/--new-context``; interrupted runs."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import datamodels
from csst_crds_plugin.cli.main import main
from csst_crds_plugin.tools.affected import find_affected, write_report

OLD, NEW = "csst_0001.pmap", "csst_0002.pmap"
# By construction of the contexts (conftest.py): day 14 is 2027-01-15, whose chip-06 FAST bias
# was re-delivered; chip 08 gains a flat rule from 2027-01-20; IFS is new; MCI is unchanged.
HAND = [
    {"id": "redo", "INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "FAST", "FILTER": "y",
     "DATE-OBS": "2027-01-15", "TIME-OBS": "10:00:00"},
    {"id": "flat08", "INSTRUME": "MSC", "DETECTOR": "08", "READMODE": "NORMAL", "FILTER": "g",
     "DATE-OBS": "2027-02-01", "TIME-OBS": "00:00:00"},
    {"id": "mci", "INSTRUME": "MCI", "DETECTOR": "C1", "DATE-OBS": "2027-01-05",
     "TIME-OBS": "00:00:00"},
    {"id": "ifs", "INSTRUME": "IFS", "DETECTOR": "IFS", "READMODE": "FAST",
     "DATE-OBS": "2027-01-05", "TIME-OBS": "00:00:00"},
]
EXPECTED = {
    "redo": {"bias": {"old": "csst_msc_bias_06_014.fits",
                      "new": "csst_msc_bias_06_014_redo.fits"}},
    "flat08": {"flat": {"old": "N/A", "new": "csst_msc_flat_08_new.fits"}},
    "ifs": {"bias": {"old": {"error": "unknown-instrument",
                             "message": "Unknown instrument 'IFS' for context "
                                        "'csst_0001.pmap'; known: CPIC, MCI, MSC"},
                     "new": "ifs_000.fits"}},
}


@pytest.fixture
def hand(tmp_path: Path) -> Path:
    path = tmp_path / "hand.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in HAND), encoding="utf-8")
    return path


def _run(contexts: Path, catalog: Path, *extra: str) -> int:
    return main(["affected", OLD, NEW, "--cache", str(contexts), "--catalog", str(catalog),
                 "--jobs", "1", *extra])


def test_json_report(contexts: Path, hand: Path, tmp_path: Path,
                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    assert _run(contexts, hand, "-o", str(out)) == 0
    assert "3 of 4 datasets affected (3 examined)" in capsys.readouterr().out
    report = json.loads(out.read_text(encoding="utf-8"))
    assert {d["id"]: d["changes"] for d in report["datasets"]} == EXPECTED
    assert [d["instrument"] for d in report["datasets"]] == ["MSC", "MSC", "IFS"]
    assert (report["datasets_in_catalog"], report["datasets_examined"],
            report["datasets_affected"]) == (4, 3, 3)
    assert report["changed"] == {"IFS": "all", "MSC": ["bias", "flat"]}
    assert report["summary"] == {"IFS": {"datasets": 1, "types": {"bias": 1}},
                                 "MSC": {"datasets": 2, "types": {"bias": 1, "flat": 1}}}


def test_csv_and_table_reports(contexts: Path, hand: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.csv"
    assert _run(contexts, hand, "-o", str(out), "--format", "csv") == 0
    with out.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [(r["id"], r["reftype"], r["old"], r["new"]) for r in rows] == [
        ("redo", "bias", "csst_msc_bias_06_014.fits", "csst_msc_bias_06_014_redo.fits"),
        ("flat08", "flat", "N/A", "csst_msc_flat_08_new.fits"),
        ("ifs", "bias", "error:unknown-instrument", "ifs_000.fits")]
    capsys.readouterr()
    assert _run(contexts, hand, "--format", "table", "-o", "-") == 0
    text = capsys.readouterr().out
    assert "3 of 4 datasets affected (3 examined)" in text
    assert "flat08  MSC  flat: N/A -> csst_msc_flat_08_new.fits" in text


def test_without_output_only_the_summary_is_printed(contexts: Path, hand: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.iterdir())
    assert _run(contexts, hand) == 0
    text = capsys.readouterr().out
    assert "3 of 4 datasets affected (3 examined)" in text
    assert "flat08" not in text and "csst_msc_flat_08_new.fits" not in text
    assert not text.lstrip().startswith("{")
    assert sorted(tmp_path.iterdir()) == before


def test_explain_names_the_rule_change(contexts: Path, hand: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(contexts, hand, "--explain", "redo", "--format", "table") == 0
    text = capsys.readouterr().out
    assert "bias: csst_msc_bias_06_014.fits -> csst_msc_bias_06_014_redo.fits" in text
    assert ("rule change: csst_msc_bias_0002.rmap: ('06', 'FAST') / '2027-01-15 00:00:00': "
            "replaced csst_msc_bias_06_014.fits with csst_msc_bias_06_014_redo.fits") in text
    assert _run(contexts, hand, "--explain", "flat08") == 0
    explained = json.loads(capsys.readouterr().out)
    [change] = explained["changes"]
    assert change["reftype"] == "flat" and change["where"] == \
        "flat: csst_msc_flat_0001.rmap -> csst_msc_flat_0002.rmap"
    assert [(r["action"], r["path"]) for r in change["rule_changes"]] == [
        ("added", [["08", "g"], "2027-01-20 00:00:00"])]
    assert _run(contexts, hand, "--explain", "ifs", "--format", "table") == 0
    assert "csst_0001.pmap names (none), csst_0002.pmap names csst_ifs_0001.imap" in \
        capsys.readouterr().out
    assert _run(contexts, hand, "--explain", "mci", "--format", "table") == 0
    assert "no reference type selects differently" in capsys.readouterr().out
    assert _run(contexts, hand, "--explain", "nosuch") == 1
    assert "no dataset with id 'nosuch'" in capsys.readouterr().err


def test_bestrefs_compares_headers_and_files(contexts: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps({"id": r["id"], "parameters": {
        k: v for k, v in r.items() if k != "id"}}) + "\n" for r in HAND), encoding="utf-8")
    compare = ["--old-context", OLD, "--new-context", NEW, "--cache", str(contexts)]
    assert main(["bestrefs", *compare, "--headers", str(cases)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {line["id"]: line["changes"] for line in lines} == {**EXPECTED, "mci": {}}
    model = datamodels.RawModel.create_fake_data()
    model.meta.instrument.readmode = "FAST"
    model.meta.observation.date = "2027-01-15"
    path = model.save(tmp_path / "exposure.fits")
    assert main(["bestrefs", *compare, "--files", path]) == 0
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert line == {"id": path, "changes": EXPECTED["redo"]}
    assert main(["bestrefs", "--old-context", OLD, "--cache", str(contexts),
                 "--files", path]) == 1
    assert "give both --old-context and --new-context" in capsys.readouterr().err


def test_a_failed_write_leaves_no_file(contexts: Path, hand: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    report = find_affected(hand, OLD, NEW, cache=contexts)
    rows = list(report.datasets())

    def broken() -> Any:
        yield rows[0]
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "datasets", broken)
    out = tmp_path / "out" / "report.json"
    out.parent.mkdir()
    with pytest.raises(KeyboardInterrupt):
        write_report(report, out, "json")
    assert list(out.parent.iterdir()) == []


def test_interrupted_run_leaves_no_report(contexts: Path, tmp_path: Path,
                                          rows_maker: Callable[..., list[dict[str, Any]]],
                                          jsonl_writer: Callable[..., Path]) -> None:
    """SIGTERM in the middle of a real run: exit 130, no report, no temporary file."""
    catalog = jsonl_writer(tmp_path / "big.jsonl", rows_maker(100_000, seed=3))
    out = tmp_path / "reports" / "affected.json"
    out.parent.mkdir()
    command = [sys.executable, "-m", "csst_crds_plugin", "affected", OLD, NEW, "--cache",
               str(contexts), "--catalog", str(catalog), "-o", str(out), "--jobs", "1",
               "--part-rows", "2000", "--progress"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    first = process.stderr.readline()
    assert first.startswith("affected: load rules and catalogue")  # progress from the start
    while not first.startswith("affected: select ["):  # the analysis is under way
        first = process.stderr.readline()
        assert first, "the analysis reported no progress"
    process.send_signal(signal.SIGTERM)
    rest = process.communicate(timeout=120)[1]
    assert process.returncode == 130, first + rest
    assert "interrupted; no report written" in rest
    assert list(out.parent.iterdir()) == []
