"""Selectors in memory: matchers, conditioning, dates and each selector family's rules."""

from __future__ import annotations

import pytest

from csst_crds_plugin.errors import (
    AmbiguousMatchError,
    InvalidDateError,
    InvalidNumberError,
    InvalidValueError,
    InvalidVersionError,
    MissingParameterError,
    NoMatchError,
    ReferenceLookupError,
)
from csst_crds_plugin.selectors import SelectorOptions, condition_value, selector_class
from csst_crds_plugin.selectors.dates import DateFormatError, reformat_date
from csst_crds_plugin.selectors.matchers import make_matcher

OPTIONS = SelectorOptions(rmap="test.rmap")


def build(rule: str, parameters: tuple[str, ...], entries: dict[object, object],
          options: SelectorOptions = OPTIONS) -> object:
    return selector_class(rule).build(parameters, list(entries.items()), options)


@pytest.mark.parametrize(("raw", "conditioned"), [
    (" fast ", "FAST"), (1, "1.0"), ("00012", "12.0"), (".5", "0.5"), ("1.", "1.0"),
    ("1e3", "1000.0"), ("1E-5", "1e-05"), ("+3", "3.0"), ("-0", "-0.0"), (True, "T"),
    (False, "F"), ("true", "T"), ("any", "*"), ("N/A", "N/A"), ("not applicable", "N/A"),
    ("N/A FOO", "N/A"), ("-2147483648", "N/A"), (4294967295, "-1.0"), ("nan", "NAN"),
    ("0x10", "0X10"), ("", ""), ("iref$x.fits", "IREF$X.FITS"),
    (12345678901234567890, "1.2345678901234567e+19"), ("2020-01-01", "2020-01-01"),
])
def test_condition_value(raw: object, conditioned: str) -> None:
    assert condition_value(raw) == conditioned


@pytest.mark.parametrize(("key", "value", "status"), [
    ("FAST", "FAST", 1), ("FAST", "SLOW", -1), ("FAST", "*", 1), ("FAST", "N/A", 0),
    ("N/A", "*", 0), ("N/A", "X", 0), ("*", "UNDEFINED", 1), ("A|B", "B", 1), ("A|B", "C", -1),
    ("CCD3*", "CCD31", 1), ("CCD3*", "CCD41", -1), ("CCD0[1-3]|X", "CCD02", 1),
    ("CCD0[!1]|X", "CCD01", -1), ("(CCD0[1-5])", "CCD03X", 1), ("(ccd)", "CCD", -1),
    ("{E|F}", "E|F", 1), ("{E|F}", "E", -1), ("#>=1 AND <3#", "2.0", 1),
    ("#>=1 AND <3#", "3.0", -1), ("#<-1 OR >100#", "101.0", 1), ("#<-1 OR >100#", "5.0", -1),
    ("BETWEEN 100 200", "150.0", 1), ("BETWEEN 100 200", "200.0", -1), (">50", "50.5", 1),
    (">50", "X", -1), ("<=-5", "-5.0", 1), ("NOT FAST", "SLOW", 1), ("NOT FAST", "FAST", -1),
    ("NOT FAST", "*", -1), ("NOT FAST", "N/A", 0), ("#==5#", "5.0", -1),
    ("#>1 AND <3 AND <2#", "2.5", 1),  # D2 kept: the third term is ignored, as in CRDS
])
def test_matchers(key: str, value: str, status: int) -> None:
    assert make_matcher(key).match(value) == status


