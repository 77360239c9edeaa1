"""Exit codes of ``csst-crds``: a user's error is one line and 1; a bug is a traceback and 70."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from csst_crds_plugin import __version__
from csst_crds_plugin.cli.main import BUG_STATUS, COMMANDS, Command, main

# A command registered only by these tests (through the COMMANDS table, as documented in
# cli/main.py): its handler makes real programming errors.
BUGGY_COMMAND = '''
"""``csst-crds buggy``: a command with bugs, for the exit-code tests."""

import json

NAME = "buggy"
EXAMPLES = "examples:\\n  csst-crds buggy key\\n"


def add_arguments(parser):
    parser.add_argument("what", choices=("key", "file"))


def run(args):
    if args.what == "key":
        return {"a": 1}["b"]
    with open(__file__ + ".missing-resource", encoding="utf-8") as stream:  # not the user's
        return len(json.load(stream))
'''


@pytest.fixture
def buggy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "buggy_command.py").write_text(BUGGY_COMMAND, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(COMMANDS, "buggy", Command("buggy_command", "a command with bugs"))
    return "buggy"


def _one_error_line(err: str, command: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith(f"csst-crds {command}: error: "), lines[0]
    return lines[0]


@pytest.mark.parametrize("what, error", [("key", "KeyError: 'b'"),
                                         ("file", "FileNotFoundError")])
def test_a_bug_prints_its_traceback_and_asks_for_a_report(
        buggy: str, what: str, error: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([buggy, what]) == BUG_STATUS == 70
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == "Traceback (most recent call last):"
    assert any(line.startswith(error) for line in err), err
    assert err[-1].startswith(f"This is a bug in csst-crds {__version__}")
    assert f"csst-crds {buggy} {what}" in err[-1] and "traceback above" in err[-1]


def test_debug_raises_the_bug_itself(buggy: str) -> None:
    with pytest.raises(KeyError):
        main(["--debug", buggy, "key"])


def test_a_bug_in_a_real_process_exits_70_with_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "buggy_command.py").write_text(BUGGY_COMMAND, encoding="utf-8")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "from csst_crds_plugin.cli.main import COMMANDS, Command, main; "
            "COMMANDS['buggy'] = Command('buggy_command', 'bugs'); "
            "sys.exit(main(['buggy', 'key']))")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 70, done.stderr
    assert "Traceback" in done.stderr and "KeyError" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("This is a bug in csst-crds")


def test_a_missing_parameter_file_is_one_line_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "params.json"
    assert main(["explain", "--type", "bias", "--parameters", str(missing)]) == 1
    line = _one_error_line(capsys.readouterr().err, "explain")
    assert f"{missing}: no such parameter file" in line
    assert main(["explain", "--type", "bias", "--parameters", str(tmp_path)]) == 1
    assert f"{tmp_path}: a folder, not a parameter file" in \
        _one_error_line(capsys.readouterr().err, "explain")


def test_a_parameter_file_that_is_not_json_is_one_line_naming_file_and_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "params.json"
    bad.write_text('{"INSTRUME": "MSC",\n  DETECTOR: 6}\n', encoding="utf-8")
    assert main(["explain", "--type", "bias", "--parameters", str(bad)]) == 1
    assert f"{bad}:2: not JSON: " in _one_error_line(capsys.readouterr().err, "explain")


def test_a_missing_headers_file_is_one_line_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "cases.jsonl"
    assert main(["bestrefs", "--cache", str(tmp_path), "--headers", str(missing)]) == 1
    line = _one_error_line(capsys.readouterr().err, "bestrefs")
    assert f"{missing}: cannot read the parameter sets: No such file or directory" in line


def test_an_output_in_a_missing_folder_is_refused_before_any_work(
        tiny_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"INSTRUME": "MSC", "DETECTOR": "06"}) + "\n")
    output = tmp_path / "no" / "such" / "out.jsonl"
    assert main(["bestrefs", "--cache", str(tiny_cache), "--context", "csst_0001.pmap",
                 "--headers", str(cases), "-o", str(output)]) == 1
    line = _one_error_line(capsys.readouterr().err, "bestrefs")
    assert f"-o {output}: the folder {output.parent} does not exist; create it first" in line
    assert main(["lock", "csst_0001.pmap", "--cache", str(tiny_cache), "-o", str(tmp_path)]) == 1
    assert f"-o {tmp_path}: a folder; give a file name" in \
        _one_error_line(capsys.readouterr().err, "lock")


@pytest.mark.parametrize("option, message", [
    (["--max-age", "bias=soon"], "--max-age bias=soon: DAYS must be a number"),
    (["--param", "READMODE"], "--param 'READMODE' is not KEY=VALUE"),
    (["--date", "yesterday"], "date 'yesterday' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS"),
])
def test_bad_coverage_options_are_one_line(
        tiny_cache: Path, option: list[str], message: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coverage", "--cache", str(tiny_cache), *option]) == 1
    assert message in _one_error_line(capsys.readouterr().err, "coverage")


def test_a_missing_rmap_is_one_line_naming_it(
        tiny_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "csst_msc_bias_0009.rmap"
    for words in (["insert", "--references", "x.fits"],
                  ["refactor", "delete", "--references", "x.fits"]):
        assert main([*words, "--rmap", str(missing), "--cache", str(tiny_cache)]) == 1
        assert f"--rmap {missing}: not a file" in \
            _one_error_line(capsys.readouterr().err, words[0])
    assert main(["insert", "--references", "x.fits", "--rmap", "csst_msc_nosuch_0001.rmap",
                 "--cache", str(tiny_cache)]) == 1
    assert "not a file, nor a mapping in" in _one_error_line(capsys.readouterr().err, "insert")


def test_an_out_of_range_port_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "99999"]) == 2
    assert "'99999' is not a port number (0 to 65535)" in capsys.readouterr().err


def test_required_parkeys_of_an_absent_context_says_it_is_not_cached(
        tiny_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--cache", str(tiny_cache), "--required-parkeys", "--contexts",
                 "csst_0099.pmap"]) == 1
    line = _one_error_line(capsys.readouterr().err, "list")
    assert "mapping csst_0099.pmap is not in the cache" in line and "csst-crds sync" in line
