"""The cache layout (RULES.md §9.1): where mappings, references and config live. File access only.

```
<root>/mappings/<obs>/*.pmap *.imap *.rmap
<root>/references/<obs>/[<instrument>/]<files>
<root>/config/<obs>/
```
"""

from __future__ import annotations

import os
from pathlib import Path

from csst_crds_plugin.errors import CacheError, FileNotCachedError

__all__ = ["CacheLayout", "check_name", "observatory_of"]


def observatory_of(name: str) -> str:
    """The observatory of a mapping or reference name: ``jwst_0541.pmap`` → ``jwst``."""
    return Path(name).name.split("_")[0].split(".")[0].lower()


def check_name(name: str, what: str = "file") -> str:
    """Refuse names that could leave their folder (separators, ``..``, absolute paths)."""
    if (
        not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or os.path.isabs(name)
    ):
        raise CacheError(
            f"refusing {what} name {name!r}: names must be plain file names inside the cache "
            "(no folders, '..' or absolute paths)"
        )
    return name


class CacheLayout:
    """Paths of one observatory's part of a cache root."""

    def __init__(self, root: str | os.PathLike[str], observatory: str) -> None:
        self.root = Path(root).expanduser().absolute()
        self.observatory = observatory.lower()

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

    def mapping_path(self, name: str) -> Path:
        """Where mapping `name` lives."""
        return self.mappings_dir / check_name(name, "mapping")

    def read_mapping(self, name: str) -> tuple[str, str, tuple[int, int]]:
        """Return (path, text, (size, mtime_ns)) of a mapping; FileNotCachedError if absent."""
        path = self.mapping_path(name)
        try:
            with path.open("rb") as stream:
                stat = os.fstat(stream.fileno())
                data = stream.read()
        except FileNotFoundError:
            raise FileNotCachedError(
                f"mapping {name} is not in the cache {self.mappings_dir}; fetch it with "
                f"`csst-crds sync --contexts {name}`"
            ) from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CacheError(f"{path}: not UTF-8 text ({exc})") from exc
        return str(path), text, (stat.st_size, stat.st_mtime_ns)

    def has_mapping(self, name: str) -> bool:
        """True if mapping `name` is present."""
        try:
            return self.mapping_path(name).is_file()
        except CacheError:
            return False

    def reference_path(self, name: str, instrument: str | None = None) -> Path:
        """Where reference `name` lives (instrument folder if present, else flat)."""
        check_name(name, "reference")
        candidates = []
        if instrument:
            candidates.append(self.references_dir / instrument.lower() / name)
        candidates.append(self.references_dir / name)
        for candidate in candidates:
            if candidate.exists():
                return candidate
        return candidates[0]