@pytest.mark.parametrize(("text", "normal"), [
    ("2020-01-02T03:04:05", "2020-01-02 03:04:05"), ("2020/01/02 03:04", "2020-01-02 03:04:00"),
    ("12/21/1999 05:42:35", "1999-12-21 05:42:35"), ("21/12/99 05:42:00 PM", "1999-12-21 17:42:00"),
    ("21/12/15", "2015-12-21 00:00:00"), ("19970114:053714", "1997-01-14 05:37:14"),
    ("Feb 08 2006 01:02AM", "2006-02-08 01:02:00"), ("July 27, 1999", "1999-07-27 00:00:00"),
    ("03-Jan-2013", "2013-01-03 00:00:00"), ("Dec 01 1993 00:00:00 UT", "1993-12-01 00:00:00"),
    ("2020-01-01 00:00:05.000004", "2020-01-01 00:00:05.000003"),  # CRDS's float arithmetic
    ("2020-01-01 12:00:00 AM", "2020-01-01 00:00:00"),
])
def test_dates(text: str, normal: str) -> None:
    assert reformat_date(text) == normal


@pytest.mark.parametrize("text", ["2021-1-1", "2020-01-01 24:00:00", "2020-01-01T10:00:00Z",
                                  "2020-01-01T10:00:00.1234567", "yesterday", "2020-13-01"])
def test_bad_dates(text: str) -> None:
    with pytest.raises(DateFormatError):
        reformat_date(text)


def test_match_fallback_to_next_rule() -> None:
    inner = selector_class("UseAfter")
    specific = inner.build(("DATE-OBS",), [("2020-01-01 00:00:00", "specific.fits")], OPTIONS)
    general = inner.build(("DATE-OBS",), [("2010-01-01 00:00:00", "general.fits")], OPTIONS)
    match = build("Match", ("A", "B"), {("A", "X"): specific, ("A", "*"): general})
    assert match.choose({"A": "A", "B": "X", "DATE-OBS": "2015-01-01"}) == "general.fits"
    assert match.choose({"A": "A", "B": "X", "DATE-OBS": "2021-01-01"}) == "specific.fits"
    with pytest.raises(NoMatchError, match="No match found"):
        match.choose({"A": "A", "B": "X", "DATE-OBS": "2001-01-01"})


def test_match_ties_give_sorted_tuples_and_merge_useafters() -> None:
    match = build("Match", ("A", "B"), {("A", "*"): "f1.fits", ("*", "X"): "f2.fits"})
    assert match.choose({"A": "A", "B": "X"}) == ("f2.fits", "f1.fits")
    ua = selector_class("UseAfter")
    one = ua.build(("D",), [("2020-01-01", "a.fits"), ("2021-01-01", "b.fits")], OPTIONS)
    two = ua.build(("D",), [("2020-01-01", "c.fits"), ("2022-01-01", "d.fits")], OPTIONS)
    merged = build("Match", ("A",), {"A|B": one, "A|C": two})
    assert merged.choose({"A": "A", "D": "2020-06-01"}) == "c.fits"  # greater name wins
    assert merged.choose({"A": "A", "D": "2021-06-01"}) == "b.fits"
    off = SelectorOptions(rmap="t.rmap", merge_overlaps=False)
    strict = build("Match", ("A",), {"A|B": one, "A|C": two}, off)
    with pytest.raises(AmbiguousMatchError):
        strict.choose({"A": "A", "D": "2021-06-01"})


def test_merging_a_file_with_a_tuple_at_one_date_is_a_lookup_failure() -> None:
    """CRDS compares the two choices and fails (``other``); the engine must not crash."""
    ua = selector_class("UseAfter")
    one = ua.build(("D",), [("2020-01-01", "a.fits")], OPTIONS)
    two = ua.build(("D",), [("2020-01-01", ("a.fits", "b.fits"))], OPTIONS)
    merged = build("Match", ("A",), {"A|B": one, "A|C": two})
    with pytest.raises(ReferenceLookupError, match="cannot be ordered") as failure:
        merged.choose({"A": "A", "D": "2020-06-01"})
    assert failure.value.category == "other"


