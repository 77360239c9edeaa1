"""The audit log keeps every entry when threads of one process append at once.

The console appends from its worker threads.
"""

from __future__ import annotations

import threading
from pathlib import Path

from csst_crds_plugin.cache import CacheLayout
from csst_crds_plugin.tools.audit import append_audit, read_audit


def test_threads_appending_at_once_lose_nothing(tmp_path: Path) -> None:
    layout = CacheLayout(tmp_path / "cache", "csst")
    start = threading.Barrier(8)

    def append(worker: int) -> None:
        start.wait()
        for n in range(25):
            append_audit(layout, user=f"u{worker}", action="deliver", detail=str(n),
                         source="web")

    threads = [threading.Thread(target=append, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = read_audit(layout)
    assert len(entries) == 200
    assert {(e.user, e.detail) for e in entries} == {(f"u{w}", str(n)) for w in range(8)
                                                     for n in range(25)}
