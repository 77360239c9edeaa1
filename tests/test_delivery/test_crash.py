"""Deliveries killed (SIGKILL) at each file-system step: the next command recovers the cache.

The killed process is the real CLI in a subprocess, stopped by the documented testing hook
``CSST_CRDS_TEST_KILL_AT`` at the named step, exactly as ``kill -9`` would stop it there.
"""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.cache import CacheLayout, load_config, read_manifest
from csst_crds_plugin.cache.killpoint import KILL_VARIABLE
from csst_crds_plugin.cli.main import main
from csst_crds_plugin.tools.certify import certify_context
from csst_crds_plugin.tools.delivery import deliver
from csst_crds_plugin.tools.delivery.journal import JOURNAL_NAME

pytestmark = pytest.mark.slow

# one delivery of two biases writes: the journal, 2 reference names, rmap, imap, pmap (3
# mapping-written), the manifest, then publishes contexts.json
STEPS = ["journal-written", "reference-named:1", "reference-named:2", "mapping-written:1",
         "mapping-written:2", "mapping-written:3", "manifest-written", "before-publish",
         "published"]
CHIPS = ("06", "08")
PARAMETERS = {"INSTRUME": "MSC", "DETECTOR": "06", "FILTER": "y", "READMODE": "N/A",
              "DATE-OBS": "2027-06-01", "TIME-OBS": "00:00:00"}


