"""Conditioning only the keys a lookup reads equals conditioning the whole header first."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import textwrap
from functools import partial
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.context import condition_parameters
from csst_crds_plugin.loader import MappingLoader, load_mapping
from csst_crds_plugin.rules import PairColumns
from csst_crds_plugin.selectors import SelectorOptions, condition_value, selector_class

KEYS = ["INSTRUME", "instrume", "Instrume", "DETECTOR", "detector", "READMODE", "readMode",
        "DATE-OBS", "date-obs", "TIME-OBS", "EXPTIME", "exptime", "OTHER", "META.X"]
VALUES = st.one_of(
    st.sampled_from(["MSC", "msc", " msc ", "06", "6", "08", "FAST", "fast", "N/A", "ANY",
                     "UNDEFINED", "2027-01-01", "2027-01-02", "00:00:00", "12:30:00.5", "nonsense",
                     ""]),
    st.integers(-5, 40), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
    st.none(), st.lists(st.integers(), max_size=2),
)
HEADERS = st.dictionaries(st.one_of(st.sampled_from(KEYS), st.integers(0, 3)), VALUES, max_size=10)


def _outcome(call):  # noqa: ANN001, ANN202 - a result, or the error's type and text
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - the comparison is the point
        return type(exc).__name__, str(exc)


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=HEADERS)
def test_prepared_header_equals_fully_conditioned(tiny_cache: Path, header: dict) -> None:
    pmap = ReferenceProvider(cache=tiny_cache, context="csst_0001.pmap").pmap

    def full():  # noqa: ANN202
        conditioned = condition_parameters(header, pmap.observatory)
        imap = pmap.imap(pmap.find_instrument(conditioned))
        return imap.name, pmap.minimise(conditioned, imap)

    def prepared():  # noqa: ANN202
        imap, minimal = pmap._prepare(header)
        return imap.name, minimal

    assert _outcome(prepared) == _outcome(full)

    def results(conditioned: bool):  # noqa: ANN202
        given_header = condition_parameters(header, pmap.observatory) if conditioned else header
        imap, found = pmap.best_references(given_header, conditioned=conditioned)
        return imap.name, {k: str(v) if isinstance(v, Exception) else v for k, v in found.items()}

    assert _outcome(lambda: results(False)) == _outcome(lambda: results(True))


SHORTCUT_RMAP = """
header = {
    'derived_from' : 'generated',
    'filekind' : 'BIAS',
    'instrument' : 'MSC',
    'mapping' : 'REFERENCE',
    'name' : 'csst_msc_bias_0001.rmap',
    'observatory' : 'CSST',
    'parkey' : (('DETECTOR', 'READMODE'), ('DATE-OBS', 'TIME-OBS')),
    'sha1sum' : '',
}

