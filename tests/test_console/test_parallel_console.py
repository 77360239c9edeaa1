"""16 submissions at once, 8 through the console and 8 through the CLI: all land, one history."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from csst_crds_plugin.cache import CacheLayout, load_config
from csst_crds_plugin.rules import parse_mapping
from csst_crds_plugin.tools.audit import read_audit

WEB, CLI = 8, 8


def _parent(root: Path, pmap: str) -> str:
    text = (root / "mappings" / "csst" / pmap).read_text(encoding="utf-8")
    return str(parse_mapping(text, pmap).header_dict()["derived_from"])


def _web_submission(url: str, token: str, files: list[Path], results: list[object]) -> None:
    try:
        with httpx.Client(base_url=url, timeout=300) as client:
            preview = client.post("/submit", data={"token": token},
                                  files=[("files", (p.name, p.read_bytes())) for p in files])
            upload = re.search(r'name="upload" value="([^"]+)"', preview.text)
            assert upload, preview.text[-2000:]
            done = client.post("/confirm", data={"upload": upload[1], "token": token})
            assert done.status_code == 200, done.text[-2000:]
            results.append(re.search(r'id="new-context">New context: <a[^>]*>([^<]+)<',
                                     done.text)[1])
    except BaseException as exc:  # noqa: BLE001 (reported by the test)
        results.append(exc)


def test_sixteen_submissions_through_web_and_cli(demo_copy: Path, console_server, users,
                                                 chain_files) -> None:
    layout = CacheLayout(demo_copy, "csst")
    base = load_config(layout).latest_context
    console = console_server(demo_copy)
    chips = ["02", "04", "05", "07", "09", "10", "11", "12"]
    # each submission a bias + dark chain of one chip, on its own day
    web = [chain_files(chip, f"2027-02-{n + 1:02d}", "w") for n, chip in enumerate(chips)]
    cli = [chain_files(chip, f"2027-03-{n + 1:02d}", "c") for n, chip in enumerate(chips)]
    results: list[object] = []
    threads = [threading.Thread(target=_web_submission,
                                args=(console.url, users["pipeline"], files, results))
               for files in web]
    processes = []
    for thread, files in zip(threads, cli, strict=True):
        thread.start()
        processes.append(subprocess.Popen(  # noqa: S603 (our own CLI, fixed arguments)
            [sys.executable, "-m", "csst_crds_plugin", "deliver", "--cache", str(demo_copy),
             *map(str, files)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [process.communicate(timeout=600) for process in processes]
    for thread in threads:
        thread.join(timeout=600)
    assert [p.returncode for p in processes] == [0] * CLI, [err for _, err in outputs]
    assert len(results) == WEB and all(isinstance(r, str) for r in results), results

    # one linear history: from the latest back to the base, every delivery once
    chain = [load_config(layout).latest_context]
    while chain[-1] != base:
        chain.append(_parent(demo_copy, chain[-1]))
    assert len(chain) == WEB + CLI + 1
    assert set(results) <= set(chain)
    entries = read_audit(layout)
    assert sorted(e.source for e in entries) == ["cli"] * CLI + ["web"] * WEB
    assert {e.context for e in entries} == set(chain[:-1])
