"""Seeded mutants of the conformance rule files: every failure is a documented error, fast.

First each crafted case (an input that once hung the parser or escaped its error class) is
applied to every rule file, then random mutants follow, 20,000 inputs in all. Each replaces one
rule file of a conformance suite and is loaded through the real loader, whose other files are
read in place from the suite's cache. The mapping is then used
as a lookup would use it (a pmap's closure, an imap's rmaps, an rmap lookup), and certify
checks it. Nothing may raise outside :class:`CsstCrdsError`, and no mutant may take a second
of CPU time (a per-mutant CPU-time alarm stops a hang and names the mutant).

``CSST_CRDS_FUZZ_MUTANTS`` (default 20,000) and ``CSST_CRDS_FUZZ_SEED`` change the run.
"""

from __future__ import annotations

import os
import random
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from csst_crds_plugin.cache.layout import CacheLayout
from csst_crds_plugin.context import InstrumentMapping, PipelineMapping, ReferenceMapping
from csst_crds_plugin.errors import CsstCrdsError, CsstCrdsWarning
from csst_crds_plugin.loader import MappingLoader, load_mapping
from csst_crds_plugin.tools.certify.mapping_checks import certify_mapping

MUTANTS = int(os.environ.get("CSST_CRDS_FUZZ_MUTANTS") or 20_000)
SEED = int(os.environ.get("CSST_CRDS_FUZZ_SEED") or 14)
CPU_LIMIT_S = 1.0
CERTIFY_EVERY = 4  # certify checks every 4th mutant as well (it parses and builds again)

NASTY = ("\v", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0", "\u2028", "\u2029", "\x00",
         "\ufeff", "\x7f", "\f", "\r", "\t", "\n", "#", "'", '"', "\\", "'''", '"""', "{", "}",
         "(", ")", "[", "]", ",", ":", "=", "-", ".", "e", "0", "\U0001f600")
HEADER_FIELDS = ("parkey", "parkey_relevance", "substitutions", "rmap_relevance", "rmap_omit",
                 "extra_keys", "reffile_switch", "reffile_required", "classes", "mapping",
                 "name", "observatory", "instrument", "filekind", "merge_overlaps", "sha1sum",
                 "comment_parkeys", "reference_to_dataset", "ignore_checksum", "hooks")
ODD_VALUES = ("'text'", "1", "-2.5e3", "None", "True", "()", "('A', 'B')", "(('A',), 5)",
              "{'A': 'b'}", "{'A': {'B': 'c'}}", "{'A': ('b', 'c')}", "{'A': 1}", "{1: 2}",
              "Match({'A': 'b'})", "'" + "not " * 3000 + "x'", "'(' * 3", "'((A == 1)'",
              "'" + "(" * 300 + "A" + ")" * 300 + "'", "'A.b.c'", "'__import__(1)'",
              "'x' 'y'", "[1, 2]", "''", "'" + "x" * 5000 + "'", "9" * 5000)
ODD_KEYS = ("(a{99999999999})", "(a{4294967296})", "([)", "(?P<x)", "(*)", "(a)(", "((a)",
            "NOT " * 3000 + "X", "#" * 3001, "(" * 2000 + "a" + ")" * 2000,
            "#" + "NOT " * 500 + "X AND Y#", "BETWEEN 1", "BETWEEN 2 1", "BETWEEN A B", ">x",
            "<=", "{", "(", "#", "*" * 300, "|" * 300, "[" * 300, "N/A|" * 100, "(\\)",
            "([^]])", "(\\1)", "(a" + "|a" * 2000 + ")", "(" + "a*" * 500 + ")",
            "1" * 20_000 + ".", "-" + "1" * 20_000 + "e", "." * 20_000, "9" * 5000)


# -- mutations: each takes (random, text) and returns the mutated text ---------------------------
def _gap(rng: random.Random, text: str) -> int:
    """Return a position between tokens (beside a blank or punctuation), else anywhere."""
    for _ in range(8):
        index = rng.randrange(len(text) + 1)
        if index == len(text) or text[index] in " \n,:{}()":
            return index
    return rng.randrange(len(text) + 1)


def _flip_char(rng: random.Random, text: str) -> str:
    index = rng.randrange(len(text))
    char = rng.choice(NASTY) if rng.random() < 0.5 else chr(rng.randrange(0x20, 0x3000))
    return text[:index] + char + text[index + 1:]


