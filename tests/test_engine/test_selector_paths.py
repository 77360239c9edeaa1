"""Each selector's rule is decided once: every way of asking gives the general choice's answer.

For every selector kind, Hypothesis writes rmaps with that selector (alone or under a ``Match``,
with file names, tuples and ``N/A`` among the choices) and many headers, then asks four ways:

* the general path: ``Selector.choose``, with the rmap's direct shortcut switched off;
* ``best_references``, which takes the direct shortcut where the rmap has one;
* ``explain``, the tracer;
* ``best_references_many``, the vectorised bulk path.

All must give the general path's file, ``N/A`` or failure category. The conformance cases pin
the general path to CRDS (test_conformance); this file pins every other path to it, per
selector, on inputs no corpus lists.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.results import OMITTED, Selection

RMAP = """header = {{
    'derived_from' : 'generated',
    'filekind' : 'BIAS',
    'instrument' : 'MSC',
    'mapping' : 'REFERENCE',
    'name' : 'csst_msc_bias_0001.rmap',
    'observatory' : 'CSST',
    'parkey' : {parkey},
    'sha1sum' : '',
}}

selector = {selector}
"""

FILES = st.one_of(st.sampled_from(["a.fits", "b.fits", "c.fits", "d.fits"]),
                  st.sampled_from(["N/A", ("a.fits", "b.fits")]))
DATES = ["2026-12-31 23:00:00", "2027-01-01 00:00:00", "2027-01-02", "2027-01-02 12:00:00",
         "2027-01-03 00:00:00", "2027-01-03 00:00:00.5", "2027/01/04 00:00:00",
         "2027-01-04 00:00:00", "2027-01-04 06:00:00", "2027-01-05T06:00:00",
         "2027-01-05 06:00:00"]
CANONICAL = re.compile(r"\A\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\Z")
NUMBERS = ["1.2", "1.5", "5.0", "10.0", "0", "-3", "100"]
VERSIONS = ["<3.1", "<5", "=6.5", "<=2", "7", "default"]
DETECTORS = ["06", "08", "*", "N/A", "06|08", "13"]
READMODES = ["FAST", "SLOW", "*", "N/A", "F*"]

# Parameters of each kind, and the header values that exercise them (invalid ones included).
INNER: dict[str, tuple[tuple[str, ...], list[str]]] = {
    "UseAfter": (("DATE-OBS", "TIME-OBS"), DATES),
    "ClosestTime": (("DATE-OBS", "TIME-OBS"), DATES),
    "SelectVersion": (("SW_VERSION",), VERSIONS),
    "VersionAfter": (("CAL_VER",), ["1.0", "2.3", "5.2.0rc1", "5.10", "1.2.3.4", "7"]),
    "GeometricallyNearest": (("EXPTIME",), NUMBERS),
    "Bracket": (("EXPTIME",), NUMBERS),
}
# Header values per parameter: mostly ones the rules can select on, some that must fail.
HEADER_VALUES: dict[str, tuple[list[str], list[str]]] = {
    "DETECTOR": (["6", "06", "8", " 8 "], ["13", "99", "UNDEFINED", "N/A", "ANY"]),
    "READMODE": (["FAST", "slow", "SLOW"], ["UNDEFINED", "FX"]),
    "DATE-OBS": (["2026-06-01", "2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04",
                  "2027-01-05", "2027-02-01", "2027/01/04"], ["2027-13-01", "UNDEFINED"]),
    "TIME-OBS": (["00:00:00", "12:00:00", "00:00:00.5", "06:00:00", "06:00", "23:00:00"],
                 ["UNDEFINED", ""]),
    "SW_VERSION": (["1.0", "2", "3.1", "4.99", "6.5", "7", "100", "default"], ["1.2.3"]),
    "CAL_VER": (["0.9", "1.0", "1.0.1", "2.3", "5.2", "5.10.0", "6"], ["abc", "1.2.3.4.5"]),
    "EXPTIME": (["0", "1.0", "1.2", "1.25", "1.5", "3", "5.0", "7.5", "10", "150", "-5"],
                ["nonsense"]),
}


def _literal(value: object) -> str:
    return repr(value)


def _inner_text(kind: str, keys: list[str], files: list[object], indent: str) -> str:
    if kind in ("GeometricallyNearest", "Bracket"):
        keys_text = [k if kind == "Bracket" else repr(k) for k in keys]
    else:
        keys_text = [repr(k) for k in keys]
    rows = "".join(f"{indent}    {k} : {_literal(f)},\n" for k, f in zip(keys_text, files,
                                                                         strict=True))
    return f"{kind}({{\n{rows}{indent}}})"


Rule = tuple[str, tuple[str, ...], dict[str, list[str]]]
"""An rmap text, its parameters, and header values that sit exactly on its keys."""


def _on_keys(kind: str, key: str) -> dict[str, list[str]]:
    """Header values that equal `key` (a boundary: where an off-by-one shows)."""
    if kind in ("UseAfter", "ClosestTime"):
        day, _, clock = key.replace("T", " ").partition(" ")
        return {"DATE-OBS": [day], "TIME-OBS": [clock or "00:00:00"]}
    if kind == "SelectVersion":
        return {"SW_VERSION": [key.lstrip("<=")]}
    if kind == "VersionAfter":
        return {"CAL_VER": [key]}
    if kind in ("GeometricallyNearest", "Bracket"):
        return {"EXPTIME": [key]}
    return {}


@st.composite
def rmaps(draw: st.DrawFn, kind: str) -> Rule:
    """Draw an rmap text whose selector is ``kind`` (alone, or under a one- or two-key Match)."""
    edges: dict[str, list[str]] = {}
    if kind == "Match":
        width = draw(st.integers(1, 2))
        params = ("DETECTOR", "READMODE")[:width]
        pools = (DETECTORS, READMODES)[:width]
        keys = draw(st.lists(st.tuples(*(st.sampled_from(p) for p in pools)), min_size=1,
                             max_size=6, unique=True))
        for key in keys:
            for name, element in zip(params, key, strict=False):
                edges.setdefault(name, []).extend(element.split("|"))
        rows = "".join(
            f"    {repr(k[0]) if width == 1 else repr(k)} : {_literal(draw(FILES))},\n"
            for k in keys)
        return RMAP.format(parkey=repr((params,)), selector=f"Match({{\n{rows}}})"), params, \
            edges
    params, pool = INNER[kind]
    nested = draw(st.booleans())

    def block(indent: str) -> str:
        plain = [k for k in pool if CANONICAL.match(k)]  # the keys the bulk path vectorises
        key = st.integers(0, 3).flatmap(
            lambda n: st.sampled_from(pool if n == 0 or not plain else plain))
        keys = draw(st.lists(key, min_size=1, max_size=6, unique=True))
        for key in keys:
            for name, values in _on_keys(kind, key).items():
                edges.setdefault(name, []).extend(values)
        files = [draw(FILES) for _ in keys]
        return _inner_text(kind, keys, files, indent)

    if not nested:
        return RMAP.format(parkey=repr((params,)), selector=block("")), params, edges
    outer = draw(st.lists(st.sampled_from(["06", "08", "*", "06|08"]), min_size=1, max_size=3,
                          unique=True))
    rows = "".join(f"    {k!r} : {block('    ')},\n" for k in outer)
    parkey = (("DETECTOR",), params)
    return RMAP.format(parkey=repr(parkey), selector=f"Match({{\n{rows}}})"), \
        ("DETECTOR", *params), edges


def headers(params: tuple[str, ...], edges: dict[str, list[str]]
            ) -> st.SearchStrategy[dict[str, str]]:
    """Headers with the rmap's parameters and the instrument.

    Half the values sit on the rule's keys, most others are plain values, and about 1 in 8 is
    bad or absent.
    """
    def field(name: str) -> st.SearchStrategy[str | None]:
        good, bad = HEADER_VALUES[name]
        on_keys = edges.get(name) or good
        return st.integers(0, 7).flatmap(
            lambda n: st.sampled_from([*bad, None]) if n == 0
            else st.sampled_from(on_keys) if n <= 4 else st.sampled_from(good))

    fields = {p: field(p) for p in params}
    return st.fixed_dictionaries(fields).map(
        lambda h: {"INSTRUME": "MSC", **{k: v for k, v in h.items() if v is not None}})


def _of_selection(selection: Selection | None) -> object:
    if selection is None:
        return "OMITTED"
    if selection.error is not None:
        return ("error", getattr(selection.error, "category", "other"))
    return selection.value


def _one(provider: ReferenceProvider, header: dict[str, str]) -> object:
    try:
        found = provider.best_references(header, ["bias"], errors="collect")
    except CsstCrdsError as exc:
        return ("error", getattr(exc, "category", "other"))
    return _of_selection(found.get("bias"))


def _explained(provider: ReferenceProvider, header: dict[str, str]) -> object:
    trace = provider.explain(header, "bias")
    if trace.error is not None:
        return ("error", trace.category)
    return "OMITTED" if trace.result is OMITTED else trace.result


def _bulk(provider: ReferenceProvider, many: list[dict[str, str]]) -> list[object]:
    try:
        found = provider.best_references_many(many, ["bias"])
    except CsstCrdsError as exc:
        return [("error", getattr(exc, "category", "other"))] * len(many)
    return [_of_selection(found.row(i).get("bias")) for i in range(len(many))]


def _check_paths(kind: str, rule: Rule, many: list[dict[str, str]],
                 cache_builder: Callable[..., Path], tiny_texts: dict[str, str]) -> None:
    rmap = rule[0]
    mappings = {**tiny_texts, "csst_msc_bias_0001.rmap": rmap}  # the tiny cache, this bias rule
    with tempfile.TemporaryDirectory() as scratch:  # one cache per example: mappings are per path
        fast = ReferenceProvider(cache=cache_builder(mappings, root=Path(scratch) / "fast"),
                                 context="csst_0001.pmap")
        slow = ReferenceProvider(cache=cache_builder(mappings, root=Path(scratch) / "slow"),
                                 context="csst_0001.pmap")
        try:
            general_rmap = slow.pmap.imap("msc").rmap("bias")
        except CsstCrdsError:
            general_rmap = None  # the rmap does not load: every path must say so alike
        if general_rmap is not None:
            general_rmap._direct = None  # the general path only: Selector.choose
        general = [_one(slow, h) for h in many]
        direct = [_one(fast, h) for h in many]
        explained = [_explained(fast, h) for h in many]
        bulk = _bulk(fast, many)
    for header, want, one, traced, vectorised in zip(many, general, direct, explained, bulk,
                                                     strict=True):
        context = f"{kind} rule:\n{rmap}\nheader {header}"
        assert one == want, f"direct path {one!r} != general {want!r}\n{context}"
        assert traced == want, f"explain {traced!r} != general {want!r}\n{context}"
        assert vectorised == want, f"bulk {vectorised!r} != general {want!r}\n{context}"


KINDS = ["Match", "UseAfter", "ClosestTime", "VersionAfter", "SelectVersion",
         "GeometricallyNearest", "Bracket"]
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


def _make_test(kind: str) -> Callable[..., None]:
    @SETTINGS
    @given(rule=rmaps(kind), data=st.data())
    def test(rule: Rule, data: st.DataObject, cache_builder: Callable[..., Path],
             tiny_texts: dict[str, str]) -> None:
        many = data.draw(st.lists(headers(rule[1], rule[2]), min_size=1, max_size=25))
        _check_paths(kind, rule, many, cache_builder, tiny_texts)

    test.__name__ = f"test_every_path_agrees_with_the_general_choice_{kind}"
    test.__doc__ = f"{kind}: direct, explain and bulk paths give Selector.choose's answer."
    return test


for _kind in KINDS:
    globals()[f"test_every_path_agrees_with_the_general_choice_{_kind}"] = _make_test(_kind)


def test_the_kinds_cover_every_registered_selector() -> None:
    """A new selector must join this file's property test (the docs' checklist says so)."""
    from csst_crds_plugin.selectors import registered_rule_names

    assert set(KINDS) == set(registered_rule_names())
