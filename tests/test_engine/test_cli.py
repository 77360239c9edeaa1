"""``csst-crds`` called in process through main([...])."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import csst_crds_plugin.cli
from csst_crds_plugin.cli.main import (
    COMMANDS,
    NOT_COMMANDS,
    build_parser,
    command_modules,
    main,
    requested_command,
)


def test_the_table_lists_exactly_the_command_modules_of_the_package() -> None:
    found = {f"csst_crds_plugin.cli.{info.name}"
             for info in pkgutil.iter_modules(csst_crds_plugin.cli.__path__)
             if not info.name.startswith("_") and info.name not in NOT_COMMANDS}
    listed = {command.module for command in COMMANDS.values()}
    assert not found - listed, (f"command modules missing from COMMANDS in cli/main.py: "
                                f"{sorted(found - listed)}; add a line for each to the table")
    assert not listed - found, f"COMMANDS names modules that do not exist: {listed - found}"
    for name, module in zip(sorted(COMMANDS), command_modules(), strict=True):
        assert module.NAME == name, f"{module.__name__} says NAME {module.NAME!r}, not {name!r}"


def test_every_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for name in COMMANDS:
        assert main([name, "--help"]) == 0, name
        out = capsys.readouterr().out
        assert "examples:" in out and f"csst-crds {name}" in out, name


def test_top_level_help_lists_every_command_without_importing_them() -> None:
    code = ("import sys; from csst_crds_plugin.cli.main import main; code = main(['--help']); "
            "print(sorted(m for m in sys.modules if m.startswith('csst_crds_plugin.cli.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    loaded = done.stdout.strip().splitlines()[-1]
    assert loaded == "['csst_crds_plugin.cli.main']", loaded
    for name, command in COMMANDS.items():
        assert f"{name} " in done.stdout and command.help.split()[0] in done.stdout, name


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


def test_one_command_is_imported_alone_and_parses_as_with_all() -> None:
    assert requested_command(["-v", "list", "--status"]) == "list"
    assert requested_command(["--help"]) is None
    assert requested_command(["-h", "list"]) is None
    assert requested_command(["nosuch", "x"]) is None
    words = ["-v", "list", "--status", "--cache", "/x"]
    alone = vars(build_parser(["list"]).parse_args(words))
    full = vars(build_parser(COMMANDS).parse_args(words))
    assert alone == full
