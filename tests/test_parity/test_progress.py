"""Progress: labelled phases, counts that never go back, ETA; affected from start to write."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import pytest

from csst_crds_plugin.cli.main import main
from csst_crds_plugin.progress import Progress
from csst_crds_plugin.tools.sync import sync

LINE = re.compile(r"^(?P<label>.+?) \[[#.]+\]\s+\d+% (?P<done>[\d,]+)/(?P<total>[\d,]+) ")


def _counts(text: str) -> dict[str, list[tuple[int, int]]]:
    found: dict[str, list[tuple[int, int]]] = {}
    for line in text.splitlines():
        match = LINE.match(line)
        if match:
            found.setdefault(match["label"], []).append(
                (int(match["done"].replace(",", "")), int(match["total"].replace(",", ""))))
    return found


def test_threads_never_make_a_count_go_back() -> None:
    stream = io.StringIO()
    progress = Progress(stream, enabled=True, interval=0.0)
    phase = progress.phase("work", 0, "items")

    def worker() -> None:
        for _ in range(200):
            phase.grow(1)
            phase.advance(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    progress.close()
    counts = _counts(stream.getvalue())["work"]
    done = [d for d, _ in counts]
    assert done == sorted(done) and done[-1] == 1600
    assert counts[-1] == (1600, 1600)


def test_phases_are_labelled_and_show_an_eta() -> None:
    stream = io.StringIO()
    progress = Progress(stream, enabled=True, interval=0.0)
    first = progress.phase("copy: mappings", 4, "files")
    first.advance(1)
    second = progress.phase("copy: references", 2, "files")
    second.advance(2)
    progress.close()
    text = stream.getvalue()
    assert text.index("copy: mappings") < text.index("copy: references")
    assert re.search(r"copy: mappings \[#+\.+\]\s+25% 1/4 files, 0:\d\d elapsed, ETA ", text)
    assert "copy: references [########################] 100% 2/2 files" in text
    assert text.count("1/4 files") == 1  # drawn once: ending the phase repeats nothing


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_rich_draws_the_bars() -> None:
    stream = _Terminal()
    progress = Progress(stream)
    phase = progress.phase("sync: references", 10, "files")
    phase.advance(4, "1.0 MB")
    progress.close()
    text = stream.getvalue()
    assert "sync: references" in text and "4/10" in text and "ETA" in text
    assert "\x1b[" in text  # drawn in place with terminal controls


def test_sync_phases_and_monotone_counts(demo_run: Path, tmp_path: Path) -> None:
    stream = io.StringIO()
    report = sync(tmp_path / "cache", str(demo_run / "cache"), references=True, jobs=8,
                  progress=Progress(stream, enabled=True, interval=0.0))
    assert report.ok
    counts = _counts(stream.getvalue())
    assert set(counts) == {"sync: mappings", "sync: references"}
    for series in counts.values():
        done = [d for d, _ in series]
        assert done == sorted(done)
    assert counts["sync: references"][-1][0] == counts["sync: references"][-1][1] > 0


def test_affected_progress_runs_from_start_to_the_written_report(
        demo_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    cache = demo_run / "cache"
    history = json.loads((cache / "config" / "csst" / "contexts.json").read_text())["history"]
    catalog = tmp_path / "night.jsonl"
    rows = [{"id": f"d{i}", "INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "FAST",
             "FILTER": "y", "DATE-OBS": f"2027-01-0{1 + i % 3}", "TIME-OBS": "10:00:00"}
            for i in range(30)]
    catalog.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "affected.json"
    assert main(["affected", history[0]["context"], history[-1]["context"], "--cache",
                 str(cache), "--catalog", str(catalog), "-o", str(out), "--jobs", "1",
                 "--progress"]) == 0
    err = capsys.readouterr().err
    first, select, write = (err.index(label) for label in (
        "affected: load rules and catalogue", "affected: select [", f"affected: write {out} ["))
    assert first < select < write
    affected = json.loads(out.read_text())["datasets_affected"]
    assert affected > 0
    assert f"100% {affected}/{affected} datasets" in err[write:]
