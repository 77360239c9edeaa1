"""The cache layout (RULES.md §9.1): where files live, safe name resolution, atomic writes.

```
<root>/mappings/<obs>/*.pmap *.imap *.rmap
<root>/references/<obs>/[<instrument>/]<files>     (config/<obs>/ref_cache_subdir_mode)
<root>/config/<obs>/                               contexts.json, manifest.json, server_config, ...
```

Every write goes to a hidden temporary file in the target's folder (``.tmp-<pid>-<host>-<rand>-
<name>``), is flushed to disk, verified by the caller, and renamed over the target with
``os.replace``: a reader opening a name sees either nothing, the old file or the new one, never a
partial file. Only read-modify-write updates of shared config files take a lock
(:meth:`CacheLayout.config_lock`, a POSIX ``lockf`` lock, which NFSv3 with lockd and NFSv4 honour).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from csst_crds_plugin.errors import CacheError, FileNotCachedError, ReadOnlyCacheError

try:  # POSIX only; on other systems config updates are unlocked (documented)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]  # no fcntl: Windows

__all__ = [
    "SUBDIR_MODES",
    "TEMP_PREFIX",
    "CacheLayout",
    "atomic_open",
    "check_name",
    "fsync_dir",
    "instrument_of_name",
    "no_space",
    "observatory_of",
]

TEMP_PREFIX = ".tmp-"
"""Temporary files start with this; they are never looked up, listed or verified."""

SUBDIR_MODES = ("instrument", "flat", "legacy")
"""The values of ``config/<obs>/ref_cache_subdir_mode``."""

_FLAT_THRESHOLD = 20  # CRDS: more than 20 entries in references/<obs> means "flat"
_STALE_SECONDS = 24 * 3600
_THREAD_LOCKS: dict[str, threading.RLock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def observatory_of(name: str) -> str:
    """Return the observatory of a mapping or reference name: ``jwst_0541.pmap`` → ``jwst``."""
    return Path(name).name.split("_")[0].split(".")[0].lower()


def instrument_of_name(name: str) -> str | None:
    """Return the instrument a CRDS-style name carries: ``csst_msc_bias_0001.fits`` → ``msc``."""
    parts = Path(name).name.split(".")[0].split("_")
    return parts[1].lower() if len(parts) > 2 else None


def check_name(name: str, what: str = "file") -> str:
    """Refuse names that could leave their folder (separators, ``..``, absolute paths)."""
    if (
        not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or os.path.isabs(name)  # noqa: PTH117 - a name (str), not yet a path
        or name.startswith(TEMP_PREFIX)
    ):
        raise CacheError(
            f"refusing {what} name {name!r}: names must be plain file names inside the cache "
            "(no folders, '..' or absolute paths); the rules naming it are unsafe or corrupt"
        )
    return name


_LOCATED: dict[tuple[str, str, str, str | None], tuple[str, tuple[int, int]]] = {}
_LOCATED_LIMIT = 1 << 14


class CacheLayout:
    """Paths of one observatory's part of a cache root, with safe resolution and writes.

    Parameters
    ----------
    root : path
        The cache root.
    observatory : str
        The observatory (lower case folder name).
    readonly : bool
        Refuse every write with :class:`ReadOnlyCacheError`.
    """

    def __init__(self, root: str | os.PathLike[str], observatory: str,
                 readonly: bool = False) -> None:
        self.root = Path(root).expanduser().absolute()
        self.observatory = observatory.lower()
        self.readonly = readonly
        self._mode: str | None = None
        if self.root.exists() and not self.root.is_dir():
            raise CacheError(f"the cache path {self.root} is not a folder; point --cache or "
                             "CSST_CRDS_PATH at a cache folder")

    def root_problem(self) -> str | None:
        """Why the cache root cannot be read (missing, or not a folder), or None."""
        if not self.root.exists():
            return (f"the cache folder {self.root} does not exist; point --cache or "
                    "CSST_CRDS_PATH at a cache, or create one with `csst-crds sync --source "
                    "MIRROR`")
        if not self.root.is_dir():
            return (f"the cache path {self.root} is not a folder; point --cache or "
                    "CSST_CRDS_PATH at a cache folder")
        return None

    def require_root(self) -> None:
        """Raise CacheError when the cache root is missing or not a folder."""
        problem = self.root_problem()
        if problem is not None:
            raise CacheError(problem)

    @property
    def mappings_dir(self) -> Path:
        """``<root>/mappings/<obs>``."""
        return self.root / "mappings" / self.observatory

    @property
    def references_dir(self) -> Path:
        """``<root>/references/<obs>``."""
        return self.root / "references" / self.observatory

    @property
    def config_dir(self) -> Path:
        """``<root>/config/<obs>``."""
        return self.root / "config" / self.observatory

    # -- safety --------------------------------------------------------------------------------
    def inside(self, path: Path) -> Path:
        """Return `path` if it resolves (symlinks followed) inside the root, else CacheError."""
        real = Path(os.path.realpath(path))
        root = Path(os.path.realpath(self.root))
        if real != root and root not in real.parents:
            raise CacheError(
                f"refusing {path}: it resolves to {real}, outside the cache root {root} "
                "(a symbolic link leading out of the cache); remove the link or copy the file in"
            )
        return path

    # -- mappings ------------------------------------------------------------------------------
    def mapping_path(self, name: str) -> Path:
        """Where mapping `name` lives."""
        return self.mappings_dir / check_name(name, "mapping")

    def read_mapping(self, name: str) -> tuple[str, str, tuple[int, int]]:
        """Return (path, text, (size, mtime_ns)) of a mapping; FileNotCachedError if absent."""
        path, text, stamp, _data = self.read_mapping_data(name)
        return path, text, stamp

    def read_mapping_data(self, name: str) -> tuple[str, str, tuple[int, int], bytes]:
        """Like :meth:`read_mapping`, with the file's bytes (the text is their UTF-8 decoding)."""
        path = self.inside(self.mapping_path(name))
        try:
            with path.open("rb") as stream:
                stat = os.fstat(stream.fileno())
                data = stream.read()
        except (FileNotFoundError, NotADirectoryError):
            raise FileNotCachedError(
                self.root_problem()
                or f"mapping {name} is not in the cache {self.mappings_dir}; fetch it with "
                f"`csst-crds sync --source MIRROR --contexts {name}`"
            ) from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CacheError(f"{path}: not UTF-8 text ({exc})") from exc
        return str(path), text, (stat.st_size, stat.st_mtime_ns), data

    def has_mapping(self, name: str) -> bool:
        """Return True if mapping `name` is present."""
        try:
            return self.inside(self.mapping_path(name)).is_file()
        except CacheError:
            return False

    # -- references ----------------------------------------------------------------------------
    def subdir_mode(self) -> str:
        """``instrument``, ``flat`` or ``legacy``: from the config file, else detected as CRDS does.

        Without ``config/<obs>/ref_cache_subdir_mode``, a references folder with more than 20
        entries is ``flat``, otherwise ``instrument``. Unlike CRDS, nothing is written.
        """
        if self._mode is None:
            path = self.config_dir / "ref_cache_subdir_mode"
            try:
                mode = path.read_text(encoding="utf-8").strip().lower()
            except FileNotFoundError:
                try:
                    count = sum(1 for _ in os.scandir(self.references_dir))
                except FileNotFoundError:
                    count = 0
                mode = "flat" if count > _FLAT_THRESHOLD else "instrument"
            if mode not in SUBDIR_MODES:
                raise CacheError(f"{path}: {mode!r} is not one of {', '.join(SUBDIR_MODES)}")
            self._mode = mode
        return self._mode

    def reference_target(self, name: str, instrument: str | None = None) -> Path:
        """Where a new copy of reference `name` is written, per the subdir mode."""
        check_name(name, "reference")
        if self.subdir_mode() == "instrument":
            instrument = instrument or instrument_of_name(name)
            if instrument:
                return self.references_dir / check_name(instrument.lower(), "instrument") / name
        return self.references_dir / name

    def reference_candidates(self, name: str, instrument: str | None = None) -> list[Path]:
        """Return the likely places of reference `name`, in search order (RULES.md §9.1)."""
        check_name(name, "reference")
        flat = self.references_dir
        folders: list[Path] = []
        guess = instrument or instrument_of_name(name)
        if guess:
            folders.append(flat / check_name(guess.lower(), "instrument"))
        folders.insert(0 if self.subdir_mode() == "flat" else len(folders), flat)
        return [folder / name for folder in dict.fromkeys(folders)]

    def find_reference(self, name: str, instrument: str | None = None) -> Path | None:
        """Return the existing path of reference `name` inside the root, or None.

        The likely places come first; then every instrument folder, as CRDS's instrument mode.
        A path found before is reused while ``lstat`` shows the same regular file (device and
        inode) there, which a swapped-in symbolic link or a replaced file would change.
        """
        key = (str(self.root), self.observatory, name, instrument)
        known = _LOCATED.get(key)
        if known is not None:
            with contextlib.suppress(OSError):
                status = os.lstat(known[0])
                if stat.S_ISREG(status.st_mode) and \
                        (status.st_dev, status.st_ino) == known[1]:
                    return Path(known[0])
            del _LOCATED[key]
        found = self._search_reference(name, instrument)
        if found is not None:
            with contextlib.suppress(OSError):
                status = os.lstat(found)
                if stat.S_ISREG(status.st_mode):
                    if len(_LOCATED) >= _LOCATED_LIMIT:
                        _LOCATED.clear()
                    _LOCATED[key] = (str(found), (status.st_dev, status.st_ino))
        return found

    def _search_reference(self, name: str, instrument: str | None) -> Path | None:
        candidates = self.reference_candidates(name, instrument)
        for candidate in candidates:
            if candidate.is_symlink() or candidate.is_file():
                self.inside(candidate)
                if candidate.is_file():
                    return candidate
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            for entry in sorted(os.scandir(self.references_dir), key=lambda e: e.name):
                candidate = Path(entry.path) / name
                if entry.name.startswith(".") or candidate in candidates or not entry.is_dir():
                    continue
                if candidate.is_symlink() or candidate.is_file():
                    self.inside(candidate)
                    if candidate.is_file():
                        return candidate
        return None

    def reference_path(self, name: str, instrument: str | None = None) -> Path:
        """Return the existing path of `name`, else where it would be written."""
        return self.find_reference(name, instrument) or self.reference_target(name, instrument)

    def locate_reference(self, name: str, instrument: str | None = None,
                         mirror: str | None = None) -> Path:
        """Return the existing absolute path of reference `name`; FileNotCachedError if absent."""
        found = self.find_reference(name, instrument)
        if found is None:
            raise FileNotCachedError(
                self.root_problem()
                or f"reference {name} is not in the cache {self.references_dir} (missing: {name}); "
                f"fetch it with `csst-crds sync --source {mirror or 'MIRROR'} --files {name}`"
            )
        return found

    # -- writes --------------------------------------------------------------------------------
    def require_writable(self, what: str) -> None:
        """Raise ReadOnlyCacheError if the cache is read-only."""
        if self.readonly:
            raise ReadOnlyCacheError(
                f"the cache {self.root} is read-only (CSST_CRDS_READONLY or CRDS_READONLY_CACHE), "
                f"but {what} would have to be written; use a writable cache or unset the variable"
            )

    @contextlib.contextmanager
    def atomic_writer(self, target: Path) -> Iterator[BinaryIO]:
        """Write `target` through a temporary file renamed into place on success.

        Raise inside the ``with`` block (e.g. on a checksum mismatch) to discard the file.
        """
        self.require_writable(str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        self.inside(target.parent)
        with atomic_open(target) as stream:
            yield stream

    def write_bytes(self, target: Path, data: bytes) -> None:
        """Atomically write `data` to `target`."""
        with self.atomic_writer(target) as stream:
            stream.write(data)

    @contextlib.contextmanager
    def config_lock(self) -> Iterator[None]:
        """Exclusive lock for read-modify-write of this observatory's config files.

        A POSIX lock does not exclude threads of one process, so a process-wide thread lock
        per config folder is taken first (a server writes from several threads).
        """
        self.require_writable(str(self.config_dir / ".lock"))
        self.config_dir.mkdir(parents=True, exist_ok=True)
        with _thread_lock(str(self.config_dir.resolve())):
            fd = os.open(self.config_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o664)
            try:
                if fcntl is not None:
                    fcntl.lockf(fd, fcntl.LOCK_EX)
                yield
            finally:
                if fcntl is not None:
                    fcntl.lockf(fd, fcntl.LOCK_UN)
                os.close(fd)

    def clean_stale_temps(self) -> list[Path]:
        """Remove temporary files left by dead writers (this host) or older than a day."""
        self.require_writable("stale temporary files")
        host = os.uname().nodename
        removed = []
        for folder in (self.mappings_dir, self.references_dir, self.config_dir):
            if not folder.is_dir():
                continue
            for path in folder.rglob(f"{TEMP_PREFIX}*"):
                parts = path.name[len(TEMP_PREFIX):].split("-", 2)
                try:
                    age = time.time() - path.stat().st_mtime
                    pid = int(parts[0])
                except (OSError, ValueError, IndexError):
                    continue
                same_host = len(parts) > 1 and path.name.find(f"-{host}-") > 0
                if (same_host and not _alive(pid)) or age > _STALE_SECONDS:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        removed.append(path)
        return removed


def _thread_lock(key: str) -> threading.RLock:
    """Return the process-wide (re-entrant) thread lock for `key`."""
    with _THREAD_LOCKS_GUARD:
        return _THREAD_LOCKS.setdefault(key, threading.RLock())


_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
"""Out of space, over quota, or over a file size limit (RLIMIT_FSIZE or the file system's)."""


def no_space(exc: OSError, target: Path) -> CacheError | None:
    """Return a CacheError naming `target` and its folder if `exc` means a full disk, else None."""
    if exc.errno not in _NO_SPACE:
        return None
    error = CacheError(f"{target}: {exc.strerror or os.strerror(exc.errno)} while writing it "
                       f"(in {target.parent}); free space (or raise the quota or file size "
                       "limit) there, then run the command again")
    error.errno = exc.errno
    return error


@contextlib.contextmanager
def atomic_open(target: Path) -> Iterator[BinaryIO]:
    """Write `target` via a temporary file in its folder, fsync'd and renamed on success.

    A full disk (ENOSPC, EDQUOT, EFBIG) is a CacheError naming `target`; the temporary file is
    removed.
    """
    temp = target.parent / (
        f"{TEMP_PREFIX}{os.getpid()}-{os.uname().nodename}-{secrets.token_hex(4)}-{target.name}"
    )
    try:
        stream = temp.open("xb")
    except OSError as exc:
        raise (no_space(exc, target) or exc) from exc
    try:
        yield stream
        stream.flush()
        os.fsync(stream.fileno())
        stream.close()
        os.replace(temp, target)  # noqa: PTH105 - temp and target may be str
    except BaseException as exc:
        with contextlib.suppress(OSError):
            stream.close()
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        full = no_space(exc, target) if isinstance(exc, OSError) else None
        if full is not None:
            raise full from exc
        raise
    fsync_dir(target.parent)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fsync_dir(folder: Path) -> None:
    """Flush `folder`'s entries to disk, so a rename into it survives a crash (best effort)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
