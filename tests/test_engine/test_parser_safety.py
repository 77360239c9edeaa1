"""Rule text that once hung the parser or escaped its error class.

See docs/engine.md, "Rule files that fail".

Each input here is a case found by mutating real rule files: a hang (exponential regular
expression backtracking) or an exception outside :class:`CsstCrdsError` (RecursionError,
AssertionError, OverflowError, re.error, ValueError, OSError). Now each parses quickly or
fails with a documented error that locates it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.errors import CsstCrdsWarning, RuleSyntaxError, RuleValidationError
from csst_crds_plugin.rules import (
    Expression,
    ExpressionSyntaxError,
    compute_sha1sum,
    parse_mapping,
    set_sha1sum,
)
from csst_crds_plugin.rules.parser import NESTING_LIMIT
from csst_crds_plugin.selectors.matchers import KEY_NESTING_LIMIT, make_matcher

CpuLimit = Callable[..., AbstractContextManager[None]]

PMAP = ("header = {\n    'mapping' : 'PIPELINE',\n    'name' : 'csst_0001.pmap',\n"
        "    'parkey' : ('INSTRUME',),\n}\n\nselector = {\n    'MSC' : 'csst_msc_0001.imap',"
        "{blanks}}\n")


# -- no hang --------------------------------------------------------------------------------------
@pytest.mark.parametrize("blanks", [
    " " * 30,  # the report: 26 blanks took 2.2 s, 30 more than 30 s
    "\n" * 40,
    "#" * 40 + "\n",
    "  # a comment\n" * 30,
])
def test_blanks_before_a_closing_brace_parse_at_once(blanks: str, cpu_limit: CpuLimit) -> None:
    with cpu_limit(5, f"a pmap with {blanks!r} before its closing brace"):
        ir = parse_mapping(PMAP.replace("{blanks}", blanks), "csst_0001.pmap")
    assert ir.selector.as_dict() == {"MSC": "csst_msc_0001.imap"}


def test_blanks_after_a_commented_pair_parse_at_once(cpu_limit: CpuLimit) -> None:
    body = "    # two instruments\n    'MCI' : 'csst_mci_0001.imap',"
    text = PMAP.replace("'MSC' : 'csst_msc_0001.imap',", f"'MSC' : 'csst_msc_0001.imap',\n{body}")
    with cpu_limit(5, "a commented pmap body with blanks before its closing brace"):
        ir = parse_mapping(text.replace("{blanks}", " " * 40), "csst_0001.pmap")
    assert ir.selector.as_dict() == {"MSC": "csst_msc_0001.imap", "MCI": "csst_mci_0001.imap"}


@pytest.mark.parametrize("opening", ["'''", '"""'])
def test_unterminated_triple_quote_is_refused_where_it_starts(opening: str) -> None:
    text = PMAP.replace("{blanks}", "") + f"comment = {opening}never closed\n"
    with pytest.raises(RuleSyntaxError, match="unterminated triple-quoted string") as info:
        parse_mapping(text, "csst_0001.pmap")
    assert (info.value.line, info.value.column) == (9, 11)


def test_long_number_like_match_key_loads_at_once(cache_builder, tiny_texts,
                                                  cpu_limit: CpuLimit) -> None:
    """Conditioning a key such as '111...1.' backtracked quadratically (20,000 digits: ~20 s)."""
    provider = _provider(cache_builder, tiny_texts, key="1" * 20_000 + ".")
    with cpu_limit(5, "a Match key of 20,000 digits and a dot"):
        selection = _bias(provider)
    assert selection["bias"].value == "csst_msc_bias_0003.fits"  # the ('06', '*') rule


def test_set_sha1sum_after_many_blank_lines_at_once(tiny_texts, cpu_limit: CpuLimit) -> None:
    """Each line start was scanned to the end of every blank line after it (quadratic)."""
    text = "\n" * 50_000 + tiny_texts["csst_0001.pmap"]
    with cpu_limit(5, "set_sha1sum on 50,000 blank lines"):
        updated = set_sha1sum(text)
    assert updated.startswith("\n" * 50_000 + "\nheader = {")
    assert "    'sha1sum' : '" + compute_sha1sum(text) + "',\n" in updated


# -- nesting --------------------------------------------------------------------------------------
WRAPPERS = [("(", ",)"), ("[", "]"), ("{'a' : ", "}"), ("Match({'a' : ", "})")]


def _nested(opening: str, closing: str, depth: int) -> str:
    """Return a header value nested `depth` deep, inside the header dict (one level already)."""
    return ("header = {\n    'deep' : " + opening * depth + "'x'" + closing * depth +
            ",\n}\nselector = {}\n")


