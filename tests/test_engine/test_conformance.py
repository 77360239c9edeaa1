"""Every case of every suite of the shared conformance corpus, read in place."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from csst_crds_plugin.tools.bestrefs import iter_cases, run_cases


def _corpus() -> Path:
    configured = os.environ.get("CSST_CRDS_CONFORMANCE_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2].parent / "shared" / "conformance"


CORPUS = _corpus()
SUITES = sorted(p.name for p in CORPUS.iterdir() if (p / "suite.json").is_file()) \
    if CORPUS.is_dir() else []


def _agrees(case: dict[str, Any], got: dict[str, object]) -> bool:
    omitted = set(case.get("omitted", []))
    for reftype in case["reftypes"]:
        expected = case["expected"].get(reftype)
        value = got.get(reftype)
        if reftype in omitted:
            if reftype in got:
                return False
        elif isinstance(expected, dict) and "error" in expected:
            if not (isinstance(value, dict) and value.get("error") == expected["error"]):
                return False
        elif value != expected:
            return False
    return True


def test_corpus_present(conformance_corpus: Path) -> None:
    """The corpus is beside the checkout; CI requires it, a user's clone may lack it."""
    assert SUITES, f"{CORPUS} holds no suites"


# Without a corpus one placeholder keeps the tests, so that they skip with the reason above.
PARAMS = SUITES or ["<no corpus>"]


@pytest.mark.parametrize("suite", PARAMS)
def test_suite_agrees(suite: str, conformance_corpus: Path) -> None:
    """Every case agrees exactly; mismatches are reported by case id."""
    root = CORPUS / suite
    meta = json.loads((root / "suite.json").read_text(encoding="utf-8"))
    cases = dict(iter_cases(root / "cases.jsonl"))
    mismatches = []
    for line in run_cases(cases.items(), cache=root / "cache", context=None,
                          ignore_checksum=bool(meta.get("ignore_checksum"))):
        case = cases[line["id"]]
        got = line["results"]
        assert isinstance(got, dict)
        if not _agrees(case, got):
            mismatches.append(f"{case['id']} ({case.get('tag')}): expected "
                              f"{case['expected']} omitted={case.get('omitted', [])}, got {got}")
    assert len(cases) == meta["cases"]
    assert not mismatches, f"{len(mismatches)}/{len(cases)} cases disagree:\n" + "\n".join(
        mismatches[:20])


@pytest.mark.parametrize("suite", PARAMS)
def test_bestrefs_command_prints_one_line_per_case(
    suite: str, conformance_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bulk CLI of DESIGN.md §6 on a whole suite."""
    from csst_crds_plugin.cli.main import main

    root = CORPUS / suite
    with (root / "cases.jsonl").open(encoding="utf-8") as stream:
        first = json.loads(stream.readline())
    code = main(["bestrefs", "--cache", str(root / "cache"), "--context", first["context"],
                 "--headers", str(root / "cases.jsonl"), "--format", "jsonl"])
    lines = capsys.readouterr().out.splitlines()
    # exit status 1 exactly when some lookup failed (each failure is still a line)
    assert code == int(any('"error"' in line for line in lines))
    meta = json.loads((root / "suite.json").read_text(encoding="utf-8"))
    assert len(lines) == meta["cases"]
    parsed = [json.loads(line) for line in lines]
    assert parsed[0]["id"] == first["id"] and set(parsed[0]) == {"id", "results"}
