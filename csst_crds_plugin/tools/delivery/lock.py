"""The rules lock: one rule update (delivery, context publication) at a time per cache.

A POSIX ``lockf`` lock on ``config/<obs>/.rules.lock``: the kernel (or the NFS lock manager:
NFSv4, NFSv3 with ``lockd``) releases it when its holder dies, so there are no stale locks to
break. POSIX locks do not exclude threads of one process, so a process-wide thread lock is taken
first. The lock is polled with short random sleeps, so a waiter gives up after `timeout` with an
error naming the file and the holder recorded in it.

Whoever takes the lock first finishes or rolls back an update that a killed holder left
half-done (:func:`csst_crds_plugin.tools.delivery.journal.recover`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import threading
import time
from collections.abc import Iterator

from csst_crds_plugin.cache.layout import CacheLayout
from csst_crds_plugin.errors import CacheError
from csst_crds_plugin.tools.delivery.errors import LockTimeoutError
from csst_crds_plugin.tools.delivery.journal import recover

try:  # POSIX only
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]  # no fcntl: Windows, where locks are in-process

__all__ = ["LOCK_NAME", "rules_lock"]

LOCK_NAME = ".rules.lock"
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()
_BUSY = {errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK}


def _thread_lock(path: str) -> threading.Lock:
    with _GUARD:
        return _THREAD_LOCKS.setdefault(path, threading.Lock())


@contextlib.contextmanager
def rules_lock(layout: CacheLayout, timeout: float = 600.0) -> Iterator[None]:
    """Hold the cache's rules lock for the ``with`` block; LockTimeoutError after `timeout` s."""
    layout.require_writable(str(layout.config_dir / LOCK_NAME))
    layout.config_dir.mkdir(parents=True, exist_ok=True)
    path = layout.config_dir / LOCK_NAME
    deadline = time.monotonic() + timeout
    local = _thread_lock(str(path))
    if not local.acquire(timeout=max(timeout, 0.0)):
        raise LockTimeoutError(f"{path}: another thread of this process held the rules lock "
                               f"for more than {timeout:g} s")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o664)
        try:
            _acquire(fd, path, deadline, timeout)
            try:
                holder = f"pid {os.getpid()} on {os.uname().nodename} since {time.ctime()}\n"
                os.ftruncate(fd, 0)
                os.pwrite(fd, holder.encode(), 0)
                recover(layout)
                yield
            finally:
                if fcntl is not None:
                    fcntl.lockf(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    finally:
        local.release()


def _acquire(fd: int, path: os.PathLike[str], deadline: float, timeout: float) -> None:
    if fcntl is None:  # pragma: no cover
        return  # type: ignore[unreachable]  # on Windows only (no fcntl)
    pause = 0.002
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno == errno.ENOLCK:
                raise CacheError(
                    f"{path}: the file system refuses locks (NFS mounted without lockd or "
                    "'nolock'?); deliveries need a lock to serialise rule updates: mount with "
                    "locking, or deliver on the file server"
                ) from exc
            if exc.errno not in _BUSY:
                raise
        else:
            return
        if time.monotonic() > deadline:
            holder = ""
            with contextlib.suppress(OSError):
                holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
            raise LockTimeoutError(
                f"{path}: the rules lock is held by another delivery ({holder or 'unknown'}) "
                f"for more than {timeout:g} s; wait and retry, or check that process"
            )
        time.sleep(pause * (0.5 + random.random()))  # noqa: S311 (jitter, not security)
        pause = min(pause * 1.5, 0.02)
