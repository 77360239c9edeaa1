"""``csst-crds uses``: which cached mappings name a file, and which contexts include it.

Every cached pmap and imap is read (they are small); an rmap is parsed only when its text
contains the file name. The links found (pmap → imap → rmap → reference) are followed upwards,
so a reference is reported with the rmaps that name it and every pmap whose closure includes
it; an rmap or imap likewise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csst_crds_plugin.cache import TEMP_PREFIX, CacheLayout, check_name
from csst_crds_plugin.errors import CacheError, CsstCrdsError
from csst_crds_plugin.rules import DictNode, MappingIR, parse_mapping
from csst_crds_plugin.rules.ir import MAPPING_EXTENSIONS
from csst_crds_plugin.settings import get_settings
from csst_crds_plugin.tools.diffing.report import observatory_for
from csst_crds_plugin.tools.diffing.rules import terminal_names, walk_terminals

__all__ = ["UsesReport", "named_files", "uses"]



@dataclass
class UsesReport:
    """Who uses `file`: the mappings naming it, every mapping above them, the contexts."""

    file: str
    cache: str
    mappings: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    @property
    def used(self) -> bool:
        """True when some mapping names the file."""
        return bool(self.mappings)

    def lines(self) -> list[str]:
        """Return ``mapping NAME`` (direct), ``via NAME`` (above them), ``context NAME.pmap``."""
        direct = set(self.mappings)
        contexts = set(self.contexts)
        return ([f"mapping {name}" for name in self.mappings]
                + [f"via {name}" for name in self.users if name not in direct | contexts]
                + [f"context {name}" for name in self.contexts]
                + [f"unreadable {item}" for item in self.unreadable])

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {"file": self.file, "cache": self.cache, "used": self.used,
                "mappings": self.mappings, "users": self.users, "contexts": self.contexts,
                "unreadable": self.unreadable}


def named_files(ir: MappingIR) -> set[str]:
    """List the files a mapping names: sub-mappings of a pmap or imap, references of an rmap."""
    if isinstance(ir.selector, DictNode):
        values = ir.selector.as_dict().values()
        return {name for value in values for name in terminal_names(value)}
    return {name for _path, _classes, terminal in walk_terminals(ir.selector)
            for name in terminal_names(terminal)}


def _mapping_files(layout: CacheLayout) -> list[Path]:
    try:
        entries = sorted(os.scandir(layout.mappings_dir), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    return [Path(e.path) for e in entries if e.name.endswith(MAPPING_EXTENSIONS)
            and not e.name.startswith((".", TEMP_PREFIX)) and e.is_file()]


def uses(file: str | Path, *, cache: str | Path | None = None,
         observatory: str | None = None) -> UsesReport:
    """Find the cached mappings and contexts that use `file` (a reference or a mapping)."""
    name = check_name(Path(file).name, "file")
    observatory = observatory or observatory_for(name, cache)
    settings = get_settings()
    layout = CacheLayout(cache if cache is not None else settings.cache_root, observatory,
                         readonly=settings.readonly)
    if not layout.mappings_dir.is_dir():
        raise CacheError(f"no mappings folder {layout.mappings_dir}; give the cache with "
                             "--cache DIR (or CSST_CRDS_PATH)")
    report = UsesReport(name, str(layout.root))
    parents: dict[str, set[str]] = {}
    for path in _mapping_files(layout):
        try:
            text = path.read_bytes().decode("utf-8")
            if path.suffix == ".rmap" and name not in text:
                continue
            names = named_files(parse_mapping(text, str(path)))
        except (UnicodeDecodeError, CsstCrdsError) as exc:
            report.unreadable.append(f"{path.name}: {str(exc).splitlines()[0]}")
            continue
        for child in names:
            parents.setdefault(child, set()).add(path.name)
    report.mappings = sorted(parents.get(name, ()))
    seen: set[str] = set()
    todo = list(report.mappings)
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(parents.get(current, ()))
    report.users = sorted(seen)
    report.contexts = sorted(n for n in seen if n.endswith(".pmap"))
    return report
