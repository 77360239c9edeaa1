"""Syncs interrupted (SIGKILL mid-transfer, a full disk) and resumed: every kept file recorded.

The killed process is the real CLI in a subprocess, stopped by the documented testing hook
``CSST_CRDS_TEST_KILL_AT`` at the named step. A full disk is simulated with a file size limit
(RLIMIT_FSIZE, so writes fail with EFBIG), which the cache treats exactly as ENOSPC.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import resource
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.cache import CacheLayout, read_manifest, update_manifest
from csst_crds_plugin.cache.killpoint import KILL_VARIABLE
from csst_crds_plugin.cli.main import main
from csst_crds_plugin.tools.file_checksums import write_manifest
from csst_crds_plugin.tools.sync import sync
from csst_crds_plugin.tools.verify import verify_cache

EXPOSURE = {"INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "FAST", "DATE-OBS": "2027-01-02",
            "TIME-OBS": "10:00:00"}
REFERENCES = [f"csst_msc_bias_000{i}.fits" for i in range(1, 5)] + \
    [f"csst_msc_gain_000{i}.fits" for i in range(1, 3)]
CONTEXTS = {"observatory": "csst", "operational": "csst_0001.pmap"}


@pytest.fixture
def mirror(cache_builder: Any, tiny_texts: dict[str, str], tmp_path: Path) -> Path:
    """A mirror with six 200 kB references and a manifest."""
    root = tmp_path / "mirror"
    refs: dict[str, str | bytes] = {
        f"msc/{name}": (hashlib.sha256(name.encode()).digest() * 6250) for name in REFERENCES}
    cache_builder(mappings=tiny_texts, references=refs, root=root,
                  config={"contexts.json": json.dumps(CONTEXTS)})
    write_manifest(root)
    return root


@pytest.fixture
def served(mirror: Path) -> Iterator[str]:
    """The mirror over HTTP on 127.0.0.1."""
    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(mirror)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _sync_cli(cache: Path, source: str, env: dict[str, str] | None = None,
              preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own CLI, fixed arguments)
        [sys.executable, "-m", "csst_crds_plugin", "sync", "--cache", str(cache), "--source",
         source, "--references", "--jobs", "1"], env={**os.environ, **(env or {})},
        preexec_fn=preexec, capture_output=True, text=True, timeout=120)


def _check_complete(cache: Path, mirror: Path) -> None:
    """The mirror's context loads and selects the mirror's bytes; sync --verify exits 0."""
    assert main(["sync", "--verify", "--cache", str(cache)]) == 0
    assert verify_cache(CacheLayout(cache, "csst")) == []
    recorded = read_manifest(CacheLayout(cache, "csst"))
    expected = read_manifest(CacheLayout(mirror, "csst"))
    assert {n: recorded[n] for n in REFERENCES} == {n: expected[n] for n in REFERENCES}
    provider = ReferenceProvider(cache=cache)  # the operational context, from the synced config
    assert provider.context == "csst_0001.pmap"
    path = Path(provider.get_reference_file(EXPOSURE, "bias"))
    assert path.read_bytes() == (mirror / "references" / "csst" / "msc" / path.name).read_bytes()
    gains = provider.best_references({**EXPOSURE, "EXPTIME": 50.0}, ["gain"])["gain"].value
    assert gains == ("csst_msc_gain_0001.fits", "csst_msc_gain_0002.fits")


def test_a_present_file_missing_from_the_manifest_is_recorded(mirror: Path,
                                                               tmp_path: Path) -> None:
    """What an interrupted sync leaves (files with their final names, not yet recorded) is
    recorded by the next sync, after checking each against the mirror's manifest."""
    cache = tmp_path / "cache"
    assert sync(cache, str(mirror), references=True).ok
    layout = CacheLayout(cache, "csst")
    update_manifest(layout, {}, removals=REFERENCES[:3])
    (layout.references_dir / "msc" / REFERENCES[1]).write_bytes(b"x" * 200_000)  # same size
    report = sync(cache, str(mirror), references=True)
    assert report.ok, report.summary()
    assert report.fetched == [REFERENCES[1]]  # the wrong copy is fetched again
    assert report.present == len(REFERENCES) - 1 + 4  # other references and the 4 mappings
    _check_complete(cache, mirror)


@pytest.mark.slow
@pytest.mark.parametrize("step", ["sync-reference-written:3", "sync-mapping-written:2",
                                  "sync-manifest-written"])
def test_sync_from_a_directory_killed_then_rerun(step: str, mirror: Path,
                                                 tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    done = _sync_cli(cache, str(mirror), {KILL_VARIABLE: step})
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert not (cache / "config" / "csst" / "contexts.json").exists()
    assert main(["sync", "--cache", str(cache), "--source", str(mirror), "--references"]) == 0
    _check_complete(cache, mirror)


@pytest.mark.slow
def test_sync_from_an_http_mirror_killed_mid_transfer_then_rerun(served: str, mirror: Path,
                                                                 tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    done = _sync_cli(cache, served, {KILL_VARIABLE: "sync-reference-written:4"})
    assert done.returncode == -signal.SIGKILL, done.stderr
    kept = [p for p in (cache / "references").rglob("*.fits")]
    assert len(kept) == 4  # four references landed before the kill, none recorded
    assert main(["sync", "--cache", str(cache), "--source", served, "--references"]) == 0
    _check_complete(cache, mirror)


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write over the limit fails: EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.slow
def test_a_sync_stopped_by_a_full_disk_publishes_nothing_and_names_the_file(
        mirror: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    done = _sync_cli(cache, str(mirror), preexec=_file_size_limit(100_000))
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    folder = cache / "references" / "csst" / "msc"
    assert f"{folder / REFERENCES[0]}: File too large while writing it (in {folder})" in output
    layout = CacheLayout(cache, "csst")
    assert not (layout.config_dir / "contexts.json").exists()  # no context without its files
    assert not layout.has_mapping("csst_0001.pmap")
    assert list(cache.rglob(".tmp-*")) == []
    assert main(["sync", "--cache", str(cache), "--source", str(mirror), "--references"]) == 0
    _check_complete(cache, mirror)
