"""``csst-crds diff`` on mappings: contexts recursed down to the rules, exit codes 0/1/2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from csst_crds_plugin.cli.main import main
from csst_crds_plugin.tools.diffing import diff_files


def test_context_pair_down_to_the_rules(two_contexts: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diff", "--cache", str(two_contexts), "csst_0001.pmap", "csst_0002.pmap"])
    assert code == 1
    assert capsys.readouterr().out.splitlines() == [
        "csst_0002.pmap: replaced 'msc': csst_msc_0001.imap -> csst_msc_0002.imap",
        "csst_msc_0002.imap: replaced 'bias': csst_msc_bias_0001.rmap -> "
        "csst_msc_bias_0002.rmap",
        "csst_msc_0002.imap: added 'flat' -> csst_msc_flat_0001.rmap",
        "csst_msc_bias_0002.rmap: ('06', 'FAST') / '2027-01-02 00:00:00': "
        "added csst_msc_bias_0003.fits",
    ]


def test_boring_headers_on_request_and_json(two_contexts: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    report = diff_files("csst_msc_bias_0001.rmap", "csst_msc_bias_0002.rmap",
                        cache=two_contexts, boring=True)
    headers = {d.key: (d.old, d.new) for d in report.differences if d.to_dict()["type"] ==
               "header"}
    assert set(headers) == {"name", "derived_from", "sha1sum"}
    assert headers["derived_from"] == ("generated", "csst_msc_bias_0001.rmap")
    assert main(["diff", "--cache", str(two_contexts), "--format", "json",
                 "csst_msc_bias_0001.rmap", "csst_msc_bias_0002.rmap"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["same"] is False and data["kind"] == "mapping"
    (rule,) = data["differences"]
    assert rule["type"] == "rule" and rule["action"] == "added"
    assert rule["path"] == [["06", "FAST"], "2027-01-02 00:00:00"]
    assert rule["parameters"] == [["DETECTOR", "READMODE"], ["DATE-OBS", "TIME-OBS"]]
    assert rule["new"] == "csst_msc_bias_0003.fits"


def test_header_change_is_a_difference(tmp_path: Path, texts: SimpleNamespace) -> None:
    selector = "Match({\n    ('06', 'FAST') : 'a.fits',\n})"
    parkey = "(('DETECTOR', 'READMODE'),)"
    old = tmp_path / "csst_msc_bias_0001.rmap"
    new = tmp_path / "csst_msc_bias_0002.rmap"
    old.write_text(texts.rmap(old.name, selector, parkey=parkey))
    new.write_text(texts.rmap(new.name, selector, parkey=parkey,
                              extra="    'reffile_required' : 'NO',\n"))
    report = diff_files(old, new)
    assert [str(d) for d in report.differences] == [
        "csst_msc_bias_0002.rmap: header added 'reffile_required' = 'NO'"]


def test_same_file_exits_0_silently(two_contexts: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "--cache", str(two_contexts), "csst_0002.pmap", "csst_0002.pmap"]) == 0
    assert capsys.readouterr().out == ""


def test_missing_sub_mapping_is_a_note_not_a_failure(two_contexts: Path, tmp_path: Path) -> None:
    # copies of the imaps elsewhere, their rmaps nowhere: entries compared, rules not
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in ("csst_msc_0001.imap", "csst_msc_0002.imap"):
        shutil.copy(two_contexts / "mappings" / "csst" / name, elsewhere / name)
    report = diff_files(elsewhere / "csst_msc_0001.imap", elsewhere / "csst_msc_0002.imap",
                        cache=tmp_path / "empty")
    assert len(report.differences) == 2
    assert report.notes == [
        "csst_msc_bias_0001.rmap -> csst_msc_bias_0002.rmap not compared: "
        "csst_msc_bias_0001.rmap, csst_msc_bias_0002.rmap not found in "
        f"{elsewhere}, {tmp_path / 'empty' / 'mappings' / 'csst'}"]
    no_recurse = diff_files(elsewhere / "csst_msc_0001.imap", elsewhere / "csst_msc_0002.imap",
                            cache=tmp_path / "empty", recurse=False)
    assert no_recurse.notes == []


@pytest.mark.parametrize(("old", "new", "message"), [
    ("csst_0001.pmap", "csst_msc_bias_0001.rmap", "both must be the same kind"),
    ("csst_0001.pmap", "csst_msc_bias_0001.fits", "one is a mapping and the other a reference"),
    ("csst_0001.pmap", "csst_0077.pmap", "csst_0077.pmap: no such file, and no file of that "
                                         "name in the cache"),
])
def test_errors_exit_2_with_one_line(two_contexts: Path, capsys: pytest.CaptureFixture[str],
                                     old: str, new: str, message: str) -> None:
    assert main(["diff", "--cache", str(two_contexts), old, new]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("csst-crds diff: error:")


def test_syntax_error_names_file_and_line(two_contexts: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "csst_msc_bias_0009.rmap"
    good = two_contexts / "mappings" / "csst" / "csst_msc_bias_0001.rmap"
    broken.write_text(good.read_text().replace("'06', 'FAST'", "'06' + 'FAST'"))
    assert main(["diff", str(good), str(broken)]) == 2
    err = capsys.readouterr().err
    assert f"{broken}:13:" in err and "operators are not allowed" in err


def test_a_stale_sha1sum_is_noted(two_contexts: Path, tmp_path: Path) -> None:
    source = two_contexts / "mappings" / "csst" / "csst_msc_bias_0002.rmap"
    edited = tmp_path / "csst_msc_bias_0002.rmap"
    edited.write_text(source.read_text().replace("csst_msc_bias_0003.fits", "mine.fits"))
    report = diff_files(source, edited)
    assert [str(d).split(": ", 1)[1] for d in report.differences] == [
        "('06', 'FAST') / '2027-01-02 00:00:00': replaced csst_msc_bias_0003.fits with mine.fits"]
    [note] = report.notes
    assert note.startswith(f"{edited}: sha1sum mismatch: the header says ")
    assert note.endswith(f"if the edit is intended run `csst-crds checksum {edited}`")
