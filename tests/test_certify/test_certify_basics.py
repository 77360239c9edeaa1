"""certify_files and certify_context: the shared interface and the basic checks."""

from __future__ import annotations

from pathlib import Path

from csst_crds_plugin.tools.certify import CertifyReport, FileReport, certify_context, certify_files


def test_good_fits_reference_passes(write_fits) -> None:
    path = write_fits()
    report = certify_files([path])
    assert isinstance(report, CertifyReport)
    assert report.ok, report.errors
    assert report.files[0].kind == "reference"
    assert report.to_dict()["ok"] is True


def test_missing_keyword_is_named(write_fits) -> None:
    path = write_fits(drop=("USEAFTER", "AUTHOR"))
    report = certify_files([path])
    assert not report.ok
    (message,) = report.files[0].errors
    assert str(path) in message and "USEAFTER" in message and "AUTHOR" in message


def test_tampered_checksum_is_an_error(tiny_cache: Path) -> None:
    rmap = tiny_cache / "mappings" / "csst" / "csst_msc_bias_0001.rmap"
    assert certify_files([rmap]).ok
    rmap.write_text(rmap.read_text().replace("csst_msc_bias_0004.fits", "csst_msc_bias_0009.fits"))
    report = certify_files([rmap])
    assert not report.ok
    assert any(str(rmap) in m and "sha1sum mismatch" in m for m in report.files[0].errors)


def test_pickle_refused_unless_allowed(tmp_path: Path) -> None:
    model = tmp_path / "csst_msc_crmodel_0001.pth"
    model.write_bytes(b"\x80\x04K\x01.")
    refused = certify_files([model])
    assert not refused.ok
    assert str(model) in refused.errors[0] and "pickle" in refused.errors[0]


def test_context_closure(tiny_cache: Path) -> None:
    report = certify_context(tiny_cache, "csst_0001.pmap")
    names = sorted(Path(f.path).name for f in report.files)
    assert names == ["csst_0001.pmap", "csst_msc_0001.imap", "csst_msc_bias_0001.rmap",
                     "csst_msc_gain_0001.rmap"]
    assert all(isinstance(f, FileReport) and f.kind == "mapping" for f in report.files)
    assert report.ok, report.errors
