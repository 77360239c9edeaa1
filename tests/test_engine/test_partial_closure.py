"""A context whose mappings are partly absent: served per instrument, exactly as CRDS 14.0.3.

The rules name three instruments: NIRCAM is complete; MIRI's imap is present but names an
absent rmap (dark), so even its mask lookup cannot minimise the parameters; NIRSPEC's imap is
absent. The CRDS library runs on the same cache (offline, in a subprocess) and its outcome
is compared with the engine's, case by case; verification still reports every absent file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from csst_crds_plugin import FileNotCachedError, ReferenceProvider
from csst_crds_plugin.cache import CacheLayout
from csst_crds_plugin.cli.main import main
from csst_crds_plugin.rules import set_sha1sum
from csst_crds_plugin.tools.verify import absent_mappings


def _mapping(kind: str, name: str, parkey: str, selector: str, **fields: str) -> str:
    header = {"derived_from": "'tests'", "mapping": repr(kind), "name": repr(name),
              "observatory": "'JWST'", "parkey": parkey, "sha1sum": "''", **fields}
    lines = "".join(f"    {k!r} : {v},\n" for k, v in sorted(header.items()))
    return set_sha1sum("header = {\n" + lines + "}\n\nselector = " + selector + "\n")


def _partial_cache(root: Path) -> Path:
    folder = root / "mappings" / "jwst"
    folder.mkdir(parents=True)
    texts = {"jwst_0001.pmap": _mapping(
        "PIPELINE", "jwst_0001.pmap", "('META.INSTRUMENT.NAME',)",
        "{\n    'MIRI' : 'jwst_miri_0001.imap',\n    'NIRCAM' : 'jwst_nircam_0001.imap',\n"
        "    'NIRSPEC' : 'jwst_nirspec_0001.imap',\n}")}
    for instrument, types in (("nircam", ["mask", "flat"]), ("miri", ["mask", "dark"])):
        entries = "".join(
            f"    '{t}' : " + ("'N/A'" if t == "flat" else f"'jwst_{instrument}_{t}_0001.rmap'")
            + ",\n" for t in types)
        texts[f"jwst_{instrument}_0001.imap"] = _mapping(
            "INSTRUMENT", f"jwst_{instrument}_0001.imap", "('REFTYPE',)",
            "{\n" + entries + "}", instrument=repr(instrument.upper()))
        texts[f"jwst_{instrument}_mask_0001.rmap"] = _mapping(
            "REFERENCE", f"jwst_{instrument}_mask_0001.rmap",
            "(('META.INSTRUMENT.DETECTOR',), ('META.OBSERVATION.DATE', 'META.OBSERVATION.TIME'))",
            "Match({\n    ('ANY',) : UseAfter({\n        '2020-01-01 00:00:00' : "
            f"'jwst_{instrument}_mask_0001.fits',\n    }}),\n}})",
            instrument=repr(instrument.upper()), filekind="'MASK'")
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    config = root / "config" / "jwst"
    config.mkdir(parents=True)
    context = "jwst_0001.pmap"
    (config / "server_config").write_text(repr({
        "observatory": "jwst", "operational_context": context, "edit_context": context,
        "latest_context": context, "versions_context": context, "bad_files": "",
        "bad_files_list": [], "force_remote_mode": False, "last_synced": "2026-01-01 00:00:00",
        "mappings": [], "reference_url": "file:///nonexistent",
        "mapping_url": "file:///nonexistent", "crds_version": {"str": "14.0.3"}}),
        encoding="utf-8")
    (config / "bad_files.txt").write_text("", encoding="utf-8")
    return root


CASES = {instrument: {"META.INSTRUMENT.NAME": instrument, "META.INSTRUMENT.DETECTOR": "ANY",
                      "META.OBSERVATION.DATE": "2024-01-01", "META.OBSERVATION.TIME": "00:00:00"}
         for instrument in ("NIRCAM", "MIRI", "NIRSPEC")}
TYPES = ["mask", "flat"]

CRDS_SCRIPT = textwrap.dedent("""
    import json, sys
    import crds
    out = {}
    for name, parameters in json.loads(sys.argv[1]).items():
        for reftype in json.loads(sys.argv[2]):
            try:
                found = crds.getrecommendations(parameters, reftypes=[reftype],
                                                context="jwst_0001.pmap", observatory="jwst",
                                                fast=True)
                out[f"{name}/{reftype}"] = found.get(reftype, "OMITTED")
            except Exception as exc:
                out[f"{name}/{reftype}"] = {"error": type(exc).__name__, "message": str(exc)}
    print(json.dumps(out))
