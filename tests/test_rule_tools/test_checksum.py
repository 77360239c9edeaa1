"""``csst-crds checksum``: mapping sha1sums added, fixed and verified; the reference manifest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.cache import CacheLayout
from csst_crds_plugin.cli.main import main
from csst_crds_plugin.errors import (
    ChecksumError,
    ReadOnlyCacheError,
    RuleSyntaxError,
    RuleValidationError,
)
from csst_crds_plugin.tools.file_checksums import rewrite_sha1sums, verify_files, write_manifest
from csst_crds_plugin.tools.verify import verify_cache

PARAMS = {"INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "FAST", "DATE-OBS": "2027-01-02",
          "TIME-OBS": "12:00:00"}


def _sha1_without_sha1sum_lines(text: str) -> str:
    kept = "".join(line for line in text.splitlines(keepends=True) if "sha1sum" not in line)
    return hashlib.sha1(kept.encode()).hexdigest()  # noqa: S324 (CRDS's format)


def _rmap_path(cache: Path, name: str = "csst_msc_bias_0002.rmap") -> Path:
    return cache / "mappings" / "csst" / name


def test_stale_sha1sum_fixed_in_place_keeping_comments(two_contexts: Path) -> None:
    rmap = _rmap_path(two_contexts)
    text = rmap.read_text().replace("'2027-01-02 00:00:00'", "'2027-01-02 06:00:00'")
    text = text.replace("selector = ", "# moved to 06:00 after review\nselector = ")
    rmap.write_text(text)
    assert rewrite_sha1sums([rmap], cache=two_contexts) == [str(rmap)]
    new = rmap.read_text()
    assert "# moved to 06:00 after review" in new
    assert f"'sha1sum' : '{_sha1_without_sha1sum_lines(new)}'" in new
    assert rewrite_sha1sums([rmap], cache=two_contexts) == []        # already correct
    provider = ReferenceProvider(two_contexts, "csst_0002.pmap")
    assert provider.best_references(PARAMS, ["bias"])["bias"].files() == [
        "csst_msc_bias_0003.fits"]
    assert not [p for p in rmap.parent.iterdir() if p.name.startswith(".tmp-")]


def test_missing_sha1sum_added_by_canonical_rewrite(tmp_path: Path,
                                                   texts: SimpleNamespace) -> None:
    selector = ("Match({\n    # chip 06 only\n    ('06', 'FAST') : UseAfter({\n"
                "        '2027-01-01 00:00:00' : 'a.fits',\n    }),\n})")
    text = texts.rmap("csst_msc_bias_0001.rmap", selector)
    text = "".join(line for line in text.splitlines(keepends=True) if "sha1sum" not in line)
    path = tmp_path / "csst_msc_bias_0001.rmap"
    path.write_text(text)
    assert verify_files([path])[0].problem.startswith("no sha1sum in the header")
    assert rewrite_sha1sums([path]) == [str(path)]
    new = path.read_text()
    assert "# chip 06 only" not in new                   # canonical form drops comments
    assert f"'sha1sum' : '{_sha1_without_sha1sum_lines(new)}'" in new
    assert "        '2027-01-01 00:00:00' : 'a.fits',\n" in new
    assert verify_files([path])[0].ok


def test_duplicates_or_syntax_errors_refused_untouched(tmp_path: Path,
                                                       texts: SimpleNamespace) -> None:
    selector = ("Match({\n    ('06', 'FAST') : 'a.fits',\n    ('06', 'FAST') : 'b.fits',\n})")
    text = texts.rmap("x.rmap", selector, parkey="(('DETECTOR', 'READMODE'),)")
    text = "".join(line for line in text.splitlines(keepends=True) if "sha1sum" not in line)
    path = tmp_path / "x.rmap"
    path.write_text(text)
    with pytest.raises(RuleValidationError, match=rf"{path}:13: duplicate key \('06', 'FAST'\)"):
        rewrite_sha1sums([path])
    assert path.read_text() == text
    broken = tmp_path / "y.rmap"
    broken.write_text(text.replace("'a.fits'", "'a.fits' + 1"))
    with pytest.raises(RuleSyntaxError, match=r"y\.rmap:12:"):
        rewrite_sha1sums([broken])
    with pytest.raises(RuleValidationError, match="not a mapping"):
        rewrite_sha1sums([tmp_path / "a.fits"])


def test_rewriting_a_recorded_cache_mapping_updates_the_manifest(two_contexts: Path) -> None:
    write_manifest(two_contexts)
    layout = CacheLayout(two_contexts, "csst")
    assert verify_cache(layout) == []
    rmap = _rmap_path(two_contexts)
    rmap.write_text(rmap.read_text().replace("'2027-01-02 00:00:00'", "'2027-01-03 00:00:00'"))
    assert [p.problem.split(":")[0] for p in verify_cache(layout)] == ["sha1sum mismatch"]
    assert main(["checksum", "--cache", str(two_contexts), str(rmap)]) == 0
    assert verify_cache(layout) == []


def test_verify_named_files_text_and_json(two_contexts: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    write_manifest(two_contexts)
    ref = two_contexts / "references" / "csst" / "msc" / "csst_msc_bias_0003.fits"
    ref.write_bytes(b"SIMPLX")                          # same size, other content
    new_ref = ref.with_name("csst_msc_bias_0004.fits")
    new_ref.write_bytes(b"new")
    rmap = _rmap_path(two_contexts, "csst_msc_bias_0001.rmap")
    rmap.write_text(rmap.read_text().replace("csst_msc_bias_0002.fits", "csst_msc_bias_0009.fits"))
    names = ["csst_msc_bias_0002.rmap", "csst_msc_bias_0001.rmap", "csst_msc_bias_0001.fits",
             "csst_msc_bias_0003.fits", "csst_msc_bias_0004.fits", "csst_msc_bias_0077.fits"]
    code = main(["checksum", "--verify", "--cache", str(two_contexts), *names])
    assert code == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "OK csst_msc_bias_0002.rmap"
    assert lines[1].startswith("PROBLEM csst_msc_bias_0001.rmap: sha1sum mismatch")
    assert lines[2] == "OK csst_msc_bias_0001.fits"
    assert lines[3].startswith("PROBLEM csst_msc_bias_0003.fits: sha256/size differ")
    assert "not in the manifest" in lines[4] and "no such file" in lines[5]
    assert lines[6] == "4 problem(s)"
    assert main(["checksum", "--verify", "--format", "json", "--cache", str(two_contexts),
                 "csst_msc_bias_0002.rmap"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {"ok": True, "files": [{
        "name": "csst_msc_bias_0002.rmap", "kind": "mapping", "ok": True, "problem": None,
        "path": str(_rmap_path(two_contexts))}]}


def test_reference_arguments_record_the_manifest_and_cache_verify_json(
        two_contexts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checksum", "--cache", str(two_contexts), "--format", "json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert len(first["manifest"]["added"]) == 4 + 7     # 4 references, 7 mappings
    ref = two_contexts / "references" / "csst" / "msc" / "csst_msc_flat_0001.fits"
    ref.write_bytes(b"replaced on purpose")
    assert main(["checksum", "--verify", "--format", "json", "--cache", str(two_contexts)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in report["problems"]] == ["csst_msc_flat_0001.fits"]
    assert main(["checksum", "--cache", str(two_contexts), "csst_msc_flat_0001.fits"]) == 0
    assert "0 added, 1 updated" in capsys.readouterr().out
    assert main(["checksum", "--verify", "--cache", str(two_contexts)]) == 0


def test_read_only_refused(two_contexts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSST_CRDS_READONLY", "1")
    with pytest.raises(ReadOnlyCacheError):
        rewrite_sha1sums([_rmap_path(two_contexts)])


def test_loading_verify_and_checksum_verify_word_a_bad_sha1sum_alike(two_contexts: Path) -> None:
    """One check, one wording: the loader, ``verify`` and ``checksum --verify`` agree."""
    rmap = _rmap_path(two_contexts)
    old = rmap.read_text()
    recorded = old.split("'sha1sum' : '")[1].split("'")[0]
    rmap.write_text(old.replace("'2027-01-02 00:00:00'", "'2027-01-03 00:00:00'"))
    wording = (f"sha1sum mismatch: the header says {recorded}, the text gives "
               f"{_sha1_without_sha1sum_lines(rmap.read_text())}; the file was edited or "
               "corrupted: restore it, or if the edit is intended run `csst-crds checksum ")
    with pytest.raises(ChecksumError) as loading:
        ReferenceProvider(two_contexts, "csst_0002.pmap").best_references(PARAMS, ["bias"])
    [cache_problem] = [p for p in verify_cache(CacheLayout(two_contexts, "csst"))
                       if p.name == rmap.name]
    [file_check] = verify_files([rmap])
    for message in (str(loading.value), cache_problem.problem, file_check.problem):
        assert wording in message, message

    rmap.write_text("".join(line for line in old.splitlines(keepends=True)
                            if "sha1sum" not in line))
    missing = "no sha1sum in the header; add one with `csst-crds checksum "
    with pytest.raises(ChecksumError, match=f"{rmap}: {missing}"):
        ReferenceProvider(two_contexts, "csst_0002.pmap").best_references(PARAMS, ["bias"])
    assert [p.problem.startswith(missing) for p in verify_cache(CacheLayout(two_contexts, "csst"))
            if p.name == rmap.name] == [True]
    assert verify_files([rmap])[0].problem.startswith(missing)
