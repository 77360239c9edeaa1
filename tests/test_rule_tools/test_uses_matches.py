"""``csst-crds uses`` and ``csst-crds matches`` on real caches."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from csst_crds_plugin.cli.main import main
from csst_crds_plugin.tools.matches import matches
from csst_crds_plugin.tools.uses import uses

MAPPINGS = ("mappings", "csst")


@pytest.mark.parametrize(("file", "direct", "contexts"), [
    ("csst_msc_bias_0001.fits", ["csst_msc_bias_0001.rmap", "csst_msc_bias_0002.rmap"],
     ["csst_0001.pmap", "csst_0002.pmap"]),
    ("csst_msc_bias_0003.fits", ["csst_msc_bias_0002.rmap"], ["csst_0002.pmap"]),
    ("csst_msc_flat_0001.fits", ["csst_msc_flat_0001.rmap"], ["csst_0002.pmap"]),
    ("csst_msc_bias_0001.rmap", ["csst_msc_0001.imap"], ["csst_0001.pmap"]),
    ("csst_msc_0002.imap", ["csst_0002.pmap"], ["csst_0002.pmap"]),
    ("csst_msc_bias_0009.fits", [], []),
])
def test_uses_direct_mappings_and_contexts(two_contexts: Path, file: str, direct: list[str],
                                           contexts: list[str]) -> None:
    report = uses(file, cache=two_contexts)
    assert report.mappings == direct
    assert report.contexts == contexts
    assert report.used is bool(direct)


def test_uses_lists_the_path_upwards(two_contexts: Path) -> None:
    report = uses("csst_msc_bias_0003.fits", cache=two_contexts)
    assert report.users == ["csst_0002.pmap", "csst_msc_0002.imap", "csst_msc_bias_0002.rmap"]
    assert report.lines() == ["mapping csst_msc_bias_0002.rmap", "via csst_msc_0002.imap",
                              "context csst_0002.pmap"]


def test_uses_ignores_comments_and_reports_unreadable(two_contexts: Path,
                                                      texts: SimpleNamespace) -> None:
    folder = two_contexts.joinpath(*MAPPINGS)
    text = texts.rmap("csst_msc_bias_0005.rmap", "Match({\n"
                      "    # csst_msc_bias_0003.fits was here\n"
                      "    ('06', 'FAST') : UseAfter({\n"
                      "        '2027-01-01 00:00:00' : 'csst_msc_bias_0001.fits',\n"
                      "    }),\n})")
    (folder / "csst_msc_bias_0005.rmap").write_text(text)
    (folder / "csst_msc_0009.imap").write_text("header = {\n  'name' : 1 +\n")
    report = uses("csst_msc_bias_0003.fits", cache=two_contexts)
    assert report.mappings == ["csst_msc_bias_0002.rmap"]
    assert len(report.unreadable) == 1 and report.unreadable[0].startswith("csst_msc_0009.imap:")


def test_uses_command(two_contexts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["uses", "--cache", str(two_contexts), "csst_msc_flat_0001.fits"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "mapping csst_msc_flat_0001.rmap", "via csst_msc_0002.imap", "context csst_0002.pmap"]
    assert main(["uses", "--cache", str(two_contexts), "--format", "json",
                 "csst_msc_bias_0001.rmap", "nothing_0001.fits"]) == 1
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert [d["used"] for d in data] == [True, False]
    assert data[0]["contexts"] == ["csst_0001.pmap"]
    assert "nothing_0001.fits is named by no mapping" in out.err


def test_uses_refuses_unsafe_names_and_missing_cache(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["uses", "--cache", str(tmp_path), "x.fits"]) == 1
    assert "no mappings folder" in capsys.readouterr().err
    assert main(["uses", "--cache", str(tmp_path), ".."]) == 1
    assert "refusing file name '..'" in capsys.readouterr().err


def test_matches_in_operational_and_pinned_context(two_contexts: Path) -> None:
    report = matches("csst_msc_bias_0003.fits", cache=two_contexts)
    assert report.context == "csst_0002.pmap"        # the operational context
    (match,) = report.matches
    assert match.assignments() == [("DETECTOR", "06"), ("READMODE", "FAST"),
                                   ("DATE-OBS", "2027-01-02"), ("TIME-OBS", "00:00:00")]
    assert (match.instrument, match.reftype, match.rmap) == ("msc", "bias",
                                                             "csst_msc_bias_0002.rmap")
    assert str(match) == ("csst_msc_bias_0003.fits : MSC BIAS DETECTOR='06' READMODE='FAST' "
                          "DATE-OBS='2027-01-02' TIME-OBS='00:00:00' (csst_msc_bias_0002.rmap)")
    assert not matches("csst_msc_bias_0003.fits", cache=two_contexts,
                       context="csst_0001.pmap").found


def test_matches_every_path_and_selector_shape(tmp_path: Path, texts: SimpleNamespace) -> None:
    root = tmp_path / "cache"
    folder = root.joinpath(*MAPPINGS)
    folder.mkdir(parents=True)
    (folder / "csst_0001.pmap").write_text(texts.pmap("csst_0001.pmap",
                                                      {"MSC": "csst_msc_0001.imap"}))
    (folder / "csst_msc_0001.imap").write_text(texts.imap("csst_msc_0001.imap", {
        "gain": "csst_msc_gain_0001.rmap", "bias": "N/A"}))
    (folder / "csst_msc_gain_0001.rmap").write_text(texts.rmap(
        "csst_msc_gain_0001.rmap", "Match({\n"
        "    '06' : Bracket({\n        10.0 : 'g1.fits',\n        100.0 : 'g2.fits',\n    }),\n"
        "    '08|13' : Bracket({\n        10.0 : 'g2.fits',\n    }),\n"
        "    '14' : ('g2.fits', 'g3.fits'),\n})",
        parkey="(('DETECTOR',), ('EXPTIME',))", filekind="GAIN"))
    report = matches("g2.fits", cache=root, context="csst_0001.pmap")
    assert [m.assignments() for m in report.matches] == [
        [("DETECTOR", "06"), ("EXPTIME", 100.0)],
        [("DETECTOR", "08|13"), ("EXPTIME", 10.0)],
        [("DETECTOR", "14")],
    ]
    assert [m.classes for m in report.matches] == [("Match", "Bracket")] * 2 + [("Match",)]
    assert report.to_dict()["matches"][2]["selects"] == ["g2.fits", "g3.fits"]


def test_matches_command_json_and_failures(two_contexts: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matches", "--cache", str(two_contexts), "--format", "json",
                 "csst_msc_bias_0002.fits"]) == 0
    (data,) = json.loads(capsys.readouterr().out)
    assert data["context"] == "csst_0002.pmap"
    assert data["matches"][0]["parameters"] == {"DETECTOR": "08", "READMODE": "N/A",
                                                "DATE-OBS": "2027-01-01", "TIME-OBS": "00:00:00"}
    assert main(["matches", "--cache", str(two_contexts), "--context", "csst_0001.pmap",
                 "csst_msc_flat_0001.fits"]) == 1
    assert "no rule of csst_0001.pmap selects csst_msc_flat_0001.fits" in capsys.readouterr().err
    assert main(["matches", "--cache", str(two_contexts), "csst_msc_bias_0001.rmap"]) == 1
    assert "is a mapping" in capsys.readouterr().err


def test_matches_refuses_a_tampered_rmap(two_contexts: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    rmap = two_contexts.joinpath(*MAPPINGS, "csst_msc_bias_0002.rmap")
    rmap.write_text(rmap.read_text().replace("csst_msc_bias_0003.fits", "csst_msc_bias_0004.fits"))
    assert main(["matches", "--cache", str(two_contexts), "csst_msc_bias_0004.fits"]) == 1
    assert "sha1sum mismatch" in capsys.readouterr().err


def test_other_observatory_from_the_name(tmp_path: Path, texts: SimpleNamespace) -> None:
    # a TOBS-style cache: the observatory is the name's prefix when the cache has its mappings
    folder = tmp_path / "cache" / "mappings" / "tobs"
    folder.mkdir(parents=True)
    (folder / "tobs_0001.pmap").write_text(texts.pmap("tobs_0001.pmap",
                                                      {"CAM": "tobs_cam_0001.imap"}))
    (folder / "tobs_cam_0001.imap").write_text(texts.imap("tobs_cam_0001.imap",
                                                          {"bias": "tobs_cam_bias_0001.rmap"}))
    (folder / "tobs_cam_bias_0001.rmap").write_text(texts.rmap(
        "tobs_cam_bias_0001.rmap", "Match({\n    '1' : 'tobs_cam_bias_0001.fits',\n})",
        parkey="(('DETECTOR',),)"))
    report = uses("tobs_cam_bias_0001.fits", cache=tmp_path / "cache")
    assert report.contexts == ["tobs_0001.pmap"]
    (match,) = matches("tobs_cam_bias_0001.fits", cache=tmp_path / "cache",
                       context="tobs_0001.pmap").matches
    assert match.assignments() == [("DETECTOR", "1")]