selector = Match({
    ('06', 'FAST') : UseAfter({
        '2027-01-01 00:00:00' : 'csst_msc_bias_0001.fits',
        '2027-01-02 00:00:00' : 'N/A',
        '2027-01-03 00:00:00' : 'OMIT',
        '2027-01-04 12:00:00' : 'csst_msc_bias_0002.fits',
    }),
    ('06', '*') : UseAfter({
        '2026-01-01 00:00:00' : 'csst_msc_bias_0003.fits',
    }),
    ('08', 'FAST|SLOW') : UseAfter({
        '2027-01-01 00:00:00' : 'csst_msc_bias_0004.fits',
    }),
    ('08', 'SLOW') : UseAfter({
        '2027-01-02 00:00:00' : 'csst_msc_bias_0005.fits',
    }),
    ('14', 'FAST') : UseAfter({
        '2027-01-01 00:00:00' : 'csst_msc_bias_0008.fits',
        '2027-01-02 00:00:00' : 'N/A',
        '2027-01-03 00:00:00' : 'OMIT',
        '2027-01-04 12:00:00' : 'csst_msc_bias_0009.fits',
        '2027-01-04 12:00:00.5' : 'csst_msc_bias_0010.fits',
    }),
    ('13', 'FAST') : UseAfter({
        '2027-01-01 00:00:00' : ('csst_msc_bias_0006.fits', 'csst_msc_bias_0007.fits'),
    }),
})
"""
MINIMAL_VALUES = {
    "DETECTOR": ["6.0", "8.0", "13.0", "14.0", "99.0", "UNDEFINED", "N/A"],
    "READMODE": ["FAST", "SLOW", "UNDEFINED", "*", "N/A"],
    "DATE-OBS": ["2025-12-31", "2026-06-01", "2027-01-01", "2027-01-02", "2027-01-03",
                 "2027-01-04", "2027/01/04", "2027-13-01", "UNDEFINED", "Jan 4 2027"],
    "TIME-OBS": ["00:00:00", "11:59:59.999999", "12:00:00", "12:00:00.5", "23:59:61",
                 "UNDEFINED", ""],
}


@functools.cache
def _fast_and_slow(rmap_text: str) -> tuple[Any, Any]:
    """Load the rmap twice: with its Match -> UseAfter shortcut, and without (general path)."""
    text = textwrap.dedent(rmap_text).lstrip("\n")
    loader = MappingLoader(lambda name: (name, text, (0, 0)), lambda name: True)
    fast = load_mapping(text, "csst_msc_bias_0001.rmap", loader, ignore_checksum=True)
    slow = load_mapping(text, "csst_msc_bias_0001.rmap", loader, ignore_checksum=True)
    slow._direct = None  # the general path only
    return fast, slow


def test_match_useafter_shortcut_equals_the_general_path() -> None:
    fast, slow = _fast_and_slow(SHORTCUT_RMAP)
    assert fast._direct is not None
    names = list(MINIMAL_VALUES)
    shortcut = 0
    for values in itertools.product(*MINIMAL_VALUES.values()):  # all 2,450 combinations
        header = dict(zip(names, values, strict=True))
        assert _outcome(partial(fast.lookup, header)) == _outcome(partial(slow.lookup, header)), \
            header
        shortcut += fast._direct_choice(header) is not None
    assert shortcut > 100  # the shortcut really answered many of them


_NUMBER = re.compile(r"^([-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?|[+-]?[0-9]+\.)$")
_NA = re.compile(r"^-2147483648.0|\(\)|N/A|NOT APPLICABLE|NOT_APPLICABLE$")
_SPECIAL = {"ANY": "*", "4294967295.0": "-1.0", "TRUE": "T", "FALSE": "F"}


def _conditioned_as_specified(text: str) -> str:
    """RULES.md §2 step by step, for str values."""
    value = text.strip().upper()
    if _NUMBER.match(value):
        value = repr(float(value))
    if _NA.match(value):
        return "N/A"
    return _SPECIAL.get(value, value)


@settings(max_examples=3000, deadline=None)
@given(text=st.one_of(
    st.text(alphabet="0123456789.:T-eE+ /NA()", max_size=14),
    st.from_regex(r"\A[0-9]{1,4}[-:T][0-9:T.-]{0,20}\Z"),  # the shapes recognised at once
    st.datetimes().map(lambda d: d.isoformat(sep=" ")),
    st.datetimes().map(lambda d: d.time().isoformat()),
))
def test_condition_value_follows_the_specification(text: str) -> None:
    assert condition_value(text) == _conditioned_as_specified(text)
    assert condition_value(text) == _conditioned_as_specified(text)  # and once remembered


DAY_RMAP = """
header = {
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
        '2027-01-01 00:00:00' : 'a_0001.fits',
        '2027-01-03' : 'a_0002.fits',
        '2027-01-05 12:00:00.25' : 'a_0003.fits',
        '2027-01-06 00:00:05.000004' : 'a_0010.fits',
        '2027/01/07 00:00:00' : 'a_0004.fits',
        '2027-01-08T06:00:00' : 'a_0005.fits',
        '2027-01-10 00:00:00' : 'N/A',
        '2027-01-12 00:00' : 'a_0006.fits',
        '2027-01-14 23:59:59.999999' : ('a_0007.fits', 'a_0008.fits'),
        '2027-02' : 'a_0009.fits',
    }),
})
"""
DAYS = st.dates(dt.date(2026, 12, 30), dt.date(2027, 2, 3)).map(str)
CLOCKS = st.builds(
    lambda h, m, s, f: f"{h:02d}:{m:02d}:{s:02d}{f}",
    st.integers(0, 25), st.integers(0, 61), st.integers(0, 61),
    st.one_of(st.just(""), st.from_regex(r"\A\.[0-9]{1,7}\Z")),
)


@settings(max_examples=3000, deadline=None)
@example(day="2027-01-06", clock="00:00:05.000004")  # CRDS's float arithmetic: .000003
@example(day="2027-01-06", clock="00:00:05.000005")
@example(day="2027-01-05", clock="12:00:00.25")
@example(day="2027-01-05", clock="12:00:00.249999")
@given(day=st.one_of(DAYS, st.sampled_from(["2027/01/07", "2027-02-30", "0000-01-01", "2027-1-4",
                                            "UNDEFINED", "", "2027-01-04T"])),
       clock=st.one_of(CLOCKS, st.sampled_from([
           "12:00", "1:02:03", "UNDEFINED", " 12:00:00", "12:00:00 UT", "12:00:00.", "",
           "12:00:00.2", "12:00:00.25", "12:00:00.250001", "12:00:00.3", "00:00:05.000004",
           "00:00:05.000005", "00:00:05"])))
def test_useafter_day_shortcut_equals_the_general_path(day: str, clock: str) -> None:
    """A (date, time) on a day no key starts with is answered without reformatting the time."""
    fast, slow = _fast_and_slow(DAY_RMAP)
    header = {"DETECTOR": "6.0", "DATE-OBS": day, "TIME-OBS": clock}
    assert _outcome(partial(fast.lookup, header)) == _outcome(partial(slow.lookup, header))



@settings(max_examples=500, deadline=None)
@given(name=st.sampled_from(["UseAfter", "Match", "SelectVersion", "ClosestTime"]),
       pairs=st.lists(st.tuples(st.sampled_from(["2027-01-01 00:00:00", "2027-01-02 00:00:00",
                                                 "2026-12-31 23:00:00", "2027-01-01",
                                                 "<3.0", "06", "6", "ANY", "*"]),
                                st.sampled_from(["a.fits", "b.fits", "N/A"])), max_size=8))
def test_a_block_kept_as_columns_builds_the_same_selector(name: str, pairs: list) -> None:
    """Columns that are in order skip the dict; any order, duplicates included, match pairs."""
    options = SelectorOptions(rmap="t.rmap")
    cls = selector_class(name)
    keys, values = [k for k, _ in pairs], [v for _, v in pairs]
    built = [_outcome(lambda e=e: (lambda s: (s.keys, s.choices, s.raw_keys))(
        cls.build(("DATE-OBS",), e, options))) for e in (PairColumns(keys, values), tuple(pairs))]
    assert built[0] == built[1]