def test_match_prevalidation_and_defined_check() -> None:
    match = build("Match", ("DETECTOR",), {"CCD01": "a.fits", "CCD02|CCD03": "b.fits"})
    with pytest.raises(InvalidValueError, match=r"parameter='DETECTOR' value='CCD09' is not in "
                                                r"\['CCD01', 'CCD02', 'CCD03'\]"):
        match.choose({"DETECTOR": "CCD09"})
    with pytest.raises(MissingParameterError, match="'DETECTOR' is undefined"):
        match.choose({})
    strict_glob = build("Match", ("D",), {"D*": "a.fits", "E": "b.fits"})
    with pytest.raises(InvalidValueError):  # the quirk: a partial glob column rejects DX first
        strict_glob.choose({"D": "DX"})


def test_select_version_table() -> None:
    sv = build("SelectVersion", ("V",), {"<3.1": "a", "<5": "b", "=6.5": "c", "default": "d"})
    got = [sv.choose({"V": value}) for value in ("2.0", "3.1", "5", "6.5", "7")]
    assert got == ["a", "b", "c", "c", "d"]
    with pytest.raises(InvalidNumberError):
        sv.choose({"V": "DEFAULT"})
    no_default = build("SelectVersion", ("V",), {"<2": "a", "<=4": "b", "==7": "c"})
    with pytest.raises(NoMatchError):
        no_default.choose({"V": "8"})


def test_version_after() -> None:
    va = build("VersionAfter", ("CALVER",), {"1.0": "a", "5.2.0rc1": "b", "5.10": "c"})
    assert va.choose({"CALVER": "5.9.9"}) == "b"
    assert va.choose({"CALVER": "5.10.1"}) == "c"
    with pytest.raises(InvalidVersionError):
        va.choose({"CALVER": "abc"})
    with pytest.raises(NoMatchError):
        va.choose({"CALVER": "0.9"})


def test_geometrically_nearest_orders_keys_as_strings() -> None:
    gn = build("GeometricallyNearest", ("T",), {1.2: "a", 1.5: "b", 5.0: "c", 10.0: "d"})
    assert gn.choose({"T": "7.5"}) == "d"  # the tie goes to '10.0', first in string order
    assert gn.choose({"T": "-100"}) == "a"
    with pytest.raises(InvalidNumberError, match="GeometricallyNearest Invalid number"):
        gn.choose({"T": "foo"})


def test_bracket() -> None:
    br = build("Bracket", ("X",), {1.2: "120", 1.5: "124", 5.0: "137"})
    assert [br.choose({"X": v}) for v in ("1.25", "1.0", "6", "1.5")] == [
        ("120", "124"), ("120", "120"), ("137", "137"), ("124", "124")]


def test_closest_time_ties_go_to_the_earlier_key() -> None:
    ct = build("ClosestTime", ("D",), {"2017-04-24 00:00:00": "early",
                                       "2018-02-01 00:00:00": "late"})
    assert ct.choose({"D": "2017-09-12 12:00:00"}) == "early"
    assert ct.choose({"D": "2030-01-01"}) == "late"
    with pytest.raises(InvalidDateError):
        ct.choose({"D": "UNDEFINED"})


def test_substitutions_apply_to_raw_keys() -> None:
    options = SelectorOptions(rmap="s.rmap", substitutions={"DET": {"DET2": "DET2|DET3"}})
    match = build("Match", ("DET", "SUB"), {("DET2", "SUB64"): "x.fits"}, options)
    assert match.choose({"DET": "DET3", "SUB": "SUB64"}) == "x.fits"
    assert match.raw_keys == [("DET2", "SUB64")]


def test_registry_refuses_a_name_twice() -> None:
    from csst_crds_plugin.selectors import Selector

    with pytest.raises(TypeError, match="registered twice"):
        type("Again", (Selector,), {}, rule_name="Match")


def test_the_parser_accepts_exactly_the_registered_selectors() -> None:
    """Adding a selector is a module plus its registration: the grammar follows the registry."""
    from csst_crds_plugin.rules.ir import SELECTOR_NAMES
    from csst_crds_plugin.selectors import registered_rule_names

    assert registered_rule_names() == SELECTOR_NAMES