def _flip_bit(rng: random.Random, text: str) -> str:
    data = bytearray(text.encode("utf-8"))
    data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return data.decode("utf-8", "replace")


def _insert_nasty(rng: random.Random, text: str) -> str:
    index = _gap(rng, text)
    return text[:index] + rng.choice(NASTY) * rng.choice((1, 1, 2, 30)) + text[index:]


def _delete_span(rng: random.Random, text: str) -> str:
    start = rng.randrange(len(text))
    return text[:start] + text[start + rng.randint(1, 200):]


def _duplicate_span(rng: random.Random, text: str) -> str:
    start = rng.randrange(len(text))
    span = text[start:start + rng.randint(1, 400)]
    return text[:start] + span * rng.randint(2, 30) + text[start:]


def _truncate(rng: random.Random, text: str) -> str:
    return text[:rng.randrange(len(text))]


def _deep_nesting(rng: random.Random, text: str) -> str:
    depth = rng.choice((63, 64, 65, 100, 1000, 3000))
    opening, closing = rng.choice((("(", ")"), ("[", "]"), ("{'a': ", "}"), ("(", ",)"),
                                   ("Match({'a': ", "})")))
    inner = opening * depth + "'x'" + closing * depth
    index = text.find(": ", rng.randrange(len(text)))
    index = index + 2 if index >= 0 else _gap(rng, text)
    return text[:index] + inner + ", " + text[index:]


def _odd_key(rng: random.Random, text: str) -> str:
    """Replace a quoted string (a Match key or a value) with a hostile one."""
    start = text.find("'", rng.randrange(len(text)))
    end = text.find("'", start + 1) if start >= 0 else -1
    if end < 0:
        return _insert_nasty(rng, text)
    key = rng.choice(ODD_KEYS)
    return text[:start + 1] + key.replace("'", "") + text[end:]


def _odd_header(rng: random.Random, text: str) -> str:
    """Add or override a header field with a value of a wrong or hostile type."""
    index = text.find("{")
    if index < 0:
        return _insert_nasty(rng, text)
    field = f"\n    '{rng.choice(HEADER_FIELDS)}' : {rng.choice(ODD_VALUES)},"
    return text[:index + 1] + field + text[index + 1:] if rng.random() < 0.5 else \
        text.replace("\n}", field + "\n}", 1)


def _long_name(rng: random.Random, text: str) -> str:
    for suffix in (".imap'", ".rmap'", ".fits'", ".asdf'"):
        end = text.find(suffix, rng.randrange(len(text)))
        if end >= 0:
            start = text.rfind("'", 0, end)
            return text[:start + 1] + "a" * rng.choice((250, 260, 300, 5000)) + text[end:]
    return _odd_key(rng, text)


def _blanks_before_brace(rng: random.Random, text: str) -> str:
    index = text.find("}", rng.randrange(len(text)))
    if index < 0:
        index = text.rfind("}")
    blanks = rng.choice((" " * 30, " " * 200, "\n" * 50, "# c\n" * 30, "#" * 50, " #" * 50))
    return text[:index] + blanks + text[index:]


MUTATIONS: tuple[Callable[[random.Random, str], str], ...] = (
    _flip_char, _flip_bit, _insert_nasty, _delete_span, _duplicate_span, _truncate,
    _deep_nesting, _odd_key, _odd_header, _long_name, _blanks_before_brace,
)


def mutate(rng: random.Random, text: str) -> str:
    """One to three random mutations of `text`."""
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if text:
            text = rng.choice(MUTATIONS)(rng, text)
    return text


# -- the crafted cases: each input once that escaped or hung before, applied to every file --------
def _field(text: str, field: str) -> str:
    """`text` with a header field added first."""
    return text.replace("header = {", "header = {\n    " + field + ",", 1)


def _first_key(text: str, key: str) -> str:
    """`text` with the first quoted string of the selector replaced by `key`."""
    start = text.find("'", text.find("selector"))
    end = text.find("'", start + 1)
    return text[:start + 1] + key + text[end:] if start >= 0 and end > start else text


def _long_first_name(text: str) -> str:
    found = [text.find(suffix + "'") for suffix in (".imap", ".rmap", ".fits", ".asdf")]
    end = min((index for index in found if index >= 0), default=-1)
    return text if end < 0 else text[:text.rfind("'", 0, end) + 1] + "a" * 300 + text[end:]


