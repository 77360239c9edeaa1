"""Rule differences between two rmaps: both selector trees walked side by side (RULES.md §10.3).

Entries are paired by their conditioned key (``'B|A'`` and ``'A|B'`` are the same rule) and shown
with the new file's raw key. An added or deleted subtree is reported terminal by terminal, so
every reference that enters or leaves the rules appears with its full match path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.rules import DictNode, MappingIR, SelectorNode, parse_mapping
from csst_crds_plugin.rules.ir import Key
from csst_crds_plugin.rules.writer import sort_key
from csst_crds_plugin.selectors import selector_class
from csst_crds_plugin.selectors.values import is_na_value, is_omit_value

__all__ = ["ADDED", "CLASSES", "DELETED", "REPLACED", "RuleChange", "diff_rules", "jsonable",
           "read_ir", "rmap_levels", "terminal_names", "walk_terminals"]

ADDED = "added"
DELETED = "deleted"
REPLACED = "replaced"
CLASSES = "different classes"


@dataclass(frozen=True, slots=True)
class RuleChange:
    """One rule difference between two rmaps.

    ``path`` holds the raw keys from the top selector down to the change; ``parameters`` and
    ``classes`` give each level's parkey names and selector class. ``old`` and ``new`` are
    terminals (a file name, a tuple of names, a dict) or, for ``different classes``, the class
    names.
    """

    old_rmap: str | None
    new_rmap: str | None
    action: str
    path: tuple[Key, ...]
    parameters: tuple[tuple[str, ...], ...]
    classes: tuple[str, ...]
    old: Any = None
    new: Any = None

    @property
    def rmap(self) -> str:
        """The rmap the change is reported under (the new one, or the old one if deleted)."""
        return self.new_rmap or self.old_rmap or "?"

    def old_files(self) -> list[str]:
        """Return the reference names the old side selects at this path."""
        return [] if self.action == CLASSES else terminal_names(self.old)

    def new_files(self) -> list[str]:
        """Return the reference names the new side selects at this path."""
        return [] if self.action == CLASSES else terminal_names(self.new)

    def path_text(self) -> str:
        """``('06', 'FAST') / '2027-01-02 00:00:00'``."""
        return " / ".join(repr(key) for key in self.path) or "(top)"

    def __str__(self) -> str:
        """Render the change as one line of the report."""
        if self.action == ADDED:
            what = f"added {_show(self.new)}"
        elif self.action == DELETED:
            what = f"deleted {_show(self.old)}"
        elif self.action == REPLACED:
            what = f"replaced {_show(self.old)} with {_show(self.new)}"
        else:
            what = f"different classes: {self.old} became {self.new}"
        return f"{self.rmap}: {self.path_text()}: {what}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {
            "type": "rule", "old_rmap": self.old_rmap, "new_rmap": self.new_rmap,
            "action": self.action, "path": [jsonable(k) for k in self.path],
            "parameters": [list(level) for level in self.parameters],
            "classes": list(self.classes), "old": jsonable(self.old), "new": jsonable(self.new),
            "text": str(self),
        }


def terminal_names(value: Any) -> list[str]:
    """Return the file names a terminal value holds (a name, a tuple of names, a dict of names)."""
    if isinstance(value, str):
        return [] if is_na_value(value) or is_omit_value(value) else [value]
    if isinstance(value, DictNode):
        value = tuple(value.as_dict().values())
    if isinstance(value, (tuple, list)):
        return [name for item in value for name in terminal_names(item)]
    return []


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return repr(jsonable(value))


def jsonable(value: Any) -> Any:
    """Return ``value`` as plain JSON data: rule nodes and dicts as dicts, tuples as lists.

    The diff, the ``matches`` listing and their ``--format json`` outputs all show rule
    values this one way.
    """
    if isinstance(value, DictNode):
        return {str(k): jsonable(v) for k, v in value.as_dict().items()}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [jsonable(item) for item in value]
    return value


def read_ir(mapping: MappingIR | str | Path) -> MappingIR:
    """Parse a mapping, given as itself or as a file path (rule text is never executed)."""
    if isinstance(mapping, MappingIR):
        return mapping
    path = Path(mapping)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise DiffInputError(f"{path}: no such mapping file") from None
    except UnicodeDecodeError as exc:
        raise DiffInputError(f"{path}: not UTF-8 text ({exc})") from exc
    return parse_mapping(text, str(path))


class DiffInputError(CsstCrdsError, ValueError):
    """A file given to diff, uses or matches cannot be read or compared."""


def rmap_levels(ir: MappingIR) -> tuple[tuple[str, ...], ...]:
    """Return the parkey of an rmap as one tuple of upper-case names per nesting level."""
    parkey = ir.header_dict().get("parkey", ())
    if not isinstance(parkey, tuple):
        parkey = (parkey,)
    levels = []
    for level in parkey:
        names = level if isinstance(level, tuple) else (level,)
        levels.append(tuple(str(name).upper() for name in names))
    return tuple(levels)


def _plain(value: Any) -> Any:
    """Return a value in a form that compares by content."""
    if isinstance(value, DictNode):
        return ("<dict>", tuple(sorted((repr(k), repr(_plain(v)))
                                       for k, v in value.as_dict().items())))
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    return value


def _paired(node: SelectorNode, parameters: tuple[str, ...]) -> dict[Any, tuple[Key, Any]]:
    """{conditioned key: (raw key, choice)} with dict semantics (a later duplicate wins)."""
    raw = dict(node.entries)
    keys = list(raw)
    try:
        conditioned = selector_class(node.name).condition_keys(keys, parameters)
    except (CsstCrdsError, KeyError, TypeError, ValueError):
        conditioned = keys
    if len(set(conditioned)) != len(conditioned):
        conditioned = keys
    return {canon: (key, raw[key]) for canon, key in zip(conditioned, keys, strict=True)}


def walk_terminals(value: Any, path: tuple[Key, ...] = (), classes: tuple[str, ...] = (),
                   ) -> Iterator[tuple[tuple[Key, ...], tuple[str, ...], Any]]:
    """Yield (raw key path, selector class per level, terminal) under a selector node.

    Unlike :meth:`Selector.walk` on built selectors, this works on the parsed form and also
    gives each level's selector class; keys follow file order with dict semantics.
    """
    if isinstance(value, SelectorNode):
        for key, choice in dict(value.entries).items():
            yield from walk_terminals(choice, (*path, key), (*classes, value.name))
    else:
        yield path, classes, value


class _Walk:
    def __init__(self, old: MappingIR | None, new: MappingIR | None) -> None:
        self.old_name = Path(old.path).name if old else None
        self.new_name = Path(new.path).name if new else None
        self.old_levels = rmap_levels(old) if old else ()
        self.new_levels = rmap_levels(new) if new else ()
        self.changes: list[RuleChange] = []

    def levels(self, depth: int) -> tuple[tuple[str, ...], ...]:
        chosen = self.new_levels if len(self.new_levels) > depth else self.old_levels
        return tuple(chosen[i] if i < len(chosen) else () for i in range(depth))

    def emit(self, action: str, path: tuple[Key, ...], classes: tuple[str, ...],
             old: Any = None, new: Any = None) -> None:
        self.changes.append(RuleChange(self.old_name, self.new_name, action, path,
                                       self.levels(len(path)), classes, old, new))

    def one_side(self, action: str, value: Any, path: tuple[Key, ...],
                 classes: tuple[str, ...]) -> None:
        for where, kinds, terminal in walk_terminals(value, path, classes):
            if action == ADDED:
                self.emit(ADDED, where, kinds, new=terminal)
            else:
                self.emit(DELETED, where, kinds, old=terminal)

    def compare(self, old: Any, new: Any, path: tuple[Key, ...],
                classes: tuple[str, ...]) -> None:
        if isinstance(old, SelectorNode) and isinstance(new, SelectorNode):
            if old.name != new.name:
                self.emit(CLASSES, path, classes, old.name, new.name)
                self.one_side(DELETED, old, path, classes)
                self.one_side(ADDED, new, path, classes)
                return
            depth = len(path)
            old_params = self.old_levels[depth] if depth < len(self.old_levels) else ()
            new_params = self.new_levels[depth] if depth < len(self.new_levels) else ()
            old_map = _paired(old, old_params)
            new_map = _paired(new, new_params)
            inner = (*classes, new.name)
            for canon in sorted(old_map.keys() | new_map.keys(), key=sort_key):
                if canon not in new_map:
                    key, choice = old_map[canon]
                    self.one_side(DELETED, choice, (*path, key), inner)
                elif canon not in old_map:
                    key, choice = new_map[canon]
                    self.one_side(ADDED, choice, (*path, key), inner)
                else:
                    key, choice = new_map[canon]
                    self.compare(old_map[canon][1], choice, (*path, key), inner)
            return
        if isinstance(old, SelectorNode) or isinstance(new, SelectorNode):
            self.one_side(DELETED, old, path, classes)
            self.one_side(ADDED, new, path, classes)
            return
        if _plain(old) != _plain(new):
            self.emit(REPLACED, path, classes, old, new)


def diff_rules(old_rmap: MappingIR | str | Path | None,
               new_rmap: MappingIR | str | Path | None) -> list[RuleChange]:
    """Rules added, deleted and replaced from `old_rmap` to `new_rmap`, in key order.

    Either side may be a parsed mapping, a file path, or None (an rmap added to or removed
    from a context: every rule of the other side is then added or deleted).
    """
    if old_rmap is None and new_rmap is None:
        raise DiffInputError("diff_rules needs at least one rmap")
    old = read_ir(old_rmap) if old_rmap is not None else None
    new = read_ir(new_rmap) if new_rmap is not None else None
    walk = _Walk(old, new)
    if old is None:
        walk.one_side(ADDED, new.selector, (), ())  # type: ignore[union-attr]  # one side is given
    elif new is None:
        walk.one_side(DELETED, old.selector, (), ())
    else:
        walk.compare(old.selector, new.selector, (), ())
    return walk.changes