""")


def _crds_outcomes(cache: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRDS_", "CSST_CRDS_"))}
    env.update(CRDS_PATH=str(cache), CRDS_MODE="local", CRDS_OBSERVATORY="jwst",
               CRDS_SERVER_URL="https://127.0.0.1:9")
    done = subprocess.run([sys.executable, "-c", CRDS_SCRIPT, json.dumps(CASES),
                           json.dumps(TYPES)], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def partial(tmp_path: Path) -> Path:
    return _partial_cache(tmp_path / "cache")


def test_lookups_agree_with_crds_on_a_partial_context(partial: Path) -> None:
    pytest.importorskip("crds", reason="the CRDS library pins the behaviour")
    expected = _crds_outcomes(partial)
    provider = ReferenceProvider(cache=partial, observatory="jwst")
    for name, parameters in CASES.items():
        for reftype in TYPES:
            want = expected[f"{name}/{reftype}"]
            if isinstance(want, dict):  # CRDS: "Failed caching mapping files"
                assert want["error"] == "CrdsDownloadError", want
                with pytest.raises(FileNotCachedError) as caught:
                    provider.best_references(parameters, [reftype])
                absent = {"MIRI": "jwst_miri_dark_0001.rmap",
                          "NIRSPEC": "jwst_nirspec_0001.imap"}[name]
                assert absent in str(caught.value)
                assert f"csst-crds sync --files {absent}" in str(caught.value)
            else:
                found = provider.best_references(parameters, [reftype])[reftype]
                value = "NOT FOUND n/a" if found.not_applicable else found.value
                assert value == want, (name, reftype)
    assert {k: v for k, v in expected.items() if k.startswith("NIRCAM")} == {
        "NIRCAM/mask": "jwst_nircam_mask_0001.fits", "NIRCAM/flat": "NOT FOUND n/a"}


def test_bulk_and_bestrefs_serve_the_complete_instrument(partial: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    provider = ReferenceProvider(cache=partial, observatory="jwst")
    bulk = provider.best_references_many(list(CASES.values()), ["mask"])
    assert bulk.values("mask")[0] == "jwst_nircam_mask_0001.fits"
    for row in (1, 2):
        with pytest.raises(FileNotCachedError):
            bulk.row(row)
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(p) + "\n" for p in CASES.values()), encoding="utf-8")
    main(["bestrefs", "--cache", str(partial), "--context", "jwst_0001.pmap", "--headers",
          str(cases), "--format", "jsonl", "--types", "mask"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert lines[0]["results"] == {"mask": "jwst_nircam_mask_0001.fits"}
    assert [line["results"]["mask"]["error"] for line in lines[1:]] == ["other", "other"]


def test_verification_still_reports_every_absent_mapping(partial: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    layout = CacheLayout(partial, "jwst")
    assert sorted(p.name for p in absent_mappings(layout)) == [
        "jwst_miri_dark_0001.rmap", "jwst_nirspec_0001.imap"]
    assert main(["sync", "--verify", "--cache", str(partial), "--observatory", "jwst"]) == 1
    assert main(["certify", "--context", "jwst_0001.pmap", "--cache", str(partial),
                 "--observatory", "jwst", "--no-check-references"]) == 1
    out = capsys.readouterr().out
    for name in ("jwst_miri_dark_0001.rmap", "jwst_nirspec_0001.imap"):
        assert out.count(name) >= 2, out
