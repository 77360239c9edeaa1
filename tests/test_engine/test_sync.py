"""Sync from directory and HTTP mirrors, integrity, repair, interruption, readers vs writers."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.cache import CacheLayout, read_manifest
from csst_crds_plugin.cli.main import main
from csst_crds_plugin.errors import ReadOnlyCacheError
from csst_crds_plugin.tools.file_checksums import rewrite_sha1sums, write_manifest
from csst_crds_plugin.tools.listing import list_contexts, status
from csst_crds_plugin.tools.sync import sync
from csst_crds_plugin.tools.verify import verify_cache

EXPOSURE = {"INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "FAST", "DATE-OBS": "2027-01-02",
            "TIME-OBS": "10:00:00"}
REFERENCES = [f"csst_msc_bias_000{i}.fits" for i in range(1, 5)] + \
    [f"csst_msc_gain_000{i}.fits" for i in range(1, 3)]
CONTEXTS = {"observatory": "csst", "operational": "csst_0001.pmap",
            "history": [{"context": "csst_0001.pmap", "activated": "2026-01-01T00:00:00",
                         "description": "first"}]}


@pytest.fixture
def make_mirror(cache_builder: Any, tiny_texts: dict[str, str],
                tmp_path: Path) -> Callable[[int], Path]:
    """A mirror (same layout as a cache) with references of `size` bytes and a manifest."""

    def build(size: int = 64) -> Path:
        root = tmp_path / "mirror"
        refs: dict[str, str | bytes] = {
            f"msc/{name}": hashlib.sha256(name.encode()).digest() * (size // 32 + 1)
            for name in REFERENCES
        }
        refs = {k: v[:size] for k, v in refs.items()}  # type: ignore[index]
        cache_builder(mappings=tiny_texts, references=refs, root=root,
                      config={"contexts.json": json.dumps(CONTEXTS),
                              "bad_files.txt": "csst_msc_bias_0004.fits\n"})
        write_manifest(root)
        return root

    return build


@pytest.fixture
def http_mirror(make_mirror: Callable[[int], Path]) -> Iterator[Callable[..., str]]:
    """Serve a mirror over HTTP on 127.0.0.1, optionally throttled (seconds per 64 KiB).

    With a `gate`, every response stops after its first 64 KiB until the gate is set.
    """
    servers = []

    def serve(size: int = 64, delay: float = 0.0, gate: threading.Event | None = None) -> str:
        root = make_mirror(size)

        class Handler(http.server.SimpleHTTPRequestHandler):
            def copyfile(self, source: Any, outputfile: Any) -> None:
                while chunk := source.read(1 << 16):
                    outputfile.write(chunk)
                    outputfile.flush()
                    if gate is not None:
                        gate.wait(timeout=120)
                    time.sleep(delay)

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def _assert_complete(cache: Path, mirror_manifest: dict[str, Any]) -> None:
    assert verify_cache(CacheLayout(cache, "csst")) == []
    layout = CacheLayout(cache, "csst")
    for name in REFERENCES:
        path = layout.find_reference(name)
        assert path is not None and path.parent.name == "msc"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == mirror_manifest[name].sha256


def test_sync_from_a_directory_mirror(make_mirror: Callable[[int], Path], tmp_path: Path) -> None:
    mirror = make_mirror(1000)
    cache = tmp_path / "cache_new"
    report = sync(cache, str(mirror), references=True)
    assert report.ok, report.summary()
    assert report.contexts == ["csst_0001.pmap"]
    assert len(report.fetched) == 10 and report.present == 0
    _assert_complete(cache, read_manifest(CacheLayout(mirror, "csst")))
    provider = ReferenceProvider(cache=cache)  # operational context from the synced config
    assert provider.context == "csst_0001.pmap"
    assert Path(provider.get_reference_file(EXPOSURE, "bias")).read_bytes()[:4]
    assert provider.cache_config.mirror == str(mirror)
    assert "csst_msc_bias_0004.fits" in provider.cache_config.bad_files
    again = sync(cache, str(mirror), references=True)
    assert again.fetched == [] and again.present == 10 and again.ok


def test_sync_mappings_only_then_one_file(make_mirror: Callable[[int], Path],
                                          tmp_path: Path) -> None:
    mirror = make_mirror(100)
    cache = tmp_path / "c"
    assert sync(cache, str(mirror), contexts=["csst-latest"]).ok
    provider = ReferenceProvider(cache=cache)
    with pytest.raises(Exception, match=f"csst-crds sync --source {mirror} --files "
                                        "csst_msc_bias_0002.fits"):
        provider.get_reference_file(EXPOSURE, "bias")
    assert sync(cache, str(mirror), files=["csst_msc_bias_0002.fits"]).ok
    assert ReferenceProvider(cache=cache).get_reference_file(EXPOSURE, "bias")


def test_sync_from_an_http_mirror(http_mirror: Callable[..., str], tmp_path: Path) -> None:
    url = http_mirror(200_000)
    cache = tmp_path / "c"
    report = sync(cache, url, all_contexts=True, references=True, jobs=4, verify=True)
    assert report.ok, report.summary()
    assert len(report.fetched) == 10 and report.bytes > 6 * 200_000
    _assert_complete(cache, read_manifest(CacheLayout(tmp_path / "mirror", "csst")))
    missing = sync(cache, url, files=["csst_msc_nothing_0001.fits"])
    assert "csst_msc_nothing_0001.fits" in missing.failed


def test_one_changed_byte_and_one_changed_character_are_named(
        make_mirror: Callable[[int], Path], tmp_path: Path) -> None:
    mirror = make_mirror(500)
    cache = tmp_path / "c"
    assert sync(cache, str(mirror), references=True).ok
    ref = cache / "references" / "csst" / "msc" / "csst_msc_bias_0003.fits"
    data = bytearray(ref.read_bytes())
    data[100] ^= 1
    ref.write_bytes(bytes(data))
    rmap = cache / "mappings" / "csst" / "csst_msc_gain_0001.rmap"
    rmap.write_text(rmap.read_text().replace("10.0", "11.0", 1))
    problems = verify_cache(CacheLayout(cache, "csst"))
    assert [p.name for p in problems] == ["csst_msc_bias_0003.fits", "csst_msc_gain_0001.rmap"]
    assert "sha256 mismatch" in problems[0].problem
    assert "sha1sum mismatch" in problems[1].problem
    report = sync(cache, str(mirror), verify=True, repair=True)
    assert report.ok, report.summary()
    # the closure walk already replaces a bad mapping; --repair refetches the bad reference
    assert report.fetched == ["csst_msc_gain_0001.rmap", "csst_msc_bias_0003.fits"]
    assert report.repaired == ["csst_msc_bias_0003.fits"]
    assert verify_cache(CacheLayout(cache, "csst")) == []


def test_a_corrupt_mirror_file_is_refused(make_mirror: Callable[[int], Path],
                                          tmp_path: Path) -> None:
    mirror = make_mirror(300)
    bad = mirror / "references" / "csst" / "msc" / "csst_msc_gain_0002.fits"
    bad.write_bytes(b"X" + bad.read_bytes()[1:])
    imap = mirror / "mappings" / "csst" / "csst_msc_0001.imap"
    original = imap.read_text()
    imap.write_text(original + "# edited\n")
    cache = tmp_path / "c"
    report = sync(cache, str(mirror), references=True)
    assert set(report.failed) == {"csst_msc_0001.imap"}
    assert "mirror copy refused" in report.failed["csst_msc_0001.imap"]
    layout = CacheLayout(cache, "csst")
    assert not layout.has_mapping("csst_msc_0001.imap")
    assert not layout.has_mapping("csst_0001.pmap")  # never a context with a broken closure
    assert not (layout.config_dir / "contexts.json").exists()
    imap.write_text(original)
    report = sync(cache, str(mirror), references=True)
    assert set(report.failed) == {"csst_msc_gain_0002.fits"}
    assert "differ from the mirror manifest" in report.failed["csst_msc_gain_0002.fits"]
    assert layout.find_reference("csst_msc_gain_0002.fits") is None
    # the context's closure lacks that reference: it is not published until it is complete
    assert not layout.has_mapping("csst_0001.pmap")
    assert not (layout.config_dir / "contexts.json").exists()
    assert not report.published and "no new context published" in report.summary()
    leftovers = [p for p in cache.rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []


def test_readonly_cache_refuses_sync_but_verifies(make_mirror: Callable[[int], Path],
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = make_mirror(100)
    cache = tmp_path / "c"
    assert sync(cache, str(mirror), references=True).ok
    monkeypatch.setenv("CSST_CRDS_READONLY", "1")
    with pytest.raises(ReadOnlyCacheError, match="read-only"):
        sync(cache, str(mirror))
    with pytest.raises(ReadOnlyCacheError):
        write_manifest(cache)
    assert sync(cache, None, verify=True).ok


def test_checksum_and_list(make_mirror: Callable[[int], Path], tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    mirror = make_mirror(100)
    cache = tmp_path / "c"
    assert main(["sync", "--cache", str(cache), "--source", str(mirror), "--references",
                 "--jobs", "2"]) == 0
    assert "fetched 10 files" in capsys.readouterr().out
    assert list_contexts(CacheLayout(cache, "csst")) == [
        "csst_0001.pmap  [operational, latest]  activated 2026-01-01T00:00:00  first"]
    assert "references: 6 (600 bytes), 0 not in the manifest" in status(CacheLayout(cache, "csst"))
    for what in ("--contexts", "--mappings", "--references", "--config", "--status"):
        assert main(["list", "--cache", str(cache), what]) == 0
    out = capsys.readouterr().out
    assert "csst_msc_bias_0004.fits  100  BAD" in out and "operational context: csst_0001" in out
    extra = cache / "references" / "csst" / "msc" / "csst_msc_bias_0009.fits"
    extra.write_bytes(b"new")
    assert main(["checksum", "--verify", "--cache", str(cache)]) == 1
    assert "csst_msc_bias_0009.fits: not in the manifest" in capsys.readouterr().out
    assert main(["checksum", "--cache", str(cache)]) == 0
    assert "1 added" in capsys.readouterr().out
    assert main(["checksum", "--verify", "--cache", str(cache)]) == 0
    rmap = cache / "mappings" / "csst" / "csst_msc_bias_0001.rmap"
    rmap.write_text(rmap.read_text().replace("2026-01-01", "2026-01-02"))
    assert rewrite_sha1sums([rmap]) == [str(rmap)]
    assert main(["checksum", "--update", "csst_msc_bias_0001.rmap", "--cache", str(cache)]) == 0
    assert verify_cache(CacheLayout(cache, "csst")) == []


_SYNC = textwrap.dedent("""
    import sys
    from csst_crds_plugin.tools.sync import sync
    report = sync(sys.argv[1], sys.argv[2], references=True, jobs=2)
    sys.exit(0 if report.ok else 1)
