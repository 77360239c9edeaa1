"""Render the intermediate form as canonical mapping text (RULES.md §1.4)."""

from __future__ import annotations

from csst_crds_plugin.rules.checksum import compute_sha1sum
from csst_crds_plugin.rules.ir import DictNode, Key, MappingIR, SelectorNode, Value

__all__ = ["format_mapping", "format_value", "sort_key"]

_INDENT = "    "


def sort_key(key: Key) -> tuple[object, ...]:
    """Return a total order over mixed keys (strings, numbers, tuples), strings by their text."""
    if isinstance(key, tuple):
        return (3, tuple(sort_key(item) for item in key))
    if isinstance(key, str):
        return (2, key)
    if key is None:
        return (0, 0)
    return (1, float(key))


def format_value(value: Value, level: int = 0) -> str:
    """Format one value: a literal with ``repr``, dicts and selectors one entry per line."""
    if isinstance(value, SelectorNode):
        return f"{value.name}({_format_entries(value.body, level, sort=True)})"
    if isinstance(value, DictNode):
        return _format_entries(value, level, sort=True)
    if isinstance(value, tuple):
        return "(" + ", ".join(format_value(item, level) for item in value) + (
            ",)" if len(value) == 1 else ")"
        )
    return repr(value)


def _dedupe(node: DictNode) -> list[tuple[Key, Value]]:
    merged: dict[Key, Value] = {}
    for key, value in node.entries:
        merged[key] = value
    return list(merged.items())


def _format_entries(node: DictNode, level: int, sort: bool) -> str:
    entries = _dedupe(node)
    if sort:
        entries.sort(key=lambda item: sort_key(item[0]))
    inner = _INDENT * (level + 1)
    lines = ["{"]
    for key, value in entries:
        lines.append(f"{inner}{format_value(key, level + 1)} : {format_value(value, level + 1)},")
    lines.append(_INDENT * level + "}")
    return "\n".join(lines)


def format_mapping(mapping: MappingIR, *, update_checksum: bool = True) -> str:
    """Return canonical text for `mapping`: sorted keys, ``repr`` values, comments dropped.

    With `update_checksum` the header's ``sha1sum`` is recomputed for the new text.
    """
    header = mapping.header
    if update_checksum:
        entries = tuple((k, v) for k, v in header.entries if k != "sha1sum")
        header = DictNode(entries + (("sha1sum", "0" * 40),))
    parts = [f"header = {_format_entries(header, 0, sort=True)}\n\n"]
    if mapping.comment is not None:
        parts.append(f'comment = """{mapping.comment}"""\n\n')
    parts.append(f"selector = {format_value(mapping.selector, 0)}\n")
    text = "".join(parts)
    if update_checksum:
        placeholder = "'sha1sum' : '" + "0" * 40 + "'"
        text = text.replace(placeholder, f"'sha1sum' : '{compute_sha1sum(text)}'")
    return text
