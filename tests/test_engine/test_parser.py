"""The rule parser: what it accepts, what it refuses (with a location), round trips."""

from __future__ import annotations

import pytest

from csst_crds_plugin.errors import RuleSyntaxError
from csst_crds_plugin.rules import (
    DictNode,
    SelectorNode,
    compute_sha1sum,
    format_mapping,
    parse_mapping,
    set_sha1sum,
)

HEAD = "header = {\n    'name' : 'x.rmap',\n}\n"

# (selector text placed after 'selector = ', message fragment, line, column of the caret)
REFUSED = [
    ("__import__('os')", "call of '__import__' is not allowed", 5, 12),
    ("Match({'A' : os.system('rm')})", "attribute access", 5, 25),
    ("Match({'A' : lambda: 1})", "name 'lambda' is not allowed", 5, 25),
    ("Match({'A' : open('f')})", "call of 'open' is not allowed", 5, 25),
    ("Match({'A' : 1 + 2})", "operators are not allowed", 5, 27),
    ("Match({'A' : 'x' if 1 else 'y'})", "expressions ('if') are not allowed", 5, 29),
    ("Match({'A' : {1, 2}})", "expected ':'", 5, 27),
    ("Match({'A' : [x for x in 'ab']})", "name 'x' is not allowed", 5, 26),
    ("Match(selections={'A' : 'f'})", "keyword arguments are not allowed", 5, 18),
    ("Match({'A' : 'f'}, {'B' : 'g'})", "exactly one dict argument", 5, 31),
    ("Match({'A' : f'{x}'})", "name 'f' is not allowed", 5, 25),
    ("Match({'A' : 'f'})[0]", "Only define 'header' or 'selector' or 'comment'", 5, 30),
    ("Match({'A' : not 'f'})", "name 'not' is not allowed", 5, 25),
]


