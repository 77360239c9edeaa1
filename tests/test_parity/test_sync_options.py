"""``csst-crds sync``'s CRDS options on a mirror made from the demo cache; ``lock``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.cli.main import main


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.rglob("*") if p.is_file()} if folder.is_dir() else set()


def _sync(capsys: pytest.CaptureFixture[str], *words: str) -> tuple[int, str]:
    capsys.readouterr()
    status = main(["sync", *words])
    return status, capsys.readouterr().out


def test_range_dry_run_then_fetch(demo_run: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    mirror, cache = demo_run / "cache", tmp_path / "cache"
    status, out = _sync(capsys, "--cache", str(cache), "--source", str(mirror), "--range", "2:3",
                        "--dry-run")
    assert status == 0 and "for csst_0002.pmap, csst_0003.pmap" in out
    would = {line.split()[-1] for line in out.splitlines() if line.startswith("would fetch c")}
    assert not cache.exists() or not _names(cache / "mappings")  # nothing written
    status, out = _sync(capsys, "--cache", str(cache), "--source", str(mirror), "--range", "2:3")
    assert status == 0
    assert _names(cache / "mappings") == would
    assert {"csst_0002.pmap", "csst_0003.pmap"} <= would and "csst_0004.pmap" not in would


def test_the_recorded_mirror_and_csst_crds_mirror_are_the_default_source(
        demo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    mirror, cache = demo_run / "cache", tmp_path / "cache"
    status, _ = _sync(capsys, "--cache", str(cache), "--references")
    assert status == 1  # no mirror anywhere yet
    monkeypatch.setenv("CSST_CRDS_MIRROR", str(mirror))
    status, out = _sync(capsys, "--cache", str(cache))
    assert status == 0, out
    monkeypatch.delenv("CSST_CRDS_MIRROR")
    recorded = json.loads((cache / "config" / "csst" / "contexts.json").read_text())["mirror"]
    assert Path(recorded) == mirror
    status, out = _sync(capsys, "--cache", str(cache), "--references")  # the recorded mirror
    assert status == 0, out
    exposure = {"INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "FAST", "FILTER": "y",
                "DATE-OBS": "2027-01-02", "TIME-OBS": "10:00:00"}
    assert Path(ReferenceProvider(cache=cache).get_reference_file(exposure, "flat")).is_file()


def test_dataset_files_fetch_what_the_datasets_select(demo_run: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    mirror, cache = demo_run / "cache", tmp_path / "cache"
    (exposure,) = (demo_run / "exposure").glob("*_L0.fits")
    status, out = _sync(capsys, "--cache", str(cache), "--source", str(mirror),
                        "--dataset-files", str(exposure))
    assert status == 0, out
    fetched = _names(cache / "references")
    assert set(_provenance(demo_run).values()) <= fetched  # every reference the demo run used
    assert len(fetched) < len(_names(mirror / "references"))  # and not everything


def _provenance(demo_run: Path) -> dict[str, str]:
    from astropy.io import fits

    (output,) = (demo_run / "output").glob("*_L1.fits")
    header = fits.getheader(output)
    return {k: header[k] for k in header if k.startswith("R_")}


def test_purges_keep_the_closure_of_the_kept_contexts(demo: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    cache = demo / "cache"
    operational = json.loads((cache / "config" / "csst" / "contexts.json").read_text())[
        "operational"]
    before_mappings, before_refs = _names(cache / "mappings"), _names(cache / "references")
    status, out = _sync(capsys, "--cache", str(cache), "--source", str(cache), "--contexts",
                        operational, "--purge-mappings", "--purge-references", "--dry-run")
    assert status == 0
    doomed = {line.split()[-1] for line in out.splitlines() if line.startswith("would purge c")}
    assert doomed and _names(cache / "mappings") == before_mappings
    status, out = _sync(capsys, "--cache", str(cache), "--source", str(cache), "--contexts",
                        operational, "--purge-mappings", "--purge-references")
    assert status == 0, out
    left = _names(cache / "mappings") | _names(cache / "references")
    assert left == (before_mappings | before_refs) - doomed
    assert "csst_0001.pmap" in doomed and operational not in doomed
    provider = ReferenceProvider(cache=cache)  # the operational context still works whole
    for value in _provenance(demo).values():
        assert value in left
    assert provider.context == operational
    assert main(["sync", "--verify", "--cache", str(cache)]) == 0  # manifest entries dropped


def test_lock_and_sync_lock(demo_run: Path, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(demo_run / "cache", mirror)
    lock = tmp_path / "lock.json"
    assert main(["lock", "csst-operational", "--cache", str(mirror), "-o", str(lock)]) == 0
    locked = json.loads(lock.read_text())
    refs = {n for n, e in locked["files"].items() if e["kind"] == "reference"}
    assert set(_provenance(demo_run).values()) <= refs
    assert locked["context"] == json.loads(
        (mirror / "config" / "csst" / "contexts.json").read_text())["operational"]
    cache = tmp_path / "cache"
    status, out = _sync(capsys, "--cache", str(cache), "--source", str(mirror), "--lock",
                        str(lock))
    assert status == 0, out
    assert _names(cache / "mappings") | _names(cache / "references") == set(locked["files"])
    # the mirror replaces one locked reference (same size) and records the change
    victim = sorted(refs)[0]
    (path,) = (mirror / "references").rglob(victim)
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    assert main(["checksum", "--update", victim, "--cache", str(mirror)]) == 0
    other = tmp_path / "other"
    status, out = _sync(capsys, "--cache", str(other), "--source", str(mirror), "--lock",
                        str(lock))
    assert status == 1
    assert f"FAILED {victim}: against lock.json: sha256" in out
