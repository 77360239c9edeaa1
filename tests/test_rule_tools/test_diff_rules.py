"""diff_rules: two rmaps' selector trees walked side by side; a case table of rule changes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from csst_crds_plugin.tools.diffing import RuleChange, diff_rules

UA = "(('DETECTOR', 'READMODE'), ('DATE-OBS', 'TIME-OBS'))"
D1, D2 = "2027-01-01 00:00:00", "2027-01-02 00:00:00"
BASE = """Match({
    ('06', 'FAST') : UseAfter({
        '2027-01-01 00:00:00' : 'b1.fits',
    }),
    ('08', 'A|B') : UseAfter({
        '2027-01-01 00:00:00' : 'b2.fits',
        '2027-01-02 00:00:00' : 'b3.fits',
    }),
})"""

# (case id, new selector text, expected [(action, path, old, new)])
CASES = [
    ("identical", BASE, []),
    ("or-list respelled is the same rule", BASE.replace("'A|B'", "'B | A'"), []),
    ("date added under an existing match",
     BASE.replace("'b1.fits',\n", f"'b1.fits',\n        '{D2}' : 'b9.fits',\n"),
     [("added", (("06", "FAST"), D2), None, "b9.fits")]),
    ("file replaced on the same date", BASE.replace("'b3.fits'", "'b4.fits'"),
     [("replaced", (("08", "A|B"), D2), "b3.fits", "b4.fits")]),
    ("match rule deleted: each of its files", """Match({
    ('06', 'FAST') : UseAfter({
        '2027-01-01 00:00:00' : 'b1.fits',
    }),
})""", [("deleted", (("08", "A|B"), D1), "b2.fits", None),
        ("deleted", (("08", "A|B"), D2), "b3.fits", None)]),
    ("new match rule", BASE[:-2] + """    ('13', 'N/A') : UseAfter({
        '2027-01-01 00:00:00' : 'b5.fits',
    }),
})""", [("added", (("13", "N/A"), D1), None, "b5.fits")]),
    ("a later duplicate key wins, as at lookup", BASE.replace(
        "    }),\n})", "    }),\n    ('06', 'FAST') : UseAfter({\n"
        "        '2027-01-01 00:00:00' : 'b7.fits',\n    }),\n})"),
     [("replaced", (("06", "FAST"), D1), "b1.fits", "b7.fits")]),
]


def _write(folder: Path, name: str, selector: str, texts: SimpleNamespace,
           parkey: str = UA) -> Path:
    path = folder / name
    path.write_text(texts.rmap(name, selector, parkey=parkey), encoding="utf-8")
    return path


def _summary(changes: list[RuleChange]) -> list[tuple[object, ...]]:
    return [(c.action, c.path, c.old, c.new) for c in changes]


@pytest.mark.parametrize(("new", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_change_cases(tmp_path: Path, texts: SimpleNamespace, new: str,
                           expected: list[tuple[object, ...]]) -> None:
    old_path = _write(tmp_path, "csst_msc_bias_0001.rmap", BASE, texts)
    new_path = _write(tmp_path, "csst_msc_bias_0002.rmap", new, texts)
    changes = diff_rules(old_path, new_path)
    assert _summary(changes) == expected
    for change in changes:
        assert change.parameters == (("DETECTOR", "READMODE"), ("DATE-OBS", "TIME-OBS"))
        assert change.classes == ("Match", "UseAfter")
        assert change.rmap == "csst_msc_bias_0002.rmap"


def test_text_form_names_rmap_path_and_file(tmp_path: Path, texts: SimpleNamespace) -> None:
    old_path = _write(tmp_path, "csst_msc_bias_0001.rmap", BASE, texts)
    new_path = _write(tmp_path, "csst_msc_bias_0002.rmap", CASES[2][1], texts)
    (change,) = diff_rules(old_path, new_path)
    assert str(change) == ("csst_msc_bias_0002.rmap: ('06', 'FAST') / '2027-01-02 00:00:00': "
                           "added b9.fits")
    assert change.to_dict()["path"] == [["06", "FAST"], D2]
    assert change.new_files() == ["b9.fits"] and change.old_files() == []


def test_added_or_removed_rmap_lists_every_rule(tmp_path: Path, texts: SimpleNamespace) -> None:
    path = _write(tmp_path, "csst_msc_bias_0001.rmap", BASE, texts)
    added = diff_rules(None, path)
    assert _summary(added) == [("added", (("06", "FAST"), D1), None, "b1.fits"),
                               ("added", (("08", "A|B"), D1), None, "b2.fits"),
                               ("added", (("08", "A|B"), D2), None, "b3.fits")]
    assert [c.action for c in diff_rules(path, None)] == ["deleted"] * 3


def test_selector_class_change_then_each_file(tmp_path: Path, texts: SimpleNamespace) -> None:
    parkey = "(('DETECTOR',), ('EXPTIME',))"
    old = _write(tmp_path, "g1.rmap", "Match({\n    '06' : Bracket({\n"
                 "        10.0 : 'g1.fits',\n        100.0 : 'g2.fits',\n    }),\n"
                 "    '08' : 'N/A',\n})", texts, parkey)
    new = _write(tmp_path, "g2.rmap", "Match({\n    '06' : GeometricallyNearest({\n"
                 "        10.0 : 'g1.fits',\n    }),\n"
                 "    '08' : Bracket({\n        1.0 : 'g3.fits',\n    }),\n})", texts, parkey)
    assert _summary(diff_rules(old, new)) == [
        ("different classes", ("06",), "Bracket", "GeometricallyNearest"),
        ("deleted", ("06", 10.0), "g1.fits", None),
        ("deleted", ("06", 100.0), "g2.fits", None),
        ("added", ("06", 10.0), None, "g1.fits"),
        ("deleted", ("08",), "N/A", None),        # a terminal became a nested selector
        ("added", ("08", 1.0), None, "g3.fits"),
    ]
    # N/A is not a file: it is reported but names no reference
    assert diff_rules(old, new)[4].old_files() == []


def test_tuple_and_dict_terminals_compare_by_content(tmp_path: Path,
                                                     texts: SimpleNamespace) -> None:
    parkey = "(('DETECTOR',),)"
    old = _write(tmp_path, "t1.rmap", "Match({\n    '06' : ('a.fits', 'b.fits'),\n"
                 "    '08' : {'x' : 'c.fits', 'y' : 'd.fits'},\n})", texts, parkey)
    same = _write(tmp_path, "t2.rmap", "Match({\n    '06' : ('a.fits', 'b.fits'),\n"
                  "    '08' : {'y' : 'd.fits', 'x' : 'c.fits'},\n})", texts, parkey)
    other = _write(tmp_path, "t3.rmap", "Match({\n    '06' : ('a.fits', 'e.fits'),\n"
                   "    '08' : {'x' : 'c.fits', 'y' : 'd.fits'},\n})", texts, parkey)
    assert diff_rules(old, same) == []
    (change,) = diff_rules(old, other)
    assert (change.action, change.old, change.new) == ("replaced", ("a.fits", "b.fits"),
                                                       ("a.fits", "e.fits"))
    assert change.new_files() == ["a.fits", "e.fits"]