@pytest.mark.parametrize(("selector", "message", "line", "column"), REFUSED)
def test_refused_constructs_are_located(selector: str, message: str, line: int,
                                        column: int) -> None:
    text = HEAD + "\nselector = " + selector + "\n"
    with pytest.raises(RuleSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[")) as info:
        parse_mapping(text, "bad.rmap")
    error = info.value
    assert (error.path, error.line, error.column) == ("bad.rmap", line, column)
    assert error.source_line == text.splitlines()[line - 1]
    rendered = str(error).splitlines()
    assert rendered[0].startswith(f"bad.rmap:{line}:{column}: ")
    assert rendered[2].index("^") - 4 == column - 1  # the caret sits under the column


def test_import_statement_is_refused() -> None:
    with pytest.raises(RuleSyntaxError, match="Only define 'header'") as info:
        parse_mapping("import os\n" + HEAD + "selector = {}\n", "evil.pmap")
    assert (info.value.line, info.value.column) == (1, 1)


def test_attribute_in_header_is_refused() -> None:
    text = "header = {\n    'name' : os.environ,\n}\nselector = {}\n"
    with pytest.raises(RuleSyntaxError, match="attribute access") as info:
        parse_mapping(text, "h.imap")
    assert (info.value.line, info.value.column) == (2, 14)


def test_nothing_is_executed(tmp_path: object) -> None:
    marker = "csst_crds_parser_marker"
    text = HEAD + f"selector = Match({{'A' : __import__('builtins').setattr('{marker}')}})\n"
    with pytest.raises(RuleSyntaxError):
        parse_mapping(text)
    import builtins
    assert not hasattr(builtins, marker)


def test_lenient_constructs_are_accepted_and_noted() -> None:
    text = (HEAD + "comment = 'a' 'b'\n"
            "selector = Match({('A', 'B') : ['f1', 'f2'], 'C' : 'g',},)\n")
    mapping = parse_mapping(text)
    assert mapping.comment == "ab"
    assert isinstance(mapping.selector, SelectorNode)
    assert mapping.selector.entries == ((("A", "B"), ("f1", "f2")), ("C", "g"))
    notes = {note.message for note in mapping.notes}
    assert notes == {"adjacent string literals (concatenated)",
                     "a list used as a value (read as a tuple)",
                     "a trailing comma inside Match(...)"}


def test_duplicate_keys_follow_python_dict_semantics() -> None:
    text = HEAD + "selector = {1 : 'a', 1.0 : 'b', True : 'c', 'x' : 'd', 'x' : 'e'}\n"
    mapping = parse_mapping(text)
    assert len(mapping.selector.entries) == 5  # every entry stays visible for certify
    assert mapping.selector.as_dict() == {1: "c", "x": "e"}  # type: ignore[union-attr]
    assert list(mapping.selector.as_dict()) == [1, "x"]  # type: ignore[union-attr]
    assert type(next(iter(mapping.selector.as_dict()))) is int  # type: ignore[union-attr]


@pytest.mark.parametrize(("literal", "value"), [
    ("'a\\'b'", "a'b"), ('"tab\\there"', "tab\there"), ("-3", -3), ("1.5e3", 1500.0),
    ("(1, 'x')", (1, "x")), ("('one',)", ("one",)), ("('paren')", "paren"), ("None", None),
    ("True", True), ('"""block\nstring"""', "block\nstring"),
])
def test_literals(literal: str, value: object) -> None:
    mapping = parse_mapping(HEAD + f"selector = {{'k' : {literal}}}\n")
    assert mapping.selector.as_dict() == {"k": value}  # type: ignore[union-attr]


def test_checksum_excludes_sha1sum_lines_and_ignores_crlf() -> None:
    text = set_sha1sum("header = {\n    'sha1sum' : 'x',\n    'name' : 'a',\n}\nselector = {}\n")
    digest = parse_mapping(text).header_dict()["sha1sum"]
    assert digest == compute_sha1sum(text)
    assert compute_sha1sum(text.replace("\n", "\r\n")) == digest
    assert compute_sha1sum(text.replace("'a'", "'b'")) != digest
    assert compute_sha1sum(text + "# a comment\n") != digest
    assert compute_sha1sum(text + "# sha1sum mentioned\n") == digest


def test_round_trip_is_canonical_and_stable() -> None:
    text = set_sha1sum(
        "# a comment\nheader = {\n    'parkey' : (('A',), ('DATE-OBS', 'TIME-OBS')),\n"
        "    'name' : 'x.rmap',\n    'sha1sum' : 'z',\n}\n"
        "selector = Match({\n  'B' : UseAfter({'2020-01-01 00:00:00' : 'b.fits'}),\n"
        "  'A' : UseAfter({'2021-01-01 00:00:00' : 'a2.fits',\n"
        "                  '2020-01-01 00:00:00' : 'a1.fits'}),\n"
        "})\n"
    )
    canonical = format_mapping(parse_mapping(text))
    assert "# a comment" not in canonical
    again = parse_mapping(canonical)
    assert format_mapping(again) == canonical
    assert again.header_dict()["sha1sum"] == compute_sha1sum(canonical)
    assert canonical.index("'A'") < canonical.index("'B'")
    assert canonical.index("a1.fits") < canonical.index("a2.fits")
    assert _plain(again.selector) == _plain(parse_mapping(text).selector)


def _plain(node: object) -> object:
    """Return a node as plain data without offsets, dict entries in key order."""
    if isinstance(node, SelectorNode):
        return (node.name, _plain(node.body))
    if isinstance(node, DictNode):
        return sorted((repr(k), _plain(v)) for k, v in node.as_dict().items())
    return node


@pytest.mark.parametrize("key", ["2027-01-01 00:00:00", "détecteur ü"])
def test_block_key_offsets_equal_the_tokenisers(key: str) -> None:
    """Offsets of a simple block (found lazily) are those the tokeniser finds for each key."""
    pairs = "".join(f"    '{key}{i}' : 'f{i}.fits',\n" for i in range(30))
    fast = parse_mapping(f"{HEAD}selector = UseAfter({{\n{pairs}}})\n").selector.body
    # a comment in the body sends the same pairs through the tokeniser
    slow = parse_mapping(f"{HEAD}selector = UseAfter({{\n{pairs}    # end\n}})\n").selector.body
    assert type(fast.entry_offsets) is not tuple  # the lazy form was used
    assert type(slow.entry_offsets) is tuple
    assert list(fast.entry_offsets) == list(slow.entry_offsets)
    assert fast.entry_offsets == slow.entry_offsets and fast == slow
    text = f"{HEAD}selector = UseAfter({{\n{pairs}}})\n"
    assert [text[o:o + len(key) + 2] for o in fast.entry_offsets] == \
        [f"'{key}{i}"[:len(key) + 2] for i in range(30)]


def test_block_entries_read_as_a_tuple_of_pairs() -> None:
    pairs = [(f"k{i}", f"v{i}") for i in range(5)]
    body = "".join(f"    '{k}' : '{v}',\n" for k, v in pairs)
    entries = parse_mapping(f"{HEAD}selector = UseAfter({{\n{body}}})\n").selector.entries
    assert type(entries) is not tuple  # kept as columns
    assert entries == tuple(pairs) and list(entries) == pairs and len(entries) == 5
    assert entries[1] == ("k1", "v1") and entries[-1] == ("k4", "v4")
    assert entries[1:3] == (("k1", "v1"), ("k2", "v2"))
    assert entries + (("x", "y"),) == (*pairs, ("x", "y"))
    assert (("x", "y"),) + entries == (("x", "y"), *pairs)
    assert dict(entries) == dict(pairs) and repr(entries) == repr(tuple(pairs))
    assert hash(entries) == hash(tuple(pairs))
    # a block followed by other entries (here after a comment) gives plain pairs, in order
    mixed = parse_mapping(f"{HEAD}selector = UseAfter({{\n{body}    # c\n    'k9' : 'v9',\n}})\n")
    assert type(mixed.selector.entries) is tuple
    assert mixed.selector.entries == (*pairs, ("k9", "v9"))
    assert len(mixed.selector.body.entry_offsets) == 6
