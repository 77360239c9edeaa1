"""Rough edges a new user hit: bare mapping names, CSST_CRDS_PATH in certify, help texts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from astropy.io import fits

from csst_crds_plugin.cli.main import COMMANDS, build_parser, main
from csst_crds_plugin.rules import compute_sha1sum, set_sha1sum


def test_checksum_takes_a_bare_mapping_name_from_the_cache(
        demo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    cache = demo / "cache"
    path = cache / "mappings" / "csst" / "csst_msc_bias_0003.rmap"
    text = path.read_text(encoding="utf-8")
    edited = text.replace("'derived_from'", "'comment' : 'edited',\n    'derived_from'", 1)
    path.write_text(edited, encoding="utf-8")
    monkeypatch.setenv("CSST_CRDS_PATH", str(cache))
    monkeypatch.chdir(tmp_path)  # the name is not a file here
    assert main(["checksum", "csst_msc_bias_0003.rmap"]) == 0
    assert f"updated sha1sum: {path}" in capsys.readouterr().out
    fixed = path.read_text(encoding="utf-8")
    assert f"'sha1sum' : '{compute_sha1sum(fixed)}'" in fixed
    assert main(["checksum", "--verify", "csst_msc_bias_0003.rmap"]) == 0


def _copy_reference(demo: Path, name: str, target: Path) -> Path:
    (found,) = (demo / "cache" / "references").rglob(name)
    shutil.copyfile(found, target)
    return target


def test_certify_without_cache_uses_csst_crds_path(
        demo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    rmap = tmp_path / "csst_msc_bias_0099.rmap"
    text = (demo / "cache" / "mappings" / "csst" / "csst_msc_bias_0004.rmap").read_text()
    text = text.replace("csst_msc_bias_0007.fits", "csst_msc_bias_9999.fits")
    rmap.write_text(set_sha1sum(text.replace("csst_msc_bias_0004.rmap", rmap.name)))
    assert main(["certify", str(rmap)]) == 0  # no cache: names are not checked
    capsys.readouterr()
    monkeypatch.setenv("CSST_CRDS_PATH", str(demo / "cache"))
    assert main(["certify", str(rmap)]) == 1
    assert "names the reference csst_msc_bias_9999.fits, which is not in the cache" in \
        capsys.readouterr().out


def test_a_name_shaped_like_a_cache_name_is_not_taken_for_one(
        demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    copy = _copy_reference(demo, "csst_msc_bias_0007.fits", tmp_path / "copy_of_bias_0013.fits")
    assert main(["certify", str(copy), "--format", "json"]) == 0, capsys.readouterr().out
    report = json.loads(capsys.readouterr().out)
    assert not any("file name says" in m for f in report["files"] for m in f["errors"])
    # a real cache name still has to agree with the header
    wrong = _copy_reference(demo, "csst_msc_bias_0007.fits",
                            tmp_path / "csst_msc_dark_0013.fits")
    assert main(["certify", str(wrong)]) == 1
    assert "the file name says REFTYPE DARK, the header says BIAS" in capsys.readouterr().out


def test_help_texts_carry_no_markup() -> None:
    parser = build_parser(COMMANDS)
    texts = [parser.format_help()]
    sub = next(a for a in parser._actions if a.dest == "command").choices
    texts += [command.format_help() for command in sub.values()]
    for text in texts:
        assert "`" not in text, text[:200]


def test_sync_verify_says_how_many_files_it_checked(
        demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = demo / "cache"
    count = sum(1 for p in (cache / "mappings").rglob("*") if p.is_file()) + \
        sum(1 for p in (cache / "references").rglob("*") if p.is_file())
    assert main(["sync", "--verify", "--cache", str(cache)]) == 0
    assert f"verified {count} files: 0 problem(s)" in capsys.readouterr().out


def test_fits_header_of_the_copy_is_unchanged(demo: Path, tmp_path: Path) -> None:
    copy = _copy_reference(demo, "csst_msc_bias_0007.fits", tmp_path / "b.fits")
    assert fits.getheader(copy)["REFTYPE"] == "BIAS"