""")


def _temp_files(cache: Path) -> list[Path]:
    return [p for p in cache.rglob(".tmp-*")] if cache.exists() else []


def test_sigkill_mid_sync_leaves_no_partial_file_and_resumes(
        http_mirror: Callable[..., str], tmp_path: Path) -> None:
    gate = threading.Event()  # every download stops after its first 64 KiB until set
    url = http_mirror(400_000, gate=gate)
    cache = tmp_path / "c"
    child = subprocess.Popen([sys.executable, "-c", _SYNC, str(cache), url])
    try:
        deadline = time.monotonic() + 60
        while not _temp_files(cache) and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.005)
        assert child.poll() is None, "the sync ended before it could be interrupted"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    finally:
        gate.set()
    mirror_manifest = read_manifest(CacheLayout(tmp_path / "mirror", "csst"))
    layout = CacheLayout(cache, "csst")
    assert _temp_files(cache), "killed while writing: a temporary file remains, hidden"
    for name in REFERENCES:
        path = layout.find_reference(name)
        if path is not None:  # visible files are whole and verified
            assert hashlib.sha256(path.read_bytes()).hexdigest() == mirror_manifest[name].sha256
    report = sync(cache, url, references=True, jobs=4)
    assert report.ok, report.summary()
    assert _temp_files(cache) == []  # the dead writer's temporary files were cleaned
    _assert_complete(cache, mirror_manifest)


_READER = textwrap.dedent("""
    import hashlib, json, sys
    from pathlib import Path
    from csst_crds_plugin import ReferenceProvider
    from csst_crds_plugin.errors import FileNotCachedError
    cache, stop = sys.argv[1], Path(sys.argv[3])
    manifest = json.loads(Path(sys.argv[2]).read_text())
    dates = ["2027-01-01", "2027-01-03", "2026-06-01"]
    counts = {"ok": 0, "not-cached": 0}
    final = False
    while True:
        for date in dates:
            params = {"INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "FAST",
                      "DATE-OBS": date, "TIME-OBS": "00:00:00"}
            try:
                path = ReferenceProvider(cache=cache, context="csst_0001.pmap").get_reference_file(
                    params, "bias")
            except FileNotCachedError:
                counts["not-cached"] += 1
                continue
            data = Path(path).read_bytes()
            name = Path(path).name
            if hashlib.sha256(data).hexdigest() != manifest[name]:
                print(f"BAD {name}: {len(data)} bytes", flush=True)
                sys.exit(1)
            counts["ok"] += 1
        if final:
            break
        final = stop.exists()
    print(json.dumps(counts))
""")


def test_readers_never_see_a_partial_file_while_two_syncs_run(
        http_mirror: Callable[..., str], tmp_path: Path) -> None:
    url = http_mirror(300_000, delay=0.01)
    manifest = read_manifest(CacheLayout(tmp_path / "mirror", "csst"))
    digests = tmp_path / "digests.json"
    digests.write_text(json.dumps({k: v.sha256 for k, v in manifest.items()}))
    cache = tmp_path / "c"
    stop = tmp_path / "stop"
    readers = [subprocess.Popen([sys.executable, "-c", _READER, str(cache), str(digests),
                                 str(stop)], stdout=subprocess.PIPE, text=True)
               for _ in range(8)]
    syncs = [subprocess.Popen([sys.executable, "-c", _SYNC, str(cache), url]) for _ in range(2)]
    assert [s.wait(timeout=120) for s in syncs] == [0, 0]
    stop.write_text("")
    outcomes = [(r.wait(timeout=120), r.communicate()[0]) for r in readers]
    assert all(code == 0 for code, _ in outcomes), outcomes
    totals = [json.loads(out.strip().splitlines()[-1]) for _, out in outcomes]
    assert sum(t["ok"] for t in totals) >= 8 * 3, totals
    _assert_complete(cache, manifest)
