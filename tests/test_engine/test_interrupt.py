"""Ctrl-C: a real ``csst-crds`` process interrupted by SIGINT exits 130 with one line and leaves
no partial or temporary file (sync from a loopback HTTP mirror, catalog build)."""

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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from csst_crds_plugin.cache import CacheLayout, read_manifest
from csst_crds_plugin.tools.file_checksums import write_manifest

CLI = [sys.executable, "-c", "import sys; from csst_crds_plugin.cli.main import main; "
                             "sys.exit(main())"]
NAMES = [f"csst_msc_bias_000{i}.fits" for i in range(1, 5)] + \
    [f"csst_msc_gain_000{i}.fits" for i in range(1, 3)]


def _wait_for(condition: Any, child: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.01)
    assert child.poll() is None, "the command ended before it could be interrupted"


@pytest.fixture
def gated_mirror(cache_builder: Any, tiny_texts: dict[str, str],
                 tmp_path: Path) -> Iterator[tuple[str, Path, threading.Event]]:
    """A mirror served on 127.0.0.1 whose responses stall after 64 KiB until the gate opens."""
    root = tmp_path / "mirror"
    refs: dict[str, str | bytes] = {f"msc/{n}": hashlib.sha256(n.encode()).digest() * 10_000
                                    for n in NAMES}
    cache_builder(mappings=tiny_texts, references=refs, root=root, config={
        "contexts.json": json.dumps({"observatory": "csst", "operational": "csst_0001.pmap"})})
    write_manifest(root)
    gate = threading.Event()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def copyfile(self, source: Any, outputfile: Any) -> None:
            while chunk := source.read(1 << 16):
                outputfile.write(chunk)
                outputfile.flush()
                if "/references/" in self.path:
                    gate.wait(timeout=60)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", root, gate
    gate.set()
    server.shutdown()
    server.server_close()


def test_ctrl_c_in_sync_exits_130_with_one_line_and_no_partial_file(
        gated_mirror: tuple[str, Path, threading.Event], tmp_path: Path) -> None:
    url, mirror, gate = gated_mirror
    cache = tmp_path / "cache"
    child = subprocess.Popen([*CLI, "sync", "--cache", str(cache), "--source", url,
                              "--references", "--jobs", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: list(cache.rglob(".tmp-*")), child)  # downloads under way
        child.send_signal(signal.SIGINT)
        time.sleep(0.2)
    finally:
        gate.set()  # the transfers under way may finish; no new one starts
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert err.strip().splitlines() == ["csst-crds sync: interrupted"]
    assert list(cache.rglob(".tmp-*")) == []
    expected = read_manifest(CacheLayout(mirror, "csst"))
    layout = CacheLayout(cache, "csst")
    present = [n for n in NAMES if layout.find_reference(n) is not None]
    assert len(present) < len(NAMES), "interrupted: not every reference was fetched"
    for name in present:  # what is there is whole
        data = layout.find_reference(name).read_bytes()  # type: ignore[union-attr]
        assert hashlib.sha256(data).hexdigest() == expected[name].sha256


_SLOW_READER = textwrap.dedent("""
    import time
    from pathlib import Path

    def read(path):
        Path(path).with_suffix(".seen").touch()
        time.sleep(0.3)
        return {"INSTRUME": "MSC", "DETECTOR": Path(path).stem}
""")


def test_ctrl_c_in_catalog_build_exits_130_and_writes_no_catalogue(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for index in range(40):
        (data / f"{index:02d}.fits").write_bytes(b"")
    (tmp_path / "slow_reader.py").write_text(_SLOW_READER, encoding="utf-8")
    out = tmp_path / "catalog.jsonl"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    child = subprocess.Popen([*CLI, "catalog", "build", str(data), "-o", str(out), "--jobs", "1",
                              "--reader", "slow_reader:read"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: len(list(data.glob("*.seen"))) >= 2, child)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert err.strip().splitlines() == ["csst-crds catalog: interrupted"]
    assert not out.exists() and list(tmp_path.glob(".tmp-*")) == []
