"""Hostile or broken inputs: over-deep JSON, a broken configuration that verify must report,
and a cache path that is missing or not a folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csst_crds_plugin.cache import CacheLayout, load_config
from csst_crds_plugin.cache.safe_read import MAX_JSON_DEPTH, json_depth, loads_json
from csst_crds_plugin.cli.main import main
from csst_crds_plugin.errors import CacheError, InputLimitError
from csst_crds_plugin.tools.file_checksums import write_manifest
from csst_crds_plugin.tools.verify import verify_cache

DEEP = "[" * 100_000 + "]" * 100_000
EXPOSURE = {"INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "FAST", "DATE-OBS": "2027-01-02",
            "TIME-OBS": "10:00:00"}


def _contexts(cache: Path, text: str) -> None:
    (cache / "config" / "csst" / "contexts.json").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("text", [DEEP, '{"a": ' * 5000 + "1" + "}" * 5000])
def test_over_deep_json_is_one_error_naming_the_file(text: str) -> None:
    with pytest.raises(InputLimitError, match=r"^where\.json: JSON nested deeper than 100"):
        loads_json(text, "where.json")


def test_depth_counts_brackets_outside_strings_only() -> None:
    assert json_depth(b'{"a": "[[[[{{{{\\"[[", "b": [[1], {"c": []}]}') == 4
    assert loads_json('["' + "[" * 5000 + '"]', "x") == ["[" * 5000]
    assert loads_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, "x") is not None


@pytest.mark.parametrize(("command", "target"), [
    *((command, "contexts.json") for command in (
        ["list"], ["list", "--contexts"], ["bestrefs", "--headers", "{cases}"],
        ["explain", "--type", "bias", *(f"{k}={v}" for k, v in EXPOSURE.items())])),
    (["list"], "manifest.json"),
])
def test_a_100000_deep_config_file_is_one_line_not_a_recursion_error(
        tiny_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        command: list[str], target: str) -> None:
    write_manifest(tiny_cache)
    (tiny_cache / "config" / "csst" / target).write_text(DEEP, encoding="utf-8")
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(EXPOSURE) + "\n", encoding="utf-8")
    words = [w.replace("{cases}", str(cases)) for w in command]
    code = main([words[0], "--cache", str(tiny_cache), *words[1:]])
    captured = capsys.readouterr()
    assert code == 1
    text = captured.out + captured.err
    assert "RecursionError" not in text and "Traceback" not in text
    assert f"{target}: JSON nested deeper than {MAX_JSON_DEPTH} levels" in text


def test_a_deep_bestrefs_line_is_reported_and_the_next_line_still_runs(
        tiny_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(DEEP + "\n" + json.dumps(EXPOSURE) + "\n", encoding="utf-8")
    code = main(["bestrefs", "--cache", str(tiny_cache), "--headers", str(cases),
                 "--types", "bias"])
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert code == 1
    assert lines[0]["id"] == 1 and "cases.jsonl:1: JSON nested deeper" in \
        lines[0]["error"]["message"]
    assert lines[1] == {"id": 2, "results": {"bias": "csst_msc_bias_0002.fits"}}
    assert "cases.jsonl:1: JSON nested deeper" in captured.err


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "not valid JSON"),
    ('{"operational": 5}', "field 'operational': 5 is not a pipeline context name"),
    ('{"operational": "csst_0001.pmap", "history": "x"}', "field 'history': must be a list"),
    ('{"operational": "csst_0001.pmap", "history": [{"context": "csst_0001.pmap", '
     '"activated": 20260101}]}', "'activated' and 'description' must be strings"),
    ('{"operational": "csst_0001.pmap", "bad_files": [1, 2]}', "'bad_files': must be a list"),
    ('{"observatory": ["csst"], "operational": "csst_0001.pmap"}', "observatory is"),
    ('{"operational": "csst_0001.pmap", "mirror": 7}', "'mirror': must be a string"),
    (DEEP, "JSON nested deeper than 100 levels"),
])
def test_verify_reports_an_invalid_or_mistyped_contexts_json(
        tiny_cache: Path, capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    write_manifest(tiny_cache)
    _contexts(tiny_cache, text)
    assert main(["sync", "--cache", str(tiny_cache), "--verify"]) == 1
    out = capsys.readouterr().out
    problem = next(line for line in out.splitlines() if line.startswith("PROBLEM"))
    assert problem.startswith("PROBLEM contexts.json: invalid: ") and message in problem


def test_verify_reports_named_contexts_that_are_absent_or_do_not_load(
        tiny_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_manifest(tiny_cache)
    _contexts(tiny_cache, json.dumps({
        "operational": "csst_0009.pmap", "latest": "csst_0001.pmap",
        "history": [{"context": "csst_0008.pmap", "activated": "2026-01-01T00:00:00"}]}))
    assert main(["sync", "--cache", str(tiny_cache), "--verify"]) == 1
    out = capsys.readouterr().out
    assert "csst_0008.pmap" not in out  # a past context need not be cached
    assert "PROBLEM csst_0009.pmap: named as operational by" in out and "not in the cache" in out
    assert "csst_0001.pmap" not in out  # present and loadable
    # A named context whose closure does not load: an rmap it names is gone.
    _contexts(tiny_cache, json.dumps({"operational": "csst_0001.pmap"}))
    (tiny_cache / "mappings" / "csst" / "csst_msc_gain_0001.rmap").unlink()
    assert main(["sync", "--cache", str(tiny_cache), "--verify"]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM csst_0001.pmap: named as operational by" in out
    assert "does not load" in out and "csst_msc_gain_0001.rmap" in out


def test_verify_reports_a_config_naming_no_operational_context(
        tiny_cache: Path) -> None:
    write_manifest(tiny_cache)
    (tiny_cache / "config" / "csst" / "server_config").unlink()
    _contexts(tiny_cache, json.dumps({"latest": "csst_0001.pmap"}))
    problems = verify_cache(CacheLayout(tiny_cache, "csst"))
    assert [(p.name, p.problem.split(";")[0]) for p in problems] == [
        ("config", "names no operational context")]


@pytest.mark.parametrize(("text", "message"), [
    ("{'observatory': 'csst', 'operational_context': 'csst_0007.pmap'}",
     "PROBLEM csst_0007.pmap: named as operational by"),
    ("{'observatory': 'csst', 'operational_context': 12}",
     "PROBLEM server_config: invalid: "),
    ("{'observatory': 'csst', 'operational_context': ", "PROBLEM server_config: invalid: "),
])
def test_verify_checks_the_crds_server_config(
        tiny_cache: Path, capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    write_manifest(tiny_cache)
    (tiny_cache / "config" / "csst" / "server_config").write_text(text, encoding="utf-8")
    assert main(["sync", "--cache", str(tiny_cache), "--verify"]) == 1
    assert message in capsys.readouterr().out


def test_verify_on_a_clean_cache_says_how_many_files_it_checked(
        tiny_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_manifest(tiny_cache)
    assert main(["sync", "--cache", str(tiny_cache), "--verify"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    # 4 mappings, 6 references, server_config and manifest.json
    assert len(out) == 1 and out[0].startswith(
        "verified 10 files: 0 problem(s) (4 mappings, 6 references, and 2 configuration "
        "files, in ")


def test_a_missing_cache_folder_is_reported_as_missing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nope = tmp_path / "nope"
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(EXPOSURE) + "\n", encoding="utf-8")
    for command in (["list"], ["sync", "--verify"], ["bestrefs", "--headers", str(cases)],
                    ["bestrefs", "--headers", str(cases), "--context", "csst_0001.pmap"]):
        assert main([command[0], "--cache", str(nope), *command[1:]]) == 1
        captured = capsys.readouterr()
        text = captured.out + captured.err
        assert f"the cache folder {nope} does not exist" in text, command
        assert "fill the cache" not in text
    assert not nope.exists()


def test_a_cache_path_that_is_a_file_is_reported_as_not_a_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "cache.txt"
    file.write_text("not a cache", encoding="utf-8")
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(EXPOSURE) + "\n", encoding="utf-8")
    for command in (["list"], ["sync", "--verify"],
                    ["bestrefs", "--headers", str(cases), "--context", "csst_0001.pmap"]):
        assert main([command[0], "--cache", str(file), *command[1:]]) == 1
        captured = capsys.readouterr()
        text = captured.out + captured.err
        assert f"the cache path {file} is not a folder" in text, command
        assert "Errno" not in text
    with pytest.raises(CacheError, match="is not a folder"):
        load_config(CacheLayout(file, "csst"))