CRAFTED: dict[str, Callable[[str], str]] = {
    "30 blanks before the last brace": lambda t: t[:t.rindex("}")] + " " * 30 + t[t.rindex("}"):],
    "1,000 nested parentheses": lambda t: _field(t, "'deep' : " + "(" * 1000 + "1" + ")" * 1000),
    "'NOT ' x3000 in a key": lambda t: _first_key(t, "NOT " * 3000 + "X"),
    "'not ' x3000 in rmap_relevance": lambda t: _field(t, "'rmap_relevance' : '" +
                                                         "not " * 3000 + "x'"),
    "a huge repeat in a regex key": lambda t: _first_key(t, "(a{99999999999})"),
    "an invalid regex key": lambda t: _first_key(t, "([)"),
    "parkey_relevance as a string": lambda t: _field(t, "'parkey_relevance' : 'x'"),
    "substitutions as a string": lambda t: _field(t, "'substitutions' : 'x'"),
    "a 300-character name": _long_first_name,
    **{f"{char!r} between tokens": (lambda t, c=char: t.replace("= {", "=" + c + "{", 1))
       for char in ("\v", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0", "\u2028")},
}


# -- the run ---------------------------------------------------------------------------------
def _use(mapping: object) -> None:
    """Use a mapping as lookups do: load what it names, look up once."""
    if isinstance(mapping, PipelineMapping):
        mapping.check_closure()
        for instrument in mapping.entries:
            mapping.imap(instrument)
    elif isinstance(mapping, InstrumentMapping):
        mapping.required_keys  # noqa: B018 - loads every rmap
    elif isinstance(mapping, ReferenceMapping):
        mapping.reference_names()
        header = dict.fromkeys(mapping.required_keys, "X")
        header.update({k: "2020-01-01T00:00:00" for k in header if "DATE" in k})
        mapping.lookup(header)


def _suites(corpus: Path) -> list[tuple[MappingLoader, list[tuple[Path, str]]]]:
    suites = []
    for suite in sorted(p for p in corpus.iterdir() if (p / "suite.json").is_file()):
        for folder in sorted((suite / "cache" / "mappings").iterdir()):
            layout = CacheLayout(suite / "cache", folder.name, readonly=True)
            loader = MappingLoader(layout.read_mapping_data, layout.has_mapping,
                                   ignore_checksum=True, label=str(folder))
            files = [(path, path.read_text(encoding="utf-8"))
                     for path in sorted(folder.iterdir())]
            suites.append((loader, files))
    return suites


@pytest.mark.slow
def test_mutants_fail_only_with_documented_errors(
    conformance_corpus: Path, cpu_limit: Callable[..., AbstractContextManager[None]]
) -> None:
    """The crafted cases on every file, then seeded mutants up to 20,000 inputs.

    No exception outside CsstCrdsError, none over a CPU second.
    """
    suites = _suites(conformance_corpus)
    targets = [(loader, path, text) for loader, files in suites for path, text in files]
    cases = [(f"{name} in {path.name}", loader, path, craft(text))
             for name, craft in CRAFTED.items() for loader, path, text in targets]
    rng = random.Random(SEED)
    for number in range(MUTANTS - len(cases)):
        loader, path, text = rng.choice(targets)
        cases.append((f"mutant {number} (seed {SEED}) of {path.name}", loader, path,
                      mutate(rng, text)))
    assert len(cases) >= MUTANTS
    outcomes = {"loaded": 0, "refused": 0}
    # The product's own warnings are expected; pytest restores the filters afterwards.
    warnings.simplefilter("ignore", CsstCrdsWarning)
    for number, (where, loader, path, mutant) in enumerate(cases):
        try:
            with cpu_limit(CPU_LIMIT_S, where):
                try:
                    _use(load_mapping(mutant, str(path), loader, ignore_checksum=True))
                    outcomes["loaded"] += 1
                except CsstCrdsError:
                    outcomes["refused"] += 1
                if number % CERTIFY_EVERY == 0:
                    certify_mapping(path, mutant)  # reports, never raises
        except Exception as exc:  # noqa: BLE001 - the point: nothing else may escape
            raise AssertionError(f"{where}: {type(exc).__name__} escaped: {exc!s:.300}; "
                                 f"text starts {mutant[:300]!r}") from exc
    # Both outcomes occur: the mutants are neither all fatal nor all harmless.
    assert outcomes["loaded"] > MUTANTS // 50 and outcomes["refused"] > MUTANTS // 2, outcomes
