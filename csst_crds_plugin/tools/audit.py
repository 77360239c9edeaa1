"""The audit log of a cache: every change (delivery, activation, bad-file mark) as one line.

``config/<obs>/audit.jsonl`` holds one JSON object per change: ``time`` (UTC), ``user``,
``action``, ``files`` (submitted or marked), ``context`` (the resulting context, if any),
``source`` (``cli`` or ``web``) and ``detail``. Appending rewrites the file through a temporary
file and an atomic rename under the config lock, so a reader never sees a torn line.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csst_crds_plugin.cache.layout import CacheLayout
from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY

__all__ = ["AUDIT_NAME", "AuditEntry", "append_audit", "audit_delivery", "local_user",
           "read_audit"]

AUDIT_NAME = "audit.jsonl"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One change of the cache."""

    time: str
    user: str
    action: str
    files: list[str] = field(default_factory=list)
    context: str | None = None
    source: str = "cli"
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return asdict(self)


def local_user() -> str:
    """Return the operating-system user running a command (``cli`` entries)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def append_audit(layout: CacheLayout, *, user: str, action: str,
                 files: Sequence[str] = (), context: str | None = None, source: str = "cli",
                 detail: str = "") -> AuditEntry:
    """Append one entry to the cache's audit log and return it."""
    entry = AuditEntry(datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), user, action,
                       [str(f) for f in files], context, source, detail)
    path = layout.config_dir / AUDIT_NAME
    line = json.dumps(entry.to_dict(), sort_keys=True) + "\n"
    with layout.config_lock():
        try:
            old = path.read_bytes()
        except FileNotFoundError:
            old = b""
        layout.write_bytes(path, old + line.encode("utf-8"))
    return entry


def read_audit(layout: CacheLayout) -> list[AuditEntry]:
    """Every entry, oldest first; an unreadable line is reported as an entry saying so."""
    path = layout.config_dir / AUDIT_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            entries.append(AuditEntry(**{k: data[k] for k in AuditEntry.__slots__ if k in data}))
        except (ValueError, TypeError, KeyError) as exc:
            entries.append(AuditEntry("?", "?", "unreadable",
                                      detail=f"{path}, line {number}: {exc}"))
    return entries


def audit_delivery(cache: str | Path | None, result: Any, observatory: str = DEFAULT_OBSERVATORY,
                   description: str = "", *, user: str | None = None,
                   source: str = "cli") -> AuditEntry:
    """Record a finished delivery (a ``DeliveryResult``): submitted -> cache names, context."""
    from csst_crds_plugin.settings import get_settings

    layout = CacheLayout(cache if cache is not None else get_settings().cache_root, observatory)
    files = [f"{Path(path).name} -> {name}" for path, name in result.names.items()]
    return append_audit(layout, user=user or local_user(), action="deliver", files=files,
                        context=result.context, source=source,
                        detail=description + (" (activated)" if result.activated else ""))