@pytest.mark.parametrize(("opening", "closing"), WRAPPERS)
def test_nesting_up_to_the_limit_is_accepted(opening: str, closing: str) -> None:
    ir = parse_mapping(_nested(opening, closing, NESTING_LIMIT - 1), "deep.pmap")
    assert "deep" in ir.header_dict()


@pytest.mark.parametrize("depth", [NESTING_LIMIT, 1000, 3000])
@pytest.mark.parametrize(("opening", "closing"), WRAPPERS)
def test_nesting_past_the_limit_is_a_located_syntax_error(opening: str, closing: str,
                                                          depth: int) -> None:
    text = _nested(opening, closing, depth)
    with pytest.raises(RuleSyntaxError, match=f"nested more than {NESTING_LIMIT} deep") as info:
        parse_mapping(text, "deep.pmap")
    error = info.value
    assert (error.path, error.line) == ("deep.pmap", 2)
    # the caret is at the bracket that goes one level too deep
    bracket = len(opening.rstrip("'a :"))
    assert error.column == len("    'deep' : ") + (NESTING_LIMIT - 1) * len(opening) + bracket
    assert error.source_line[error.column - 1] in "([{"


# -- characters between tokens --------------------------------------------------------------------
ODD_SPACES = ["\v", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0", "\u2028", "\u2029"]


@pytest.mark.parametrize("char", ODD_SPACES)
def test_odd_space_between_tokens_is_a_located_syntax_error(char: str) -> None:
    text = f"header = {{\n    'name' :{char}'x.pmap',\n}}\nselector = {{}}\n"
    with pytest.raises(RuleSyntaxError, match=f"U\\+{ord(char):04X}.* not allowed between "
                                              "tokens") as info:
        parse_mapping(text, "odd.pmap")
    assert (info.value.line, info.value.column) == (2, 13)


@pytest.mark.parametrize("char", ODD_SPACES)
def test_odd_space_inside_a_string_is_kept(char: str) -> None:
    text = f"header = {{\n    'name' : 'x{char}y',\n}}\nselector = {{}}\n"
    assert parse_mapping(text, "odd.pmap").header_dict() == {"name": f"x{char}y"}


def test_error_in_a_long_line_shows_a_window_around_the_column() -> None:
    pairs = "".join(f"'K{i}' : 'v{i}', " for i in range(5000))
    text = "header = {" + pairs + "'bad' : 'x' ; " + pairs + "}\nselector = {}\n"
    with pytest.raises(RuleSyntaxError, match="only 'header', 'comment' and 'selector'") as info:
        parse_mapping(text, "long.pmap")
    error = info.value
    assert error.column == text.index(";") + 1 and error.source_line == text.splitlines()[0]
    first, shown, caret = str(error).splitlines()
    assert first.startswith(f"long.pmap:1:{error.column}: ")
    assert len(shown) < 140 and shown.startswith("    ...") and shown.endswith("...")
    assert shown[caret.index("^")] == ";"


# -- expressions ----------------------------------------------------------------------------------
def test_expression_nesting_limit() -> None:
    assert Expression("not " * 40 + "(A == 'B')").evaluate({"A": "B"}) is True
    for text in ("not " * 3000 + "A", "-" * 3000 + "1", "not " * 100 + "A"):
        with pytest.raises(ExpressionSyntaxError, match="nested more than 64 deep"):
            Expression(text)


# -- through the loader: rmaps with hostile headers and keys ---------------------------------------
def _provider(cache_builder, tiny_texts: dict[str, str], *, header: str = "",
              key: str = "06") -> ReferenceProvider:
    bias = tiny_texts["csst_msc_bias_0001.rmap"]
    bias = bias.replace("    'sha1sum' : '',\n", f"    'sha1sum' : '',\n{header}")
    bias = bias.replace("('06', 'FAST')", f"({key!r}, 'FAST')")
    root = cache_builder(mappings={**tiny_texts, "csst_msc_bias_0001.rmap": bias})
    return ReferenceProvider(cache=root, context="csst_0001.pmap")


def _bias(provider: ReferenceProvider) -> object:
    return provider.best_references({"INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "FAST",
                                     "DATE-OBS": "2027-06-01", "TIME-OBS": "00:00:00"},
                                    ["bias"])


@pytest.mark.parametrize(("header", "message"), [
    ("    'rmap_relevance' : '" + "not " * 3000 + "(DETECTOR == \"06\")',\n",
     "'rmap_relevance': the expression is nested more than 64 deep"),
    ("    'parkey_relevance' : {'READMODE' : '" + "not " * 3000 + "x'},\n",
     "'parkey_relevance': the expression is nested more than 64 deep"),
    ("    'parkey_relevance' : '(DETECTOR == \"06\")',\n",
     "'parkey_relevance': must be a dict, not str"),
    ("    'substitutions' : 'READMODE',\n", "'substitutions': must be a dict, not str"),
    ("    'substitutions' : {'READMODE' : 'FAST'},\n",
     "'substitutions': the entry for 'READMODE' must be a dict, not str"),
])
def test_bad_header_field_is_a_located_syntax_error(cache_builder, tiny_texts, header: str,
                                                    message: str) -> None:
    provider = _provider(cache_builder, tiny_texts, header=header)
    with pytest.raises(RuleSyntaxError, match=message.replace("(", r"\(")) as info:
        _bias(provider)
    field = header.split("'")[1]
    assert info.value.path.endswith("csst_msc_bias_0001.rmap")
    assert info.value.source_line.strip().startswith(f"'{field}'")
    assert info.value.line == 10


@pytest.mark.parametrize(("key", "message"), [
    ("(06{99999999999})", "the repetition number is too large"),
    ("(0[6)", "invalid regular expression key"),
    ("(" * 1000 + "06" + ")" * 1000, "nests groups more than 64 deep"),
    ("NOT " * 3000 + "06", "nested more than 64 deep"),
    ("#" * 3001, "nested more than 64 deep"),
])
def test_bad_match_key_is_a_validation_error(cache_builder, tiny_texts, key: str,
                                             message: str) -> None:
    provider = _provider(cache_builder, tiny_texts, key=key)
    with pytest.raises(RuleValidationError, match=message) as info:
        _bias(provider)
    assert "csst_msc_bias_0001.rmap:" in str(info.value)
    assert len(str(info.value)) < 400  # the key is cut short in the message


def test_regex_key_warning_is_the_products_own(cache_builder, tiny_texts, tmp_path) -> None:
    """Python's FutureWarning about a regex becomes a CsstCrdsWarning naming the key.

    The key still selects as the same regex written without the doubtful bracket does.
    """
    provider = _provider(cache_builder, tiny_texts, key="([[0]6)")
    with pytest.warns(CsstCrdsWarning, match=r"key '\(\[\[0\]6\)': Possible nested set"):
        selection = _bias(provider)
    plain = ReferenceProvider(cache=cache_builder(
        mappings={**tiny_texts, "csst_msc_bias_0001.rmap": tiny_texts[
            "csst_msc_bias_0001.rmap"].replace("('06', 'FAST')", "('(0[6])', 'FAST')")},
        root=tmp_path / "plain"), context="csst_0001.pmap")
    assert selection["bias"].value == _bias(plain)["bias"].value


def test_nested_not_keys_keep_their_meaning() -> None:
    assert make_matcher("NOT NOT 06").match("06") == 1
    assert make_matcher("NOT NOT NOT 06").match("06") == -1
    assert make_matcher("NOT " * (KEY_NESTING_LIMIT - 1) + "06").match("07") == 1


# -- names the file system cannot hold ---------------------------------------------------------
@pytest.mark.parametrize("which", ["imap", "rmap"])
def test_oversize_mapping_name_is_a_validation_error(cache_builder, tiny_texts,
                                                     which: str) -> None:
    long_name = "csst_msc_" + "x" * 300 + "." + which
    texts = dict(tiny_texts)
    if which == "imap":
        texts["csst_0001.pmap"] = texts["csst_0001.pmap"].replace("csst_msc_0001.imap", long_name)
    else:
        texts["csst_msc_0001.imap"] = texts["csst_msc_0001.imap"].replace(
            "csst_msc_bias_0001.rmap", long_name)
    provider = ReferenceProvider(cache=cache_builder(mappings=texts), context="csst_0001.pmap")
    with pytest.raises(RuleValidationError, match=r"is 3\d\d bytes long; a name has at most 255"):
        _bias(provider)


RMAP = """header = {
    'derived_from' : 'generated',
    'filekind' : 'BIAS',
    'instrument' : 'MSC',
    'mapping' : 'REFERENCE',
    'name' : 'csst_msc_bias_0001.rmap',
    'observatory' : 'CSST',
    'parkey' : (('DETECTOR',), ('DATE-OBS', 'TIME-OBS')),
    'sha1sum' : '',
}

selector = Match({
    '06' : UseAfter({
        '2027-01-01 00:00:00' : 'csst_msc_bias_0001.fits',
    }),
})
"""


def test_certify_reports_each_bad_file_in_one_line(tmp_path: Path, tiny_texts, capsys) -> None:
    """`csst-crds certify` on the cases above: one error line per file, no traceback."""
    from csst_crds_plugin.cli.main import main

    def rmap(old: str, new: str) -> str:
        return set_sha1sum(RMAP.replace(old, new))

    header = "    'sha1sum' : '',\n"
    bad = {
        "csst_0001.pmap": _nested("(", ",)", 1000),
        "csst_0002.pmap": PMAP.replace("{blanks}", " " * 30).replace("'MSC'", "\v'MSC'"),
        "csst_msc_bias_0001.rmap": rmap("'06'", "'(06{99999999999})'"),
        "csst_msc_bias_0002.rmap": rmap("'06'", "'" + "NOT " * 3000 + "06'"),
        "csst_msc_bias_0003.rmap": rmap(header, header + "    'rmap_relevance' : '" +
                                        "not " * 3000 + "x',\n"),
        "csst_msc_bias_0004.rmap": rmap(header, header + "    'parkey_relevance' : 'x',\n"),
        "csst_msc_bias_0005.rmap": rmap(header, header + "    'substitutions' : 'x',\n"),
        "csst_msc_bias_0006.rmap": rmap("csst_msc_bias_0001.fits", "x" * 300 + ".fits"),
        "csst_0003.pmap": set_sha1sum(tiny_texts["csst_0001.pmap"].replace(
            "csst_0001.pmap", "csst_0003.pmap").replace("csst_msc_0001.imap",
                                                        "csst_msc_" + "x" * 300 + ".imap")),
    }
    paths = []
    for name, text in bad.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(str(tmp_path / name))
    assert main(["certify", *paths]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    lines = captured.out.splitlines()
    assert lines[-1].startswith(f"{len(paths)} file(s): ")
    for path in paths:
        index = lines.index(f"FAILED {path}")
        errors = [line for line in lines[index + 1:index + 3] if line.startswith("  ERROR ")]
        assert len(errors) == 1, lines[index:index + 3]
        assert len(errors[0]) < len(path) + 500
    # a message echoing a 12,000-character value keeps its start and its advice at the end
    echoed = [line for line in lines if line.startswith("  WARNING ") and "not parenthesised"
              in line]
    assert len(echoed) == 1 and len(echoed[0]) < 1200
    assert echoed[0].endswith("wrap it in parentheses") and "characters left out" in echoed[0]


# -- comments stay comments (Python's parser is the oracle) ---------------------------------------
LINES = [
    "'K{i}' : 'v{i}',", "# 'C{i}' : 'commented.fits',", "# it's a comment, {i}", "",
    "'T{i}' : ('a{i}', 'b'),", "'N{i}' : {i},", '"D{i}" : "d{i}",', "'S{i}' : 'v'   ,   ",
    "#", "'E{i}' : 'v',  # 'X{i}' : 'x',",
]


def test_commented_out_pair_after_a_pair_is_not_read() -> None:
    """The fast pair pattern could end a comment early and read a pair inside it."""
    text = ("header = {}\nselector = {\n    'A' : 'x',\n    # 'MCI' : 'csst_mci_0001.imap',\n"
            "    'MSC' : ('a', 'b'),\n}\n")
    assert parse_mapping(text).selector.as_dict() == {"A": "x", "MSC": ("a", "b")}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(range(len(LINES))), max_size=40),
       st.sampled_from(["", " ", "    ", "\t"]))
def test_dict_bodies_read_as_python_reads_them(kinds: list[int], indent: str) -> None:
    body = "".join(indent + LINES[kind].format(i=i) + "\n" for i, kind in enumerate(kinds))
    expected = ast.literal_eval("{\n" + body + "}")
    ir = parse_mapping("header = {}\nselector = {\n" + body + "}\n")
    assert ir.selector.as_dict() == expected


def test_unreadable_mapping_is_a_cache_error_naming_it(cache_builder, tiny_texts) -> None:
    """A read that fails for another reason than absence is a CacheError naming the mapping.

    Here a folder stands in the mapping's place; the error is not a bare OSError.
    """
    from csst_crds_plugin.cache.layout import CacheLayout
    from csst_crds_plugin.errors import CacheError
    from csst_crds_plugin.loader import MappingLoader

    root = cache_builder(mappings=tiny_texts)
    (root / "mappings" / "csst" / "csst_msc_0002.imap").mkdir()
    layout = CacheLayout(root, "csst")
    loader = MappingLoader(layout.read_mapping_data, lambda name: True, label="the test cache")
    with pytest.raises(CacheError, match="cannot read mapping csst_msc_0002.imap from the test "
                                         "cache: Is a directory"):
        loader.load("csst_msc_0002.imap")
