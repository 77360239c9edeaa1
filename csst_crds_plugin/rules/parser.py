"""A hand-written parser for CRDS mapping text (RULES.md §1.2). Rule text is never executed.

Grammar (the lookup loader's; lenient forms are recorded as notes for certify)::

    mapping   = section+                      (header, optional comment, selector; any order)
    section   = NAME '=' (dict | selector | block_string)
    selector  = SelName '(' dict [','] ')'
    dict      = '{' [pair (',' pair)* [',']] '}'
    pair      = immutable ':' value
    value     = string+ | number | True | False | None | tuple | list | dict | selector
    tuple     = '(' [value (',' value)* [',']] ')'     (one value without a comma: parentheses)
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from csst_crds_plugin.errors import RuleSyntaxError
from csst_crds_plugin.rules.blocks import simple_block
from csst_crds_plugin.rules.ir import (
    SELECTOR_NAMES,
    DictNode,
    Key,
    MappingIR,
    Note,
    SelectorNode,
    SourceText,
    Value,
)

__all__ = ["NESTING_LIMIT", "parse_mapping", "parse_value_text"]

NESTING_LIMIT: Final = 64
"""Deepest nesting of brackets, braces and parentheses a rule file may use (real rules use 5)."""

# Every pattern below is linear: no quantified group can match the same text in two ways, so a
# failed match never backtracks more than once over a character (docs/engine.md, "Rule files
# that fail").
_TOKEN_RE: Final = re.compile(
    r"""
    (?P<ws>[ \t\r\n\f]+|\#[^\n]*)
  | (?P<block>\"\"\"[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*\"\"\"
             |'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*''')
  | (?P<string>'[^'\\\n]*(?:\\.[^'\\\n]*)*'|"[^"\\\n]*(?:\\.[^"\\\n]*)*")
  | (?P<number>-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[{}()\[\],:=])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
# Fast path for the bulk of real rmaps: 'str' : 'str' pairs inside a dict. The leading space
# and comments are a run of blanks, then whole comment lines each followed by blanks.
_STR_PAIR_RE: Final = re.compile(
    r"[ \t\r\n]*(?:\#[^\n]*\n[ \t\r\n]*)*'([^'\\\n]*)'[ \t]*:[ \t]*'([^'\\\n]*)'[ \t]*,"
)
_ESCAPES: Final = {
    "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "\\": "\\", "'": "'", '"': '"',
    "/": "/", "\n": "",
}
_CONSTANTS: Final[dict[str, Value]] = {"True": True, "False": False, "None": None}
_FORBIDDEN_HINTS: Final = {
    ".": "attribute access is not allowed in rule files",
    "+": "operators are not allowed in rule files",
    "-": "operators are not allowed in rule files (only a minus sign on a number)",
    "*": "operators are not allowed in rule files",
    "/": "operators are not allowed in rule files",
    "%": "operators are not allowed in rule files",
    "@": "decorators and operators are not allowed in rule files",
    ";": "only 'header', 'comment' and 'selector' assignments are allowed",
}


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class _Parser:
    def __init__(self, source: SourceText) -> None:
        self.source = source
        self.text = source.text
        self.pos = 0
        self.notes: list[Note] = []
        self.kind = ""
        self.value = ""
        self.start = 0
        self.depth = 0
        self._advance()

    # -- tokens --------------------------------------------------------------------------------
    def _advance(self) -> None:
        text = self.text
        while True:
            if self.pos >= len(text):
                self.kind, self.value, self.start = "eof", "", len(text)
                return
            found = _TOKEN_RE.match(text, self.pos)
            if found is None:  # cannot happen: 'other' matches any character
                raise self.error("unreadable text", self.pos)
            self.pos = found.end()
            kind = found.lastgroup or "other"
            if kind != "ws":
                self.kind, self.value, self.start = kind, found.group(), found.start()
                if kind == "string" and text.startswith(self.value[0] * 3, self.start):
                    raise self.error("unterminated triple-quoted string: close it with "
                                     f"{self.value[0] * 3} (or escape the quotes inside it)")
                if kind == "other" and self.value in "'\"":
                    raise self.error("unterminated string: a quoted string must end on its "
                                     "line (use a triple-quoted string to span lines)")
                return

    def error(self, message: str, offset: int | None = None) -> RuleSyntaxError:
        line, column, source_line = self.source.locate(self.start if offset is None else offset)
        return RuleSyntaxError(message, self.source.path, line, column, source_line)

    def _describe(self) -> str:
        return "end of file" if self.kind == "eof" else repr(self.value)

    def expect(self, punct: str) -> None:
        if self.kind != "punct" or self.value != punct:
            raise self.error(f"expected {punct!r}, found {self._describe()}")
        self._advance()

    def _is(self, punct: str) -> bool:
        return self.kind == "punct" and self.value == punct

    # -- grammar -------------------------------------------------------------------------------
    def parse_mapping(self) -> MappingIR:
        sections: dict[str, object] = {}
        order: list[str] = []
        header: DictNode | None = None
        selector: DictNode | SelectorNode | None = None
        while self.kind != "eof":
            if self.kind != "name" or self.value not in ("header", "selector", "comment"):
                if self.kind in ("string", "number", "block"):
                    self.notes.append(Note(self.start, "bare constant statement"))
                    self._string_or_value()
                    continue
                raise self.error(
                    "Only define 'header' or 'selector' or 'comment' sections; "
                    f"found {self._describe()}"
                )
            name, offset = self.value, self.start
            if name in sections:
                raise self.error(f"section {name!r} is defined twice")
            self._advance()
            self.expect("=")
            if name == "comment":
                if self.kind not in ("block", "string"):
                    raise self.error(f"the comment must be a string, found {self._describe()}")
                sections[name] = self._string_or_value()
            elif name == "header":
                if not self._is("{"):
                    raise self.error(f"the header must be a dict, found {self._describe()}")
                sections[name] = header = self.parse_dict()
            else:
                value = self.parse_value()
                if not isinstance(value, (DictNode, SelectorNode)):
                    raise self.error("the selector must be a dict or a selector call", offset)
                sections[name] = selector = value
            order.append(name)
        if header is None:
            raise self.error("missing the 'header' section")
        if selector is None:
            raise self.error("missing the 'selector' section")
        expected = [n for n in ("header", "comment", "selector") if n in sections]
        if order != expected:
            self.notes.append(Note(0, "sections in a non-canonical order"))
        comment = sections.get("comment")
        return MappingIR(
            self.source,
            header,
            selector,
            comment if isinstance(comment, str) else None,
            tuple(self.notes),
        )

    def _string_or_value(self) -> Value:
        if self.kind in ("string", "block"):
            return self._strings()
        return self.parse_value()

    def _strings(self) -> str:
        parts: list[str] = []
        first = self.start
        while self.kind in ("string", "block"):
            width = 3 if self.kind == "block" else 1
            parts.append(_unescape(self.value[width:-width]))
            self._advance()
        if len(parts) > 1:
            self.notes.append(Note(first, "adjacent string literals (concatenated)"))
        return "".join(parts)

    def parse_value(self) -> Value:
        kind, value = self.kind, self.value
        if kind in ("string", "block"):
            return self._strings()
        if kind == "number":
            self._advance()
            return _number(value)
        if kind == "name":
            if value in _CONSTANTS:
                self._advance()
                return _CONSTANTS[value]
            if value in SELECTOR_NAMES:
                return self.parse_selector()
            offset = self.start
            self._advance()
            if self.kind == "other" and self.value == ".":
                raise self.error(f"attribute access ({value}.…) is not allowed in rule files",
                                 offset)
            if self._is("("):
                raise self.error(
                    f"call of {value!r} is not allowed: rule files may call only "
                    f"{', '.join(sorted(SELECTOR_NAMES))}",
                    offset,
                )
            raise self.error(
                f"name {value!r} is not allowed: only selector names, True, False and None",
                offset,
            )
        if kind == "punct":
            if value == "{":
                return self.parse_dict()
            if value == "(":
                return self.parse_sequence("(", ")")
            if value == "[":
                self.notes.append(Note(self.start, "a list used as a value (read as a tuple)"))
                return self.parse_sequence("[", "]")
        if kind == "other":
            raise self.error(_unexpected(value))
        raise self.error(f"expected a value, found {self._describe()}")

    def _enter(self) -> None:
        """Count one more level of nesting; refuse past NESTING_LIMIT (the parser recurses)."""
        self.depth += 1
        if self.depth > NESTING_LIMIT:
            raise self.error(f"brackets, braces and parentheses nested more than "
                             f"{NESTING_LIMIT} deep; rule files never need that many")

    def parse_sequence(self, opening: str, closing: str) -> Value:
        offset = self.start
        self._enter()
        self.expect(opening)
        items: list[Value] = []
        saw_comma = False
        while not self._is(closing):
            items.append(self.parse_value())
            if self._is(","):
                saw_comma = True
                self._advance()
            elif not self._is(closing):
                raise self._after_value_error(f"',' or {closing!r}")
        self._advance()
        self.depth -= 1
        if opening == "(" and len(items) == 1 and not saw_comma:
            return items[0]  # parentheses around one value
        for item in items:
            if isinstance(item, (DictNode, SelectorNode)) and opening == "[":
                raise self.error("a list may not hold dicts or selectors", offset)
        return tuple(items)

    def _after_value_error(self, expected: str) -> RuleSyntaxError:
        if self.kind == "other":
            return self.error(_unexpected(self.value))
        if self.kind == "name" and self.value in ("if", "and", "or", "not", "in", "for", "is"):
            return self.error(f"expressions ({self.value!r}) are not allowed inside rule data")
        return self.error(f"expected {expected}, found {self._describe()}")

    def parse_dict(self) -> DictNode:
        offset = self.start
        self._enter()
        self.expect("{")
        entries: list[tuple[Key, Value]] = []
        offsets: list[int] = []
        text = self.text
        no_block_before = -1  # text before this '}' was found not to be a simple block
        while True:
            if self.kind == "string" and self.value[0] == "'":
                # Fastest path: the rest of the body is simple 'key' : 'value' pairs, split at
                # once (a block always runs to the closing brace). A failed try is not repeated
                # before the brace it reached, so the body is scanned once: linear time.
                block = simple_block(text, self.start) if self.start > no_block_before \
                    else None
                if isinstance(block, int):
                    no_block_before, block = block, None
                if block is not None:
                    block_entries, block_offsets, end = block
                    self.pos = end
                    self._advance()
                    if not entries:  # the whole body: kept as columns, offsets found lazily
                        self.expect("}")
                        self.depth -= 1
                        return DictNode(block_entries, offset, block_offsets)
                    entries.extend(block_entries)
                    offsets.extend(block_offsets)
                    continue
                # Fast path: a run of simple 'key' : 'value', pairs, matched without tokenising.
                found = _STR_PAIR_RE.match(text, self.start)
                if found is not None:
                    pos = found.end()
                    while found is not None:
                        offsets.append(found.start(1) - 1)
                        entries.append((found.group(1), found.group(2)))
                        pos = found.end()
                        found = _STR_PAIR_RE.match(text, pos)
                    self.pos = pos
                    self._advance()
                    continue
            if self._is("}"):
                break
            key_offset = self.start
            key = self.parse_value()
            if isinstance(key, (DictNode, SelectorNode)) or not _is_key_literal(key):
                raise self.error("a dict key must be a string, number, tuple, True, False or None",
                                 key_offset)
            self.expect(":")
            value = self.parse_value()
            entries.append((key, value))  # type: ignore[arg-type]  # hashable: a key
            offsets.append(key_offset)
            if self._is(","):
                self._advance()
            elif not self._is("}"):
                raise self._after_value_error("',' or '}'")
        self._advance()
        self.depth -= 1
        return DictNode(tuple(entries), offset, tuple(offsets))

    def parse_selector(self) -> SelectorNode:
        name, offset = self.value, self.start
        self._advance()
        if not self._is("("):
            raise self.error(f"{name} must be called with one dict: {name}({{...}})", offset)
        self._advance()
        if not self._is("{"):
            if self.kind == "name" and self.text[self.pos:self.pos + 1] == "=":
                raise self.error(f"keyword arguments are not allowed in {name}(...)")
            raise self.error(f"{name}(...) takes exactly one dict argument")
        body = self.parse_dict()
        if self._is(","):
            self.notes.append(Note(self.start, f"a trailing comma inside {name}(...)"))
            self._advance()
        if not self._is(")"):
            raise self.error(
                f"{name}(...) takes exactly one dict argument; found {self._describe()}"
            )
        self._advance()
        return SelectorNode(name, body, offset)


def _unexpected(char: str) -> str:
    """Return the message for a character outside every token."""
    hint = _FORBIDDEN_HINTS.get(char)
    if hint is not None:
        return f"{hint}: {char!r}"
    if char.isspace() or unicodedata.category(char)[0] in "CZ":
        return (f"character {char!r} (U+{ord(char):04X}) is not allowed between tokens: only "
                "space, tab, newline, carriage return and form feed separate them")
    return f"unexpected character: {char!r}"


def _is_key_literal(key: object) -> bool:
    """Tell whether `key` is what a selector key may be: a scalar literal, or a tuple of them."""
    if isinstance(key, tuple):
        return all(_is_key_literal(item) for item in key)
    return key is None or isinstance(key, (str, int, float, bool))


def _number(text: str) -> int | float:
    body = text.lstrip("-")
    if "." in body or "e" in body or "E" in body:
        return float(text)
    if len(body) > 1 and body.startswith("0"):
        raise ValueError(f"leading zeros in decimal integer literals are not permitted: {text}")
    return int(text)


def parse_mapping(text: str, path: str = "<string>") -> MappingIR:
    """Parse mapping `text` into its intermediate form; raise RuleSyntaxError with a location."""
    source = SourceText(path, text)
    parser = _Parser(source)
    try:
        return parser.parse_mapping()
    except ValueError as exc:  # a malformed number literal
        raise parser.error(str(exc)) from exc


def parse_value_text(text: str, path: str = "<string>") -> Value:
    """Parse one literal value (as in a ``server_config`` file)."""
    parser = _Parser(SourceText(path, text))
    try:
        value = parser.parse_value()
    except ValueError as exc:  # a malformed number literal
        raise parser.error(str(exc)) from exc
    if parser.kind != "eof":
        raise parser.error(f"unexpected {parser._describe()} after the value")
    return value
