"""Mapping files for rule updates: verified reading, canonical rewriting, new serial names."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path

from csst_crds_plugin.cache.layout import CacheLayout
from csst_crds_plugin.errors import ChecksumError
from csst_crds_plugin.rules import (
    DictNode,
    MappingIR,
    SelectorNode,
    compute_sha1sum,
    format_mapping,
    parse_mapping,
    sha1sum_problem,
)
from csst_crds_plugin.rules.ir import Value
from csst_crds_plugin.tools.delivery.uniqname import (
    existing_names,
    next_serial,
    split_serial,
    write_new_file,
)

__all__ = [
    "parse_verified",
    "read_cached",
    "remove_mappings",
    "render_new_version",
    "series_of",
    "write_mapping",
]


def parse_verified(text: str, path: str) -> MappingIR:
    """Parse mapping text and check its ``sha1sum``: a new version must not bless an edit."""
    ir = parse_mapping(text, path)
    problem = sha1sum_problem(ir.header_dict(), compute_sha1sum(text), path)
    if problem is not None:
        raise ChecksumError(f"{path}: {problem}, before deriving a new version")
    return ir


def read_cached(layout: CacheLayout, name: str) -> MappingIR:
    """Return a cached mapping's verified intermediate form."""
    path, text, _stat = layout.read_mapping(name)
    return parse_verified(text, path)


def series_of(name: str) -> tuple[str, int, str]:
    """(stem, serial, extension) of a mapping name; a name without serial is serial 0."""
    parts = split_serial(name)
    if parts is not None:
        return parts
    path = Path(name)
    return path.stem, 0, path.suffix


def render_new_version(ir: MappingIR, name: str, derived_from: str,
                       selector: SelectorNode | DictNode | None = None,
                       drop: tuple[str, ...] = (),
                       header: Mapping[str, Value] | None = None) -> str:
    """Canonical text of `ir` renamed `name`, derived from `derived_from`, with a new sha1sum.

    `header` sets header fields (any names, ``selector`` and ``drop`` too); `drop` removes
    fields.
    """
    updates: dict[str, Value] = {"name": name, "derived_from": derived_from, **(header or {})}
    entries = [(k, updates.pop(k) if k in updates else v) for k, v in ir.header.entries
               if k != "sha1sum" and k not in drop]
    entries.extend(updates.items())
    new = MappingIR(ir.source, DictNode(tuple(entries)),
                    ir.selector if selector is None else selector, ir.comment)
    return format_mapping(new)


def write_mapping(layout: CacheLayout, after: str, render: Callable[[str], str]) -> str:
    """Write a new version of mapping series `after` with the next free serial; return its name."""
    layout.require_writable(f"a new version of {after} in {layout.mappings_dir}")
    stem, serial, ext = series_of(after)
    start = max(serial, next_serial(existing_names(layout.mappings_dir), stem, ext) - 1) + 1
    return write_new_file(layout.mappings_dir, stem, ext, start,
                          lambda name: render(name).encode("utf-8"))


def remove_mappings(layout: CacheLayout, names: list[str]) -> None:
    """Remove mappings a failed update wrote, top-down (the pmap first)."""
    for name in reversed(names):
        with contextlib.suppress(FileNotFoundError):
            layout.mapping_path(name).unlink()
