"""The intent journal that makes a rule update (delivery, new context) atomic as a whole.

Under the rules lock, an update first writes ``config/<obs>/journal.json``, then, before each
step that changes the cache, records in it what that step will do: each new file (its path and
SHA-256), the manifest entries it will add, the context it will publish. The update's commit
point is publishing ``contexts.json`` (or, for an unpublished context, writing the manifest);
after it, the journal is removed. A process killed at any moment leaves the journal behind, and
the next writer to take the rules lock (:func:`recover`) either finishes the update (it was
committed: nothing left to do but forget the journal) or rolls it back (every recorded file that
still has the recorded content is removed, and so are the recorded manifest entries). Readers
never write: until then they see the last published context, whose files are all in place.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from csst_crds_plugin.cache.config import load_config
from csst_crds_plugin.cache.killpoint import kill_point
from csst_crds_plugin.cache.layout import CacheLayout
from csst_crds_plugin.cache.manifest import Digest, digest_file, read_manifest, update_manifest
from csst_crds_plugin.errors import CacheError

__all__ = [
    "JOURNAL_NAME",
    "Journal",
    "note_created",
    "note_manifest",
    "note_publish",
    "recover",
    "transaction",
]

JOURNAL_NAME = "journal.json"
log = logging.getLogger(__name__)
_ACTIVE: contextvars.ContextVar[Journal | None] = contextvars.ContextVar("journal", default=None)


class Journal:
    """The intent record of one update in progress; every change is saved before it is made."""

    def __init__(self, layout: CacheLayout, operation: str, base: str | None) -> None:
        self.layout = layout
        self.path = layout.config_dir / JOURNAL_NAME
        self._created: list[dict[str, object]] = []
        self.record: dict[str, object] = {
            "operation": operation, "base": base, "pid": os.getpid(),
            "host": os.uname().nodename, "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "created": self._created, "manifest": {}, "publish": None,
        }

    def save(self) -> None:
        """Write the record atomically (fsync'd before the step it announces)."""
        text = json.dumps(self.record, indent=1, sort_keys=True) + "\n"
        self.layout.write_bytes(self.path, text.encode("utf-8"))

    def created(self, path: Path, digest: Digest) -> None:
        """`path` is about to get its final name, with content `digest`."""
        relpath = str(path.relative_to(self.layout.root))
        self._created.append(
            {"path": relpath, "sha256": digest.sha256, "size": digest.size})
        self.save()

    def manifest(self, digests: Mapping[str, Digest]) -> None:
        """Record the manifest entries about to be added."""
        self.record["manifest"] = {name: d.as_json() for name, d in digests.items()}
        self.save()

    def publish(self, context: str, published: bool) -> None:
        """`context` is the update's result; `published`: the commit is contexts.json."""
        self.record["publish"] = {"context": context, "latest": published}
        self.save()

    def forget(self) -> None:
        """Remove the journal: the update landed or was rolled back."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def note_created(path: Path, digest: Digest) -> None:
    """Record a file about to get its final name in the active journal (if any)."""
    journal = _ACTIVE.get()
    if journal is not None:
        journal.created(path, digest)


def note_manifest(digests: Mapping[str, Digest]) -> None:
    """Record the manifest entries about to be added in the active journal (if any)."""
    journal = _ACTIVE.get()
    if journal is not None:
        journal.manifest(digests)


def note_publish(context: str, published: bool) -> None:
    """Record the context about to be committed in the active journal (if any)."""
    journal = _ACTIVE.get()
    if journal is not None:
        journal.publish(context, published)


@contextlib.contextmanager
def transaction(layout: CacheLayout, operation: str, base: str | None) -> Iterator[Journal]:
    """Journal the update made in the ``with`` block (the caller holds the rules lock).

    On success the journal is forgotten; on an exception the update is rolled back from it.
    """
    journal = Journal(layout, operation, base)
    journal.save()
    kill_point("journal-written")
    token = _ACTIVE.set(journal)
    try:
        yield journal
    except BaseException:
        _ACTIVE.reset(token)
        _roll_back(layout, journal.record)
        journal.forget()
        raise
    _ACTIVE.reset(token)
    journal.forget()


def _digests(record: Mapping[str, object]) -> dict[str, Digest]:
    raw: Any = record.get("manifest") or {}  # as Journal wrote it (JSON read back)
    return {str(name): Digest(str(e["sha256"]), int(e["size"])) for name, e in raw.items()}


def _created(record: Mapping[str, object]) -> list[tuple[str, Digest]]:
    created: Any = record.get("created") or []  # as Journal wrote it (JSON read back)
    return [(str(e["path"]), Digest(str(e["sha256"]), int(e["size"]))) for e in created]


def _checked(record: object) -> dict[str, Any]:
    """Return the journal `record` if it is an object whose entries read; else raise."""
    if not isinstance(record, dict):
        raise TypeError("not an object")
    _digests(record)
    _created(record)
    return record


def _landed(layout: CacheLayout, record: Mapping[str, object]) -> bool:
    publish = record.get("publish")
    if not isinstance(publish, dict):
        return False
    if publish.get("latest"):
        return load_config(layout).latest_context == publish.get("context")
    manifest = read_manifest(layout)
    return all(manifest.get(name) == digest for name, digest in _digests(record).items())


def _roll_back(layout: CacheLayout, record: Mapping[str, object]) -> None:
    """Undo an update: its manifest entries, then every file it created (if still its own)."""
    digests = _digests(record)
    manifest = read_manifest(layout)
    ours = [name for name, digest in digests.items() if manifest.get(name) == digest]
    update_manifest(layout, {}, removals=ours)
    for relpath, digest in reversed(_created(record)):
        path = layout.root / relpath
        with contextlib.suppress(FileNotFoundError):
            layout.inside(path.parent)
            if path.is_file() and not path.is_symlink() and digest_file(path) == digest:
                path.unlink()


def recover(layout: CacheLayout) -> str | None:
    """Finish or roll back an update a killed process left (call under the rules lock).

    Returns what was done, or None when there was no journal.
    """
    path = layout.config_dir / JOURNAL_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        record = _checked(json.loads(data.decode("utf-8")))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CacheError(f"{path}: an unreadable journal of an interrupted update ({exc}); "
                         "inspect it, then remove it and run `csst-crds sync --verify`") from exc
    what = (f"the {record.get('operation', 'update')} started by pid {record.get('pid')} on "
            f"{record.get('host')} at {record.get('started')}")
    if _landed(layout, record):
        done = f"{what} had landed ({(record.get('publish') or {}).get('context')})"
    else:
        _roll_back(layout, record)
        done = f"{what} was interrupted and has been rolled back"
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    log.warning("%s: %s", path, done)
    return done
