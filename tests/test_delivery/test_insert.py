"""CRDS insertion (RULES.md §10.4): a table of before/after rmaps, and the refusals."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from csst_crds_plugin.errors import ChecksumError
from csst_crds_plugin.loader import MappingLoader, load_mapping
from csst_crds_plugin.rules import parse_mapping, set_sha1sum
from csst_crds_plugin.tools.delivery import InsertionError, RmapInserter, insert_references

STD = (("DETECTOR", "READMODE"), ("DATE-OBS", "TIME-OBS"))


def rmap_text(selector: str, parkey: tuple[Any, ...] = STD, *, name: str = "x_0001.rmap",
              derived_from: str = "generated", **header: object) -> str:
    """Canonical rmap text (RULES.md §1.4: keys sorted, repr values) with a correct sha1sum."""
    fields: dict[str, object] = {
        "derived_from": derived_from, "filekind": "BIAS", "instrument": "MSC",
        "mapping": "REFERENCE", "name": name, "observatory": "CSST", "parkey": parkey,
        "sha1sum": "", **header,
    }
    lines = "".join(f"    {k!r} : {_canonical(fields[k])},\n" for k in sorted(fields))
    body = textwrap.dedent(selector).strip()
    return set_sha1sum(f"header = {{\n{lines}}}\n\nselector = {body}\n")


def _canonical(value: object) -> str:
    """repr, but a dict one entry per line, keys sorted (RULES.md §1.4)."""
    if not isinstance(value, dict):
        return repr(value)
    inner = "".join(f"        {k!r} : {value[k]!r},\n" for k in sorted(value))
    return "{\n" + inner + "    }"


def ref(detector: str = "06", readmode: str = "FAST", useafter: str = "2027-01-02T00:00:00",
        **extra: object) -> dict[str, object]:
    """Return a reference header as read from a file."""
    return {"INSTRUME": "MSC", "REFTYPE": "BIAS", "DETECTOR": detector, "READMODE": readmode,
            "USEAFTER": useafter, **extra}


BEFORE = """
    Match({
        ('06', 'FAST') : UseAfter({
            '2027-01-01 00:00:00' : 'csst_msc_bias_0001.fits',
        }),
        ('08', 'N/A') : 'N/A',
    })
"""

NESTED = (("DETECTOR",), ("FILTER",), ("DATE-OBS", "TIME-OBS"))
NESTED_BEFORE = """
    Match({
        '06' : Match({
            'y' : UseAfter({
                '2027-01-01 00:00:00' : 'a.fits',
            }),
        }),
    })
