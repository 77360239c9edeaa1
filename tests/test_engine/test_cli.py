"""``csst-crds`` called in process through main([...])."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csst_crds_plugin.cli.main import command_modules, main


def test_every_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    modules = command_modules()
    assert {m.NAME for m in modules} >= {"bestrefs", "explain", "list", "checksum", "sync"}
    for module in modules:
        assert main([module.NAME, "--help"]) == 0
        out = capsys.readouterr().out
        assert "examples:" in out and f"csst-crds {module.NAME}" in out


def test_bestrefs_bulk_jsonl(tiny_cache: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.jsonl"
    lines = [
        {"INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "FAST", "DATE-OBS": "2027-01-01",
         "TIME-OBS": "00:00:00", "EXPTIME": 20},
        {"id": "c2", "parameters": {"INSTRUME": "MSC", "DETECTOR": "07"}, "reftypes": ["bias"]},
        {"id": "c3", "parameters": {"DETECTOR": "06"}, "reftypes": ["bias", "gain"]},
    ]
    cases.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    code = main(["bestrefs", "--cache", str(tiny_cache), "--context", "csst_0001.pmap",
                 "--headers", str(cases), "--format", "jsonl"])
    assert code == 1  # two lookups failed; every line is still written
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["id"] for o in out] == [1, "c2", "c3"]
    assert out[0]["results"] == {"bias": "csst_msc_bias_0001.fits", "fringe": "N/A",
                                 "gain": ["csst_msc_gain_0001.fits", "csst_msc_gain_0002.fits"]}
    assert out[1]["results"]["bias"]["error"] == "invalid-value"
    assert {v["error"] for v in out[2]["results"].values()} == {"missing-instrument"}


def test_domain_errors_exit_1_with_one_line(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    assert main(["bestrefs", "--cache", str(tmp_path), "--context", "csst_0001.pmap",
                 "--headers", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.jsonl:1: not a JSON object" in err[0]
    assert main(["bestrefs", "--nonsense"]) == 2


def test_explain_command(tiny_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["explain", "--cache", str(tiny_cache), "--context", "csst_0001.pmap", "--type",
            "bias", "INSTRUME=MSC", "DETECTOR=06", "READMODE=FAST", "DATE-OBS=2027-01-02",
            "TIME-OBS=00:00:00"]
    assert main(args) == 0
    assert "result:    'csst_msc_bias_0002.fits'" in capsys.readouterr().out
    assert main([*args[:-1], "TIME-OBS=nonsense"]) == 1
    assert "error (invalid-date)" in capsys.readouterr().out


def test_one_subcommand_is_imported_alone_and_parses_as_with_all() -> None:
    from csst_crds_plugin.cli.main import build_parser, requested_command

    module = requested_command(["-v", "list", "--status"])
    assert module is not None and module.NAME == "list"
    assert requested_command(["--help"]) is None
    assert requested_command(["nosuch", "x"]) is None
    words = ["-v", "list", "--status", "--cache", "/x"]
    alone = vars(build_parser([module]).parse_args(words))
    full = vars(build_parser().parse_args(words))
    assert alone == full
