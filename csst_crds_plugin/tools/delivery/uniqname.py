"""Unique names with the next free serial, claimed without ever overwriting a file.

References are named ``<obs>_<instrument>_<reftype>_NNNN.<ext>`` and mappings keep their series
(``csst_msc_bias_0007.rmap`` → ``csst_msc_bias_0008.rmap``). A name is claimed by writing the
complete file under a hidden temporary name in the target folder and hard-linking it to the
final name: ``link`` fails if the name exists (atomically, on local file systems and NFS), so two
writers can never take the same name and a reader never sees a partial file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

from csst_crds_plugin.cache.killpoint import kill_point
from csst_crds_plugin.cache.layout import TEMP_PREFIX, CacheLayout, fsync_dir, no_space
from csst_crds_plugin.cache.manifest import Digest, read_manifest
from csst_crds_plugin.errors import CacheError
from csst_crds_plugin.rules.ir import MAPPING_EXTENSIONS
from csst_crds_plugin.tools.delivery.journal import note_created

__all__ = [
    "claim_file",
    "existing_names",
    "format_name",
    "next_serial",
    "reference_names_in_use",
    "reference_stem",
    "split_serial",
    "temp_path",
    "write_new_file",
]

_SERIAL_RE = re.compile(r"^(?P<stem>.+?)_(?P<serial>\d{4,})(?P<ext>(?:\.[A-Za-z0-9]+)+)$")
_PART_RE = re.compile(r"^[a-z][a-z0-9\-]{0,32}$")
_NO_LINK = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK}


def split_serial(name: str) -> tuple[str, int, str] | None:
    """``csst_msc_bias_0012.fits`` → ``('csst_msc_bias', 12, '.fits')``; None without a serial."""
    found = _SERIAL_RE.match(name)
    if found is None:
        return None
    return found["stem"], int(found["serial"]), found["ext"]


def format_name(stem: str, serial: int, ext: str) -> str:
    """``('csst_msc_bias', 12, '.fits')`` → ``csst_msc_bias_0012.fits``."""
    return f"{stem}_{serial:04d}{ext}"


def reference_stem(observatory: str, instrument: str, reftype: str, origin: str) -> str:
    """``<obs>_<instrument>_<reftype>``, lower case; names that cannot be file parts are refused."""
    parts = [str(p).strip().lower() for p in (observatory, instrument, reftype)]
    for label, part in zip(("observatory", "INSTRUME", "REFTYPE"), parts, strict=True):
        if not _PART_RE.match(part) or "_" in part:
            raise CacheError(
                f"{origin}: {label}={part!r} cannot be part of a reference name; it must be a "
                "letter followed by letters, digits or '-' (e.g. INSTRUME='MSC', REFTYPE='BIAS')"
            )
    return "_".join(parts)


def existing_names(*folders: Path) -> set[str]:
    """Names of the visible files in `folders` (absent folders count as empty)."""
    names: set[str] = set()
    for folder in folders:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            names.update(e.name for e in os.scandir(folder) if not e.name.startswith("."))
    return names


def reference_names_in_use(layout: CacheLayout, instrument: str) -> set[str]:
    """Return the reference names taken in a cache: flat and instrument folders, the manifest."""
    folder = layout.references_dir / instrument.lower()
    names = existing_names(layout.references_dir, folder) | set(read_manifest(layout))
    return {name for name in names if not name.endswith(MAPPING_EXTENSIONS)}


def next_serial(names: Iterable[str], stem: str, ext: str | None = None) -> int:
    """One more than the highest serial of `stem` among `names` (any extension unless `ext`)."""
    serials = [0]
    for name in names:
        parts = split_serial(name)
        if parts and parts[0] == stem and (ext is None or parts[2] == ext):
            serials.append(parts[1])
    return max(serials) + 1


def temp_path(folder: Path, label: str) -> Path:
    """Return a fresh hidden temporary path in `folder`, named as the cache's cleanup expects."""
    token = secrets.token_hex(4)
    return folder / f"{TEMP_PREFIX}{os.getpid()}-{os.uname().nodename}-{token}-{label}"


def _link(temp: Path, target: Path) -> bool:
    """Make `target` name the complete file `temp`; False if `target` exists."""
    try:
        os.link(temp, target)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
        # No hard links here (some FUSE or SMB mounts): callers hold the rules lock, which
        # already serialises naming; check, then rename.
        if target.exists():
            return False
        temp.replace(target)
    else:
        temp.unlink()
    fsync_dir(target.parent)
    return True


def claim_file(temp: Path, stem: str, ext: str, start: int,
               digest: Digest | None = None) -> str:
    """Give the complete file `temp` the first free name ``<stem>_NNNN<ext>`` from `start` on.

    With `digest` (the file's), each name is recorded in the active journal before it is taken.
    """
    serial = start
    while True:
        name = format_name(stem, serial, ext)
        if digest is not None:
            note_created(temp.parent / name, digest)
        if _link(temp, temp.parent / name):
            kill_point("reference-named")
            return name
        serial += 1


def write_new_file(folder: Path, stem: str, ext: str, start: int,
                   render: Callable[[str], bytes]) -> str:
    """Write ``render(name)`` under the first free name ``<stem>_NNNN<ext>`` from `start` on.

    The content may depend on the name (a mapping's ``name`` header and ``sha1sum``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    serial = start
    while True:
        name = format_name(stem, serial, ext)
        temp = temp_path(folder, name)
        data = render(name)
        try:
            try:
                with temp.open("xb") as stream:
                    stream.write(data)
                    stream.flush()
                    os.fsync(stream.fileno())
            except OSError as exc:
                raise (no_space(exc, folder / name) or exc) from exc
            note_created(folder / name, Digest(hashlib.sha256(data).hexdigest(), len(data)))
            if _link(temp, folder / name):
                kill_point("mapping-written")
                return name
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
        serial += 1