"""

# (id, parkey, extra header, before selector, reference header, after selector, replaced)
CASES = [
    ("add to an existing match tuple", STD, {}, BEFORE, ref(), """
        Match({
            ('06', 'FAST') : UseAfter({
                '2027-01-01 00:00:00' : 'csst_msc_bias_0001.fits',
                '2027-01-02 00:00:00' : 'new.fits',
            }),
            ('08', 'N/A') : 'N/A',
        })""", None),
    ("a new match tuple", STD, {}, BEFORE, ref("13", "NORMAL"), """
        Match({
            ('06', 'FAST') : UseAfter({
                '2027-01-01 00:00:00' : 'csst_msc_bias_0001.fits',
            }),
            ('08', 'N/A') : 'N/A',
            ('13', 'NORMAL') : UseAfter({
                '2027-01-02 00:00:00' : 'new.fits',
            }),
        })""", None),
    ("replace on the same date", STD, {}, BEFORE, ref(useafter="2027-01-01T00:00:00"), """
        Match({
            ('06', 'FAST') : UseAfter({
                '2027-01-01 00:00:00' : 'new.fits',
            }),
            ('08', 'N/A') : 'N/A',
        })""", "csst_msc_bias_0001.fits"),
    # '6' and 'fast' condition to the key ('06', 'FAST'): reused, with its spelling
    ("a key equal after conditioning", STD, {}, BEFORE,
     ref("6", "fast", "2027-01-03 12:00:00"), """
        Match({
            ('06', 'FAST') : UseAfter({
                '2027-01-01 00:00:00' : 'csst_msc_bias_0001.fits',
                '2027-01-03 12:00:00' : 'new.fits',
            }),
            ('08', 'N/A') : 'N/A',
        })""", None),
    ("a terminal above the last level becomes a path", STD, {}, BEFORE, ref("08", "N/A"), """
        Match({
            ('06', 'FAST') : UseAfter({
                '2027-01-01 00:00:00' : 'csst_msc_bias_0001.fits',
            }),
            ('08', 'N/A') : UseAfter({
                '2027-01-02 00:00:00' : 'new.fits',
            }),
        })""", "N/A"),
    ("nested selectors: into an inner Match", NESTED, {"classes": ("Match", "Match", "UseAfter")},
     NESTED_BEFORE, ref(FILTER="g"), """
        Match({
            '06' : Match({
                'g' : UseAfter({
                    '2027-01-02 00:00:00' : 'new.fits',
                }),
                'y' : UseAfter({
                    '2027-01-01 00:00:00' : 'a.fits',
                }),
            }),
        })""", None),
    ("nested selectors: a whole new path", NESTED, {"classes": ("Match", "Match", "UseAfter")},
     NESTED_BEFORE, ref("08", FILTER="g"), """
        Match({
            '06' : Match({
                'y' : UseAfter({
                    '2027-01-01 00:00:00' : 'a.fits',
                }),
            }),
            '08' : Match({
                'g' : UseAfter({
                    '2027-01-02 00:00:00' : 'new.fits',
                }),
            }),
        })""", None),
    ("UseAfter alone", (("DATE-OBS", "TIME-OBS"),), {"classes": ("UseAfter",)}, """
        UseAfter({
            '2027-01-01 00:00:00' : 'a.fits',
        })""", ref(useafter="2027-02-01T06:30:00"), """
        UseAfter({
            '2027-01-01 00:00:00' : 'a.fits',
            '2027-02-01 06:30:00' : 'new.fits',
        })""", None),
    ("UseAfter on one date parameter", (("DETECTOR",), ("USEDATE",)), {}, """
        Match({
            '06' : UseAfter({
                '2027-01-01 00:00:00' : 'a.fits',
            }),
        })""", ref(), """
        Match({
            '06' : UseAfter({
                '2027-01-01 00:00:00' : 'a.fits',
                '2027-01-02 00:00:00' : 'new.fits',
            }),
        })""", None),
    ("ClosestTime", (("DETECTOR",), ("DATE-OBS", "TIME-OBS")),
     {"classes": ("Match", "ClosestTime")}, """
        Match({
            '06' : ClosestTime({
                '2027-01-01 00:00:00' : 'a.fits',
            }),
        })""", ref(useafter="2026-12-01T00:00:00"), """
        Match({
            '06' : ClosestTime({
                '2026-12-01 00:00:00' : 'new.fits',
                '2027-01-01 00:00:00' : 'a.fits',
            }),
        })""", None),
    # VersionAfter keys compare as versions: '1.0.0' is the key '1.0', replaced under the new key
    ("VersionAfter, same version", (("DETECTOR",), ("SW_VERSION",)),
     {"classes": ("Match", "VersionAfter")}, """
        Match({
            '06' : VersionAfter({
                '1.0' : 'a.fits',
                '2.1' : 'b.fits',
            }),
        })""", ref(SW_VERSION="1.0.0"), """
        Match({
            '06' : VersionAfter({
                '1.0.0' : 'new.fits',
                '2.1' : 'b.fits',
            }),
        })""", "a.fits"),
    ("SelectVersion", (("DETECTOR",), ("SW_VERSION",)),
     {"classes": ("Match", "SelectVersion")}, """
        Match({
            '06' : SelectVersion({
                '<5' : 'a.fits',
                'default' : 'b.fits',
            }),
        })""", ref(SW_VERSION="<7"), """
        Match({
            '06' : SelectVersion({
                '<5' : 'a.fits',
                '<7' : 'new.fits',
                'default' : 'b.fits',
            }),
        })""", None),
    ("Bracket", (("DETECTOR",), ("EXPTIME",)), {"classes": ("Match", "Bracket")}, """
        Match({
            '06' : Bracket({
                10.0 : 'a.fits',
                100.0 : 'b.fits',
            }),
        })""", ref(EXPTIME=50), """
        Match({
            '06' : Bracket({
                10.0 : 'a.fits',
                50.0 : 'new.fits',
                100.0 : 'b.fits',
            }),
        })""", None),
    ("GeometricallyNearest", (("DETECTOR",), ("EXPTIME",)),
     {"classes": ("Match", "GeometricallyNearest")}, """
        Match({
            '06' : GeometricallyNearest({
                1.2 : 'a.fits',
                10.0 : 'b.fits',
            }),
        })""", ref(EXPTIME="10"), """
        Match({
            '06' : GeometricallyNearest({
                1.2 : 'a.fits',
                10.0 : 'new.fits',
            }),
        })""", "b.fits"),
    ("reference_to_dataset", (("DETECTOR",), ("DATE-OBS", "TIME-OBS")),
     {"reference_to_dataset": {"CCDCHIP": "DETECTOR"}}, """
        Match({
        })""", {"CCDCHIP": "14", "USEAFTER": "2027-01-02T00:00:00"}, """
        Match({
            '14' : UseAfter({
                '2027-01-02 00:00:00' : 'new.fits',
            }),
        })""", None),
    ("parkey_relevance makes a parameter N/A", STD,
     {"parkey_relevance": {"readmode": '(REFTYPE == "DARK")'}}, BEFORE, ref("13"), """
        Match({
            ('06', 'FAST') : UseAfter({
                '2027-01-01 00:00:00' : 'csst_msc_bias_0001.fits',
            }),
            ('08', 'N/A') : 'N/A',
            ('13', 'N/A') : UseAfter({
                '2027-01-02 00:00:00' : 'new.fits',
            }),
        })""", None),
    ("extra_keys are forced to N/A", STD, {"extra_keys": ("READMODE",)}, BEFORE, ref("13"), """
        Match({
            ('06', 'FAST') : UseAfter({
                '2027-01-01 00:00:00' : 'csst_msc_bias_0001.fits',
            }),
            ('08', 'N/A') : 'N/A',
            ('13', 'N/A') : UseAfter({
                '2027-01-02 00:00:00' : 'new.fits',
            }),
        })""", None),
    ("comment parkeys do not tell rules apart", STD, {"comment_parkeys": ("READMODE",)}, BEFORE,
     ref(readmode="NORMAL"), """
        Match({
            ('06', 'FAST') : UseAfter({
                '2027-01-01 00:00:00' : 'csst_msc_bias_0001.fits',
                '2027-01-02 00:00:00' : 'new.fits',
            }),
            ('08', 'N/A') : 'N/A',
        })""", None),
    ("or-lists compress and compare as sets", STD, {}, """
        Match({
            ('01|03', 'N/A') : UseAfter({
                '2027-01-01 00:00:00' : 'a.fits',
            }),
        })""", ref("03 | 01", "N/A"), """
        Match({
            ('01|03', 'N/A') : UseAfter({
                '2027-01-01 00:00:00' : 'a.fits',
                '2027-01-02 00:00:00' : 'new.fits',
            }),
        })""", None),
]


def _loads(text: str) -> Any:
    loader = MappingLoader(lambda name: ("", "", (0, 0)), lambda name: True)
    return load_mapping(text, "x_0002.rmap", loader)


@pytest.mark.parametrize(("parkey", "header", "before", "reference", "after", "replaced"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_insert_cases(parkey: tuple[Any, ...], header: dict[str, object], before: str,
                      reference: dict[str, object], after: str, replaced: object) -> None:
    old = rmap_text(before, parkey, **header)
    inserter = RmapInserter(parse_mapping(old, "x_0001.rmap"))
    done = inserter.insert(reference, "new.fits")
    assert done.replaced == replaced
    new = inserter.render("x_0002.rmap")
    assert new == rmap_text(after, parkey, name="x_0002.rmap", derived_from="x_0001.rmap",
                            **header)
    assert "new.fits" in _loads(new).reference_names()  # the new version loads (checksum too)


def test_inserted_reference_is_selected_for_its_own_parameters() -> None:
    inserter = RmapInserter(parse_mapping(rmap_text(BEFORE), "x_0001.rmap"))
    inserter.insert(ref(useafter="2027-01-05T00:00:00"), "new.fits")
    rmap = _loads(inserter.render("x_0002.rmap"))
    header = {"DETECTOR": "6.0", "READMODE": "FAST", "DATE-OBS": "2027-01-05",
              "TIME-OBS": "00:00:00"}
    assert rmap.lookup(header) == "new.fits"
    assert rmap.lookup({**header, "DATE-OBS": "2027-01-04"}) == "csst_msc_bias_0001.fits"


REFUSALS = [
    ("special case", STD, {}, """
        Match({
            ('06', '*') : UseAfter({
                '2027-01-01 00:00:00' : 'a.fits',
            }),
        })""", ref(), r"equal-weight special case of the existing case \('06', '\*'\)"),
    ("generalisation", STD, {}, BEFORE, ref(readmode="*"),
     r"equal-weight generalisation of the existing case \('06', 'FAST'\)"),
    ("or-list special case", STD, {}, """
        Match({
            ('06|08', 'FAST') : UseAfter({
                '2027-01-01 00:00:00' : 'a.fits',
            }),
        })""", ref(), "special case"),
    ("missing keyword", STD, {}, BEFORE, {"DETECTOR": "06", "USEAFTER": "2027-01-01"},
     r"sub\.fits: keyword\(s\) READMODE missing"),
    ("missing USEAFTER", STD, {}, BEFORE, {"DETECTOR": "06", "READMODE": "FAST"},
     r"DATE-OBS, TIME-OBS missing \(set USEAFTER\)"),
    ("malformed USEAFTER", STD, {}, BEFORE, ref(useafter="2027-13-45T00:00:00"),
     r"sub\.fits: USEAFTER='2027-13-45T00:00:00' is not a date/time"),
    ("Bracket value not a number", (("DETECTOR",), ("EXPTIME",)),
     {"classes": ("Match", "Bracket")}, """
        Match({
        })""", ref(EXPTIME="long"), r"EXPTIME='long' is not a number"),
    ("parkey and classes disagree", STD, {"classes": ("Match",)}, BEFORE, ref(),
     "one entry per nesting level"),
]


@pytest.mark.parametrize(("parkey", "header", "before", "reference", "message"),
                         [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS])
def test_insert_refusals(parkey: tuple[Any, ...], header: dict[str, object], before: str,
                         reference: dict[str, object], message: str) -> None:
    with pytest.raises(InsertionError, match=message):
        inserter = RmapInserter(parse_mapping(rmap_text(before, parkey, **header), "x.rmap"))
        inserter.insert(reference, "new.fits", "sub.fits")


def test_hst_only_warns_about_equal_weight_cases() -> None:
    before = """
        Match({
            ('06', '*') : UseAfter({
                '2027-01-01 00:00:00' : 'a.fits',
            }),
        })"""
    hst = RmapInserter(parse_mapping(rmap_text(before, observatory="HST"), "x.rmap"))
    hst.insert(ref(), "new.fits")
    assert "('06', 'FAST') : UseAfter" in hst.render("x_0002.rmap")
    strict = RmapInserter(parse_mapping(
        rmap_text(before, observatory="HST", merge_overlaps=False), "x.rmap"))
    with pytest.raises(InsertionError, match="special case"):
        strict.insert(ref(), "new.fits")


def test_two_files_at_one_match_path_are_refused() -> None:
    inserter = RmapInserter(parse_mapping(rmap_text(BEFORE), "x.rmap"))
    inserter.insert(ref(), "one.fits", "one.fits")
    with pytest.raises(InsertionError, match="two.fits: inserted at the same match path .* as "
                                             "one.fits"):
        inserter.insert(ref("6", "fast"), "two.fits", "two.fits")


def test_only_rmaps_take_references() -> None:
    pmap = set_sha1sum("header = {\n    'mapping' : 'PIPELINE',\n    'name' : 'x.pmap',\n"
                       "    'sha1sum' : '',\n}\n\nselector = {\n}\n")
    with pytest.raises(InsertionError, match="not an rmap"):
        RmapInserter(parse_mapping(pmap, "x.pmap"))


def test_insert_references_writes_the_next_version(tmp_path: Path, make_reference: Any) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "csst_msc_bias_0001.rmap").write_text(rmap_text(BEFORE), encoding="utf-8")
    (rules / "csst_msc_bias_0002.rmap").write_text("taken", encoding="utf-8")  # not overwritten
    first = make_reference("b1.fits", useafter="2027-01-02T00:00:00", READMODE="FAST")
    second = make_reference("b2.fits", detector="13", READMODE="FAST")
    result = insert_references(rules / "csst_msc_bias_0001.rmap", [first, second])
    assert result.rmap == rules / "csst_msc_bias_0003.rmap"
    assert (rules / "csst_msc_bias_0002.rmap").read_text(encoding="utf-8") == "taken"
    text = result.rmap.read_text(encoding="utf-8")
    assert "'name' : 'csst_msc_bias_0003.rmap'" in text
    assert "'derived_from' : 'csst_msc_bias_0001.rmap'" in text
    assert [i.filename for i in result.insertions] == ["b1.fits", "b2.fits"]
    assert sorted(_loads(text).reference_names()) == ["b1.fits", "b2.fits",
                                                      "csst_msc_bias_0001.fits"]


def test_insert_refuses_a_tampered_rmap(tmp_path: Path, make_reference: Any) -> None:
    path = tmp_path / "csst_msc_bias_0001.rmap"
    path.write_text(rmap_text(BEFORE).replace("0001.fits", "0009.fits"), encoding="utf-8")
    with pytest.raises(ChecksumError, match="csst_msc_bias_0001.rmap: sha1sum"):
        insert_references(path, [make_reference("b.fits")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["csst_msc_bias_0001.rmap", "submit"]
