"""What the console's pages show, read from a cache: contexts, rules, references, diffs.

Shared by the server (``csst-crds serve``) and the static site (``csst-crds site``). Every name
that comes from a request is checked (:func:`check_name`) and looked up in the cache; nothing
here writes.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csst_crds_plugin.cache.config import CacheConfig, load_config
from csst_crds_plugin.cache.layout import CacheLayout, check_name
from csst_crds_plugin.cache.manifest import digest_file, read_manifest
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY
from csst_crds_plugin.results import terminal_files
from csst_crds_plugin.rules import DictNode, parse_mapping
from csst_crds_plugin.rules.ir import MAPPING_EXTENSIONS
from csst_crds_plugin.tools.diffing.rules import walk_terminals

__all__ = ["CacheView", "ContextInfo", "NotFoundError", "RuleRow"]

_HEADER_LIMIT = 400


class NotFoundError(CsstCrdsError, LookupError):
    """A page names a file the cache does not have."""


@dataclass(frozen=True, slots=True)
class ContextInfo:
    """One cached pmap."""

    name: str
    derived_from: str
    description: str
    activated: str = ""
    marks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleRow:
    """One rule path of an rmap: its match values and dates, then what it selects."""

    values: tuple[str, ...]
    files: tuple[str, ...]
    terminal: str


@dataclass
class _Memo:
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)
    dependants: dict[str, list[str]] | None = None


class CacheView:
    """Read-only views of one cache for the console pages."""

    def __init__(self, root: str | Path, observatory: str = DEFAULT_OBSERVATORY) -> None:
        self.layout = CacheLayout(root, observatory, readonly=True)
        self._memo = _Memo()

    # -- contexts -------------------------------------------------------------------------------
    @property
    def config(self) -> CacheConfig:
        """The cache's configuration, read now."""
        return load_config(self.layout)

    def mapping_names(self, extension: str = "") -> list[str]:
        """Return the cached mapping names (of one extension), sorted."""
        folder = self.layout.mappings_dir
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir()
                      if p.name.endswith(extension or MAPPING_EXTENSIONS)
                      and not p.name.startswith("."))

    def mapping(self, name: str) -> Any:
        """Return the parsed mapping `name` (NotFoundError if not cached)."""
        name = check_name(name, "mapping")
        if not name.endswith(MAPPING_EXTENSIONS) or not self.layout.has_mapping(name):
            raise NotFoundError(f"{name}: no such mapping in {self.layout.mappings_dir}")
        path = self.layout.mapping_path(name)
        return parse_mapping(path.read_text(encoding="utf-8"), str(path))

    def contexts(self) -> list[ContextInfo]:
        """Every cached pmap, newest first, with its description and marks."""
        config = self.config
        activated = {e.context: e.activated.isoformat(sep=" ") for e in config.history}
        found = []
        for name in reversed(self.mapping_names(".pmap")):
            header: dict[str, Any] = {}
            with contextlib.suppress(CsstCrdsError, OSError):
                header = self.mapping(name).header_dict()
            marks = tuple(m for m, n in (("operational", config.operational),
                                         ("latest", config.latest_context)) if n == name)
            found.append(ContextInfo(name, str(header.get("derived_from", "")),
                                     str(header.get("description", "")),
                                     activated.get(name, ""), marks))
        return found

    def entries(self, name: str) -> list[tuple[str, str]]:
        """Return a pmap's or imap's entries (key, mapping name or N/A/OMIT)."""
        selector = self.mapping(name).selector
        if not isinstance(selector, DictNode):
            raise NotFoundError(f"{name}: not a context or instrument mapping")
        return [(str(k), str(v)) for k, v in selector.entries]

    def context_tree(self, pmap: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
        """``[(instrument, imap, [(reftype, rmap or N/A/OMIT)])]`` of a context."""
        if not pmap.endswith(".pmap"):
            raise NotFoundError(f"{pmap}: not a context (.pmap)")
        tree = []
        for instrument, imap in self.entries(pmap):
            types = self.entries(imap) if imap.endswith(".imap") else []
            tree.append((instrument, imap, sorted(types)))
        return tree

    # -- rules ----------------------------------------------------------------------------------
    def rules(self, rmap: str) -> tuple[dict[str, Any], list[str], list[RuleRow]]:
        """Return an rmap's header, its column names (parkeys, then dates) and its rule rows."""
        if not rmap.endswith(".rmap"):
            raise NotFoundError(f"{rmap}: not a reference mapping (.rmap)")
        ir = self.mapping(rmap)
        header = ir.header_dict()
        parkey = header.get("parkey", ())
        levels = [tuple(str(p) for p in level) if isinstance(level, tuple) else (str(level),)
                  for level in parkey]
        columns = [name for level in levels for name in level]
        rows = []
        for path, _classes, terminal in walk_terminals(ir.selector):
            values: list[str] = []
            for index, key in enumerate(path):
                names = levels[index] if index < len(levels) else ("?",)
                parts = key if isinstance(key, tuple) else (key,)
                if len(parts) == len(names):
                    values.extend(str(p) for p in parts)
                elif len(names) == 2 and isinstance(key, str) and len(key.split()) == 2:
                    values.extend(key.split())
                else:
                    values.append(str(key))
            files = tuple(terminal_files(terminal)) if not isinstance(terminal, str) else (
                (terminal,) if terminal not in ("N/A", "OMIT") else ())
            rows.append(RuleRow(tuple(values), files, str(terminal)))
        return header, columns, rows

    # -- references -----------------------------------------------------------------------------
    def reference_path(self, name: str) -> Path:
        """Return the cached file of reference `name` (NotFoundError if absent)."""
        name = check_name(name, "reference")
        found = None if name.endswith(MAPPING_EXTENSIONS) else self.layout.find_reference(name)
        if found is None:
            raise NotFoundError(f"{name}: no such reference in {self.layout.references_dir}")
        return found

    def reference_names(self) -> list[str]:
        """Every cached reference name, sorted."""
        root = self.layout.references_dir
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.rglob("*")
                      if p.is_file() and not p.name.startswith("."))

    def header(self, name: str) -> dict[str, Any]:
        """Return a cached reference's header keywords (upper case), read once."""
        if name not in self._memo.headers:
            from csst_crds_plugin.tools.delivery.submission import read_header

            try:
                self._memo.headers[name] = read_header(self.reference_path(name))
            except CsstCrdsError as exc:
                self._memo.headers[name] = {"(unreadable)": str(exc).splitlines()[0]}
        return self._memo.headers[name]

    def dependencies(self, name: str) -> list[tuple[str, str, bool]]:
        """``(keyword, named file, cached?)`` for each ``R_*`` keyword naming a file."""
        found = []
        for keyword, value in sorted(self.header(name).items()):
            text = str(value).strip()
            if keyword.startswith("R_") and text and text.upper() != "N/A":
                cached = False
                with contextlib.suppress(CsstCrdsError, OSError):
                    cached = self.reference_path(Path(text).name) is not None
                found.append((keyword, text, cached))
        return found

    def dependants(self, name: str) -> list[str]:
        """Return the cached references whose ``R_*`` keywords name `name`."""
        if self._memo.dependants is None:
            index: dict[str, list[str]] = {}
            for other in self.reference_names():
                for _keyword, target, _cached in self.dependencies(other):
                    index.setdefault(Path(target).name, []).append(other)
            self._memo.dependants = index
        return sorted(self._memo.dependants.get(name, []))

    def reference(self, name: str, *, with_certify: bool = True) -> dict[str, Any]:
        """Everything the reference page shows."""
        from csst_crds_plugin.tools.matches import matches
        from csst_crds_plugin.tools.uses import uses

        path = self.reference_path(name)
        recorded = read_manifest(self.layout).get(name)
        digest = recorded or digest_file(path)
        header = self.header(name)
        page: dict[str, Any] = {
            "name": name, "size": path.stat().st_size, "sha256": digest.sha256,
            "recorded": recorded is not None,
            "header": list(header.items())[:_HEADER_LIMIT],
            "bad": name in self.config.bad_files,
            "dependencies": self.dependencies(name), "dependants": self.dependants(name),
        }
        used = uses(name, cache=self.layout.root, observatory=self.layout.observatory)
        page["contexts"] = used.contexts
        page["mappings"] = used.mappings
        latest = self.config.latest_context
        page["rules"] = []
        if latest:
            with contextlib.suppress(CsstCrdsError):
                page["rules"] = [(m.rmap, m.assignments()) for m in matches(
                    name, cache=self.layout.root, context=latest,
                    observatory=self.layout.observatory).matches]
        page["certify"] = self.certify(path) if with_certify else None
        return page

    def certify(self, path: Path) -> dict[str, list[str]]:
        """Certify's errors and warnings for one cached reference (constraints only)."""
        from csst_crds_plugin.tools.certify import certify_files

        report = certify_files([path], observatory=self.layout.observatory)
        return {"errors": list(report.errors), "warnings": list(report.warnings)}

    # -- search ---------------------------------------------------------------------------------
    def search(self, text: str, limit: int = 200) -> list[tuple[str, str]]:
        """``(kind, name)`` of mappings and references whose name contains `text`."""
        needle = text.strip().lower()
        if not needle:
            return []
        hits = [("mapping", n) for n in self.mapping_names() if needle in n.lower()]
        hits += [("reference", n) for n in self.reference_names() if needle in n.lower()]
        return hits[:limit]
