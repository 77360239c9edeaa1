"""``csst-crds certify``: text and JSON reports, exit status, --help, one real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from csst_crds_plugin.cli.main import main


def test_text_report_and_exit_status(write_fits, capsys) -> None:
    good, bad = write_fits("good.fits"), write_fits("bad.fits", FILTER="g")
    assert main(["certify", str(good)]) == 0
    out = capsys.readouterr().out
    assert f"OK {good}" in out and "1 file(s): 0 error(s), 0 warning(s)" in out
    assert main(["certify", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"FAILED {bad}" in out and f"  ERROR {bad}: keyword FILTER='g'" in out


def test_warnings_alone_pass(write_fits, capsys) -> None:
    assert main(["certify", str(write_fits(READMODE="SLOW"))]) == 0
    assert "  WARNING " in capsys.readouterr().out


def test_json_report(write_fits, tmp_path: Path, capsys) -> None:
    model = tmp_path / "csst_msc_crmodel_0001.pth"
    model.write_bytes(b"\x80\x04K\x01.")
    good = write_fits()
    assert main(["certify", str(good), str(model), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["errors"] == 1 and report["warnings"] == 0
    assert [f["path"] for f in report["files"]] == [str(good), str(model)]
    assert report["files"][0] == {"path": str(good), "kind": "reference", "ok": True,
                                  "errors": [], "warnings": []}
    assert "pickle" in report["files"][1]["errors"][0]
    assert main(["certify", str(model), "--allow-pickle", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_whole_context_and_mappings_against_a_cache(clean_cache: Path, capsys) -> None:
    assert main(["certify", "--context", "csst_0001.pmap", "--cache", str(clean_cache)]) == 0
    assert "4 file(s): 0 error(s)" in capsys.readouterr().out
    (clean_cache / "references" / "csst" / "msc" / "csst_msc_flat_0002.fits").unlink()
    rmap = clean_cache / "mappings" / "csst" / "csst_msc_flat_0001.rmap"
    assert main(["certify", str(rmap), "--cache", str(clean_cache)]) == 1
    assert "names the reference csst_msc_flat_0002.fits" in capsys.readouterr().out
    assert main(["certify", str(rmap), "--cache", str(clean_cache),
                 "--no-check-references"]) == 0


def test_usage_and_help(capsys) -> None:
    assert main(["certify"]) == 2
    assert "give FILES" in capsys.readouterr().err
    assert main(["certify", "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "csst-crds certify" in out and "--allow-pickle" in out


def test_command_runs_as_a_process(write_fits) -> None:
    bad = write_fits(USEAFTER="2027-01-01")
    script = Path(sys.executable).with_name("csst-crds")
    done = subprocess.run([str(script), "certify", str(bad), "--format", "json"],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 1, done.stderr
    (message,) = json.loads(done.stdout)["files"][0]["errors"]
    assert message.startswith(f"{bad}: keyword USEAFTER='2027-01-01' is not in the form")