def _run_killed(root: Path, files: list[Path], step: str, *extra: str) -> None:
    env = {**os.environ, KILL_VARIABLE: step}
    done = subprocess.run(  # noqa: S603 (our own CLI, fixed arguments)
        [sys.executable, "-m", "csst_crds_plugin", "deliver", "--cache", str(root),
         *extra, *map(str, files)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, (step, done.returncode, done.stderr)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_cache(root: Path, files: list[Path]) -> None:
    """Every context loads, each delivered file is there exactly once and selected, verify ok."""
    layout = CacheLayout(root, "csst")
    assert not (layout.config_dir / JOURNAL_NAME).exists()
    for pmap in sorted(layout.mappings_dir.glob("*.pmap")):
        report = certify_context(root, pmap.name)
        assert report.ok, report.errors
    on_disk = [p for p in layout.references_dir.rglob("*") if p.is_file()
               and not p.name.startswith(".")]
    manifest = read_manifest(layout)
    provider = ReferenceProvider(cache=root, context=load_config(layout).latest_context)
    for path, chip in zip(files, CHIPS, strict=True):
        sha = _sha(path)
        assert [p.name for p in on_disk if _sha(p) == sha] == \
            [n for n, d in manifest.items() if d.sha256 == sha]
        assert len([p for p in on_disk if _sha(p) == sha]) == 1
        selected = provider.get_reference_file(
            {**PARAMETERS, "DETECTOR": chip, "FILTER": {"06": "y", "08": "g"}[chip]}, "bias")
        assert _sha(Path(selected)) == sha
    assert main(["sync", "--verify", "--cache", str(root)]) == 0


@pytest.mark.parametrize("step", STEPS)
def test_killed_delivery_then_rerun(step: str, rules_cache: Path, make_reference: Any,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Must-hold: a re-run completes the delivery, or says it landed and where."""
    deliver(rules_cache, [make_reference("seed.fits", "bias", "13", "2026-01-01T00:00:00")])
    files = [make_reference(f"bias_{chip}.fits", "bias", chip) for chip in CHIPS]
    before = load_config(CacheLayout(rules_cache, "csst"))
    _run_killed(rules_cache, files, step)
    # a reader sees the old consistent state (or the landed one), and never writes
    latest = load_config(CacheLayout(rules_cache, "csst")).latest_context
    assert latest == ("csst_0003.pmap" if step == "published" else before.latest_context)
    if step != "journal-written":  # the reader of a read-only cache leaves the journal alone
        journal = rules_cache / "config" / "csst" / JOURNAL_NAME
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("CSST_CRDS_READONLY", "1")
            seed = ReferenceProvider(cache=rules_cache, context=latest).get_reference_file(
                {**PARAMETERS, "DETECTOR": "13", "FILTER": "NUV"}, "bias")
        assert Path(seed).name == "csst_msc_bias_0001.fits"
        assert journal.exists()
    code = main(["deliver", "--cache", str(rules_cache), *map(str, files)])
    out = capsys.readouterr()
    if step == "published":  # it had landed: the re-run says so, naming the files
        assert code == 1
        assert "csst_msc_bias_0002.fits" in out.err
        assert "delivered before" in out.err
    else:
        assert code == 0, out.err
    assert load_config(CacheLayout(rules_cache, "csst")).latest_context == "csst_0003.pmap"
    _check_cache(rules_cache, files)


@pytest.mark.parametrize("step", ["reference-named:2", "manifest-written", "before-publish"])
def test_the_next_delivery_rolls_a_killed_one_back(step: str, rules_cache: Path,
                                                   make_reference: Any) -> None:
    """Another delivery after the kill removes every trace of the killed one first."""
    files = [make_reference(f"bias_{chip}.fits", "bias", chip) for chip in CHIPS]
    _run_killed(rules_cache, files, step, "--activate")
    other = make_reference("other.fits", "bias", "13")
    result = deliver(rules_cache, [other])
    assert result.context == "csst_0002.pmap"
    assert result.names[str(other)] == "csst_msc_bias_0001.fits"
    layout = CacheLayout(rules_cache, "csst")
    assert sorted(read_manifest(layout)) == sorted(
        ["csst_msc_bias_0001.fits", "csst_msc_bias_0001.rmap", "csst_msc_0002.imap",
         "csst_0002.pmap"] + [n for n in read_manifest(layout) if n.endswith("map")
                              and n not in ("csst_msc_bias_0001.rmap", "csst_msc_0002.imap",
                                            "csst_0002.pmap")])
    assert {_sha(p) for p in layout.references_dir.rglob("*.fits")} == {_sha(other)}
    assert main(["sync", "--verify", "--cache", str(rules_cache)]) == 0


def test_an_activated_delivery_killed_after_publishing_has_landed(
        rules_cache: Path, make_reference: Any, capsys: pytest.CaptureFixture[str]) -> None:
    files = [make_reference(f"bias_{chip}.fits", "bias", chip) for chip in CHIPS]
    _run_killed(rules_cache, files, "published", "--activate")
    config = load_config(CacheLayout(rules_cache, "csst"))
    assert config.operational == config.latest_context == "csst_0002.pmap"
    assert [entry.context for entry in config.history][-1] == "csst_0002.pmap"
    assert main(["deliver", "--cache", str(rules_cache), *map(str, files), "--activate"]) == 1
    assert "delivered before" in capsys.readouterr().err
    _check_cache(rules_cache, files)


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write over the limit fails: EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_delivery_stopped_by_a_full_disk_names_the_file_and_leaves_no_trace(
        rules_cache: Path, make_reference: Any,
        snapshot: Callable[[Path], dict[str, bytes]]) -> None:
    """A full disk while a delivery copies its file: one message, nothing published.

    The disk is simulated by a file size limit (EFBIG, handled as ENOSPC); the message names
    the file and folder.
    """
    big = make_reference("big.fits", "bias", "06")
    with fits.open(big, mode="update") as hdus:
        hdus["SCI"].data = np.full((256, 256), 3.0, dtype=np.float32)  # 256 kB
    before = snapshot(rules_cache)
    done = subprocess.run(  # noqa: S603 (our own CLI, fixed arguments)
        [sys.executable, "-m", "csst_crds_plugin", "deliver", "--cache", str(rules_cache),
         str(big)], preexec_fn=_file_size_limit(100_000), capture_output=True, text=True,
        timeout=120)
    assert done.returncode == 1
    folder = rules_cache / "references" / "csst" / "msc"
    assert "Traceback" not in done.stderr
    assert f"File too large while writing it (in {folder})" in done.stderr
    assert snapshot(rules_cache) == before
    assert list(rules_cache.rglob(".tmp-*")) == []


def test_verify_names_a_pending_journal_and_a_writable_verify_recovers(
        rules_cache: Path, make_reference: Any, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    files = [make_reference(f"bias_{chip}.fits", "bias", chip) for chip in CHIPS]
    _run_killed(rules_cache, files, "reference-named:2")
    monkeypatch.setenv("CSST_CRDS_READONLY", "1")
    assert main(["sync", "--verify", "--cache", str(rules_cache)]) == 1
    assert "an interrupted delivery is pending" in capsys.readouterr().out
    monkeypatch.delenv("CSST_CRDS_READONLY")
    assert main(["sync", "--verify", "--cache", str(rules_cache)]) == 0
    assert list((rules_cache / "references").rglob("*.fits")) == []
    assert not (rules_cache / "config" / "csst" / JOURNAL_NAME).exists()
