"""CRDS's other refactorings: delete references, set or delete a header field (a new rmap).

As ``crds refactor delete|set_header|del_header``: `delete_references` removes every rule whose
file is one of the names, and every nested selector left selecting no file; `set_header` sets
a header field to a string (the words joined by spaces, as CRDS does); `del_header` removes one.
Each writes the next version of the rmap (beside it, or in `output_dir`), derived from it, with
a new sha1sum; the cache's contexts are not changed (see ``newcontext``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

from csst_crds_plugin.errors import RuleValidationError
from csst_crds_plugin.rules import DictNode, MappingIR, SelectorNode
from csst_crds_plugin.rules.ir import Value
from csst_crds_plugin.tools.certify.tree_checks import terminal_names
from csst_crds_plugin.tools.delivery.mappings import (
    parse_verified,
    render_new_version,
    series_of,
)
from csst_crds_plugin.tools.delivery.uniqname import existing_names, next_serial, write_new_file

__all__ = ["RefactorResult", "del_header", "delete_references", "set_header"]

_PROTECTED = ("name", "derived_from", "sha1sum", "mapping", "observatory")


@dataclass(frozen=True, slots=True)
class RefactorResult:
    """The new rmap, what it derives from, and what changed (one line per change)."""

    rmap: Path
    derived_from: str
    changes: tuple[str, ...]


@overload
def _without(node: SelectorNode, names: frozenset[str], deleted: list[str]) -> SelectorNode: ...
@overload
def _without(node: Value, names: frozenset[str], deleted: list[str]) -> Value: ...
def _without(node: Value, names: frozenset[str], deleted: list[str]) -> Value:
    """`node` without the rules selecting `names`; nested selectors that keep no file go too."""
    if not isinstance(node, SelectorNode):
        return node
    kept = []
    for key, value in node.entries:
        if isinstance(value, str) and value in names:
            deleted.append(value)
            continue
        if isinstance(value, SelectorNode):
            pruned = _without(value, names, deleted)
            if not terminal_names(pruned):
                continue
            value = pruned
        kept.append((key, value))
    return SelectorNode(node.name, DictNode(tuple(kept)), node.offset)


def _write(rmap: Path, ir: MappingIR, output_dir: str | Path | None, changes: list[str],
           selector: SelectorNode | None = None, drop: tuple[str, ...] = (),
           header: Mapping[str, Value] | None = None) -> RefactorResult:
    folder = Path(output_dir) if output_dir is not None else rmap.parent
    stem, serial, ext = series_of(rmap.name)
    start = max(serial + 1, next_serial(existing_names(folder), stem, ext))
    name = write_new_file(folder, stem, ext, start, lambda new: render_new_version(
        ir, new, rmap.name, selector, drop, header).encode("utf-8"))
    return RefactorResult(folder / name, rmap.name, tuple(changes))


def _read(rmap: str | Path) -> tuple[Path, MappingIR]:
    path = Path(rmap)
    if path.suffix != ".rmap":
        raise RuleValidationError(f"{path}: refactoring works on an rmap (.rmap)")
    return path, parse_verified(path.read_text(encoding="utf-8"), str(path))


def delete_references(rmap: str | Path, references: Sequence[str], *,
                      output_dir: str | Path | None = None) -> RefactorResult:
    """Delete every rule selecting one of `references` (file names or paths)."""
    path, ir = _read(rmap)
    names = frozenset(Path(r).name for r in references)
    deleted: list[str] = []
    selector = _without(ir.selector, names, deleted)
    missing = sorted(names - set(deleted))
    if missing:
        raise RuleValidationError(f"{path}: no rule selects {', '.join(missing)}; nothing was "
                                  "written (see `csst-crds matches NAME`)")
    changes = [f"deleted {deleted.count(n)} rule(s) selecting {n}" for n in sorted(names)]
    return _write(path, ir, output_dir, changes, selector)  # type: ignore[arg-type]  # an rmap


def set_header(rmap: str | Path, key: str, words: Sequence[str], *,
               output_dir: str | Path | None = None) -> RefactorResult:
    """Set header field `key` to the `words` joined by spaces."""
    path, ir = _read(rmap)
    if key in _PROTECTED:
        raise RuleValidationError(f"the header field {key!r} is kept by the tools; set another")
    value = " ".join(words)
    old = ir.header_dict().get(key)
    change = f"{key}: {old!r} -> {value!r}" if old is not None else f"{key}: added {value!r}"
    return _write(path, ir, output_dir, [change], header={key: value})


def del_header(rmap: str | Path, key: str, *,
               output_dir: str | Path | None = None) -> RefactorResult:
    """Delete header field `key`."""
    path, ir = _read(rmap)
    if key in _PROTECTED:
        raise RuleValidationError(f"the header field {key!r} cannot be deleted")
    if key not in ir.header_dict():
        raise RuleValidationError(f"{path}: the header has no field {key!r}")
    return _write(path, ir, output_dir, [f"{key}: deleted"], drop=(key,))
