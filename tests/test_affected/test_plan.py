"""What is compared: the plan from mapping names, and the outcome rule on small hand-made cases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.errors import CsstCrdsError, InvalidDateError, NoMatchError
from csst_crds_plugin.results import NOT_APPLICABLE, Selection
from csst_crds_plugin.tools.affected import Catalog, compare_rows, find_affected, plan_changes
from csst_crds_plugin.tools.affected.find import prepare_job

OLD, NEW = "csst_0001.pmap", "csst_0002.pmap"


def test_plan_lists_only_changed_instruments_and_types(contexts: Path) -> None:
    old = ReferenceProvider(cache=contexts, context=OLD).pmap
    new = ReferenceProvider(cache=contexts, context=NEW).pmap
    plan = plan_changes(old, new)
    # MSC: bias and flat rmaps changed; gain, fringe (N/A), crosstalk (OMIT) did not.
    # IFS exists only in the new context: every type. MCI and CPIC entries are the same.
    assert plan.instruments == {"msc": ("bias", "flat"), "ifs": None}
    assert set(plan.unchanged) == {"mci", "cpic"}
    assert plan_changes(old, old).instruments == {}


def test_identical_contexts_look_nothing_up(contexts: Path,
                                            rows_maker: Callable[..., list[dict]]) -> None:
    catalog = Catalog.from_rows(rows_maker(500))
    report = find_affected(catalog, OLD, OLD, cache=contexts)
    assert (report.total, report.examined, report.affected) == (500, 0, 0)


def test_missing_mapping_fails_before_any_lookup(contexts: Path, tmp_path: Path) -> None:
    broken = tmp_path / "cache"
    (broken / "mappings" / "csst").mkdir(parents=True)
    for path in (contexts / "mappings" / "csst").iterdir():
        if path.name != "csst_msc_flat_0002.rmap":
            (broken / "mappings" / "csst" / path.name).write_bytes(path.read_bytes())
    with pytest.raises(CsstCrdsError, match="csst_msc_flat_0002.rmap"):
        prepare_job(OLD, NEW, cache=broken)


_PMAP = """\
header = {{
    'derived_from' : 'generated',
    'mapping' : 'PIPELINE',
    'name' : '{name}',
    'observatory' : 'CSST',
    'parkey' : ('INSTRUME',),
    'sha1sum' : '',
}}

selector = {{
    'MSC' : '{imap}',
}}
"""
_IMAP = """\
header = {{
    'derived_from' : 'generated',
    'instrument' : 'MSC',
    'mapping' : 'INSTRUMENT',
    'name' : '{name}',
    'observatory' : 'CSST',
    'parkey' : ('REFTYPE',),
    'sha1sum' : '',
}}

selector = {{
{entries}}}
"""
_RMAP = """\
header = {{
    'derived_from' : 'generated',
    'filekind' : '{kind}',
    'instrument' : 'MSC',
    'mapping' : 'REFERENCE',
    'name' : '{name}',
    'observatory' : 'CSST',
    'parkey' : (('{key}',),),
    'sha1sum' : '',{extra}
}}

selector = Match({{
    '*' : 'csst_msc_{kind_lower}_{key_lower}.fits',
}})
"""


def _rmap(name: str, kind: str, key: str, extra: str = "") -> str:
    return _RMAP.format(name=name, kind=kind.upper(), kind_lower=kind, key=key,
                        key_lower=key.lower(), extra=extra)


def test_expression_rmap_sees_keys_another_rmap_brings(cache_builder: Callable[..., Path]
                                                       ) -> None:
    """An unchanged rmap whose rmap_relevance names a key only a *new* rmap requires.

    In the old context BREAPHAS is not a lookup key of MSC, so the expression cannot see it and
    CRDS treats the type as relevant; the new context's psf rmap adds BREAPHAS to the
    minimised header, and the same (unchanged) flat rmap then becomes N/A for hot datasets.
    """
    relevance = "\n    'rmap_relevance' : '(BREAPHAS != \"HOT\")',"
    root = cache_builder(mappings={
        OLD: _PMAP.format(name=OLD, imap="csst_msc_0001.imap"),
        NEW: _PMAP.format(name=NEW, imap="csst_msc_0002.imap"),
        "csst_msc_0001.imap": _IMAP.format(name="csst_msc_0001.imap",
                                           entries="    'flat' : 'csst_msc_flat_0001.rmap',\n"),
        "csst_msc_0002.imap": _IMAP.format(
            name="csst_msc_0002.imap", entries="    'flat' : 'csst_msc_flat_0001.rmap',\n"
                                               "    'psf' : 'csst_msc_psf_0001.rmap',\n"),
        "csst_msc_flat_0001.rmap": _rmap("csst_msc_flat_0001.rmap", "flat", "DETECTOR",
                                         relevance),
        "csst_msc_psf_0001.rmap": _rmap("csst_msc_psf_0001.rmap", "psf", "BREAPHAS"),
    })
    rows = [{"INSTRUME": "MSC", "DETECTOR": "06", "BREAPHAS": phase}
            for phase in ("HOT", "COLD", "HOT")]
    report = find_affected(Catalog.from_rows(rows), OLD, NEW, cache=root)
    assert report.plan.instruments == {"msc": ("flat", "psf")}
    changes = {d["id"]: d["changes"] for d in report.datasets()}
    # psf is new for every row; flat changes only for the hot ones
    assert changes[1] == {"flat": {"old": "csst_msc_flat_detector.fits", "new": "N/A"},
                          "psf": {"old": None, "new": "csst_msc_psf_breaphas.fits"}}
    assert changes[2] == {"psf": {"old": None, "new": "csst_msc_psf_breaphas.fits"}}
    assert changes[3] == changes[1]


def _sel(value: object = None, error: Exception | None = None) -> Selection:
    return Selection("t", value, error)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ({"bias": _sel("a.fits")}, {"bias": _sel("a.fits")}, {}),
    ({"bias": _sel("a.fits")}, {"bias": _sel("b.fits")}, {"bias": ("a.fits", "b.fits")}),
    # errors of one category are the same outcome, whatever their messages
    ({"bias": _sel(error=NoMatchError("x"))}, {"bias": _sel(error=NoMatchError("y"))}, {}),
    ({"bias": _sel(error=NoMatchError("x"))}, {"bias": _sel(error=InvalidDateError("x"))},
     {"bias": ({"error": "no-match", "message": "x"},
               {"error": "invalid-date", "message": "x"})}),
    # omitted (absent from the result) to N/A, and a new type
    ({}, {"fringe": _sel(NOT_APPLICABLE)},
     {"fringe": (None, "N/A")}),
    # a whole-lookup failure stands for every type of the other side
    (NoMatchError("gone"), {"bias": _sel("a.fits")},
     {"bias": ({"error": "no-match", "message": "gone"}, "a.fits")}),
    # no type on either side: the whole lookups are compared under "*"
    (NoMatchError("x"), InvalidDateError("y"), {"*": ({"error": "no-match", "message": "x"},
                                       {"error": "invalid-date", "message": "y"})}),
    (NoMatchError("x"), NoMatchError("y"), {}),
    (NoMatchError("x"), {}, {"*": ({"error": "no-match", "message": "x"}, None)}),
])
def test_outcome_rule(old: object, new: object, expected: dict[str, object]) -> None:
    assert compare_rows(old, new) == expected  # type: ignore[arg-type]

