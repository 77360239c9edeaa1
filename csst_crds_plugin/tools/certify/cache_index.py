"""What a cache holds, listed once per certify run: reference and mapping names."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from csst_crds_plugin.cache import TEMP_PREFIX, CacheLayout

__all__ = ["CacheIndex"]


class CacheIndex:
    """Names present in one observatory's part of a cache (flat or per-instrument folders)."""

    def __init__(self, root: str | Path, observatory: str) -> None:
        self.layout = CacheLayout(root, observatory, readonly=True)

    @cached_property
    def references(self) -> dict[str, str]:
        """Reference name → path, from ``references/<obs>`` and its instrument folders."""
        found: dict[str, str] = {}
        top = str(self.layout.references_dir)
        folders = [top]
        while folders:
            folder = folders.pop(0)
            try:
                entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                if entry.name.startswith((".", TEMP_PREFIX)):
                    continue
                if entry.is_dir() and folder == top:
                    folders.append(entry.path)
                elif entry.is_file():
                    found.setdefault(entry.name, entry.path)
        return found

    @cached_property
    def mappings(self) -> set[str]:
        """Mapping names in ``mappings/<obs>``."""
        try:
            return {entry.name for entry in os.scandir(self.layout.mappings_dir)
                    if entry.is_file() and not entry.name.startswith(".")}
        except FileNotFoundError:
            return set()

    def describe(self) -> str:
        """Return the cache root, for messages."""
        return str(self.layout.root)
