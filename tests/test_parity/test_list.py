"""``csst-crds list``'s CRDS options, compared with ``crds list`` on jwst_0541 where CRDS runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csst_crds_plugin.cli.main import main

RMAPS = ("jwst_miri_gain_0007.rmap", "jwst_nircam_flat_0014.rmap")


def _ours(capsys: pytest.CaptureFixture[str], cache: Path, *words: str) -> str:
    capsys.readouterr()
    assert main(["list", "--cache", str(cache), "--observatory", "jwst", *words]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("words", [
    ["--file-properties", *RMAPS],
    ["--cat", RMAPS[0]],
    ["--resolve-contexts", "--contexts", "jwst_0541.pmap", "jwst-operational"],
    ["--operational-context"],
])
def test_the_same_as_crds_list(words: list[str], jwst_cache, crds,
                               capsys: pytest.CaptureFixture[str]) -> None:
    cache, _ = jwst_cache
    theirs = crds(cache, "-m", "crds.list", *[w.replace("jwst-operational", "jwst-latest")
                                             for w in words])
    assert _ours(capsys, cache, *words) == theirs


def test_required_parkeys_are_crds(jwst_cache, crds, capsys: pytest.CaptureFixture[str]) -> None:
    cache, _ = jwst_cache
    theirs = crds(cache, "-c", "import crds, json; print(json.dumps(crds.get_cached_mapping("
                               "'jwst_0541.pmap').get_required_parkeys()))")
    expected = {k: sorted(v) for k, v in json.loads(theirs.strip().splitlines()[-1]).items()}
    lines = _ours(capsys, cache, "--required-parkeys", "--contexts", "jwst_0541.pmap")
    ours = {}
    for line in lines.splitlines()[1:]:
        instrument, _, keys = line.partition(": ")
        ours[instrument] = sorted(json.loads(keys.replace("'", '"')))
    assert ours == expected
    assert lines.splitlines()[0].startswith("-") and "'jwst_0541.pmap'" in lines


def test_on_the_demo_cache(demo_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = demo_run / "cache"
    operational = json.loads((cache / "config" / "csst" / "contexts.json").read_text())
    assert main(["list", "--cache", str(cache), "--operational-context"]) == 0
    assert capsys.readouterr().out == operational["operational"] + "\n"
    first = operational["history"][0]["activated"]
    assert main(["list", "--cache", str(cache), "--resolve-contexts", "--contexts",
                 f"csst-{first}"]) == 0
    assert capsys.readouterr().out == operational["history"][0]["context"] + "\n"
    (reference,) = (cache / "references").rglob("csst_msc_flat_0007.fits")
    assert main(["list", "--cache", str(cache), "--cat", reference.name]) == 0
    text = capsys.readouterr().out
    assert f"File: {reference}" in text and "REFTYPE = 'FLAT'" in text
    assert main(["list", "--cache", str(cache), "--file-properties", reference.name]) == 0
    assert capsys.readouterr().out == "msc flat csst_msc_flat_0007.fits\n"
    (exposure,) = (demo_run / "exposure").glob("*_L0.fits")
    assert main(["list", "--cache", str(cache), "--dataset-headers", str(exposure)]) == 0
    text = capsys.readouterr().out
    assert "DETECTOR = '06'" in text and "DATE-OBS = '2027-01-02'" in text
    assert main(["list", "--cache", str(cache), "--required-parkeys"]) == 0
    text = capsys.readouterr().out
    assert "msc: ['INSTRUME', 'DATE-OBS', 'DETECTOR', 'FILTER', 'READMODE', 'REFTYPE', " \
        "'TIME-OBS']" in text
    assert main(["list", "--cache", str(cache), "--contexts"]) == 0
    assert capsys.readouterr().out.startswith("csst_0001.pmap")


def test_json_on_request(demo_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = demo_run / "cache"
    assert main(["list", "--cache", str(cache), "--contexts"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert main(["list", "--cache", str(cache), "--contexts", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == text
