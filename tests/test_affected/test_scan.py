"""Scanning FITS/ASDF files into a catalogue agrees with the data models' get_crds_parameters."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

import datamodels
from csst_crds_plugin.cli.main import main
from csst_crds_plugin.tools.affected import CatalogError, read_catalog
from csst_crds_plugin.tools.affected.scan import KEYWORDS, build_catalog, scan_file


def _models(folder: Path) -> list[Path]:
    """Level-0 and level-1 exposures written by the data models, as FITS and as ASDF."""
    raw = datamodels.RawModel.create_fake_data()
    image = datamodels.ImageModel.create_fake_data()
    image.meta.instrument = type(image.meta.instrument)(name="MSC", detector="CCD08",
                                                        readmode="FAST")  # filter from chip
    image.meta.observation.time = "23:59:59.25"
    (folder / "night").mkdir(parents=True)
    return [Path(raw.save(folder / "raw_06.fits")), Path(raw.save(folder / "raw_06.asdf")),
            Path(image.save(folder / "night" / "img_08.fits")),
            Path(image.save(folder / "night" / "img_08.asdf"))]


def test_scan_agrees_with_get_crds_parameters(tmp_path: Path) -> None:
    names = {k.name for k in KEYWORDS}
    for path in _models(tmp_path):
        with datamodels.open(path) as model:
            expected = {k: v for k, v in model.get_crds_parameters().items() if k in names}
        found = scan_file(path)
        assert found == expected, path.name
        assert {"INSTRUME", "DETECTOR", "FILTER", "DATE-OBS", "TIME-OBS"} <= set(found)


def test_catalog_build_rows_ids_and_progress(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    paths = _models(tmp_path / "archive")
    (tmp_path / "archive" / "notes.txt").write_text("not a dataset", encoding="utf-8")
    catalog = build_catalog(tmp_path / "archive", progress=True)
    ids = [catalog.id_of(i) for i in range(len(catalog))]
    assert ids == sorted(p.relative_to(tmp_path / "archive").as_posix() for p in paths)
    row = catalog.row(ids.index("night/img_08.fits"))
    assert row["DETECTOR"] == "08" and row["TIME-OBS"] == "23:59:59.25"
    err = capsys.readouterr().err
    assert "catalog [########################] 100% 4/4 files" in err
    assert err.count("100% 4/4 files") == 1  # one final line, not repeated at the close


def test_foreign_headers_aliases_and_iso_date(tmp_path: Path) -> None:
    """A file not written by the data models: FILETYPE, DETNAM, an ISO DATE-OBS, extra keys."""
    primary = fits.PrimaryHDU()
    primary.header.update({"INSTRUME": "MCI", "FILETYPE": "SCI", "EXPTIME": 300.0,
                           "DATE-OBS": "2027-03-04T05:06:07.5", "BREAPHAS": "hot"})
    image = fits.ImageHDU(np.zeros((2, 2), dtype=np.uint16))
    image.header["DETNAM"] = "C2"
    path = tmp_path / "foreign.fits"
    fits.HDUList([primary, image]).writeto(path)
    assert scan_file(path, extra=["breaphas"]) == {
        "INSTRUME": "MCI", "DETECTOR": "C2", "OBSTYPE": "SCI", "EXPTIME": 300.0,
        "DATE-OBS": "2027-03-04", "TIME-OBS": "05:06:07.5", "BREAPHAS": "hot"}


def test_unreadable_files_fail_or_are_skipped(tmp_path: Path) -> None:
    _models(tmp_path)
    (tmp_path / "broken.fits").write_bytes(b"SIMPLE  = nonsense")
    with pytest.raises(CatalogError, match="broken.fits"):
        build_catalog(tmp_path)
    problems: list[str] = []
    catalog = build_catalog(tmp_path, skip_unreadable=True, problems=problems)
    assert len(catalog) == 4 and len(problems) == 1 and "broken.fits" in problems[0]


def test_reader_plug_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A site reader that opens each file with the data models (outside the engine)."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "site_reader.py").write_text(
        "import datamodels\n\n\ndef parameters(path):\n"
        "    with datamodels.open(path) as model:\n"
        "        params = model.get_crds_parameters()\n"
        "    return {k: v for k, v in params.items() if '.' not in k}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(plugins))
    paths = _models(tmp_path / "archive")
    catalog = build_catalog(tmp_path / "archive", reader="site_reader:parameters")
    row = catalog.row(catalog.find("raw_06.fits"))
    assert row["DATAMODL"] == "RawModel" and row["DETECTOR"] == "06"  # the reader's keys
    assert len(catalog) == len(paths)
    with pytest.raises(CatalogError, match="not MODULE:FUNCTION"):
        build_catalog(tmp_path / "archive", reader="site_reader")


def test_catalog_command_build_and_info(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    _models(tmp_path / "archive")
    out = tmp_path / "catalog.jsonl"
    assert main(["catalog", "build", str(tmp_path / "archive"), "-o", str(out),
                 "--jobs", "1", "--no-progress"]) == 0
    assert "4 datasets" in capsys.readouterr().out
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines][0] == "night/img_08.asdf"
    assert read_catalog(out).row(0)["FILTER"] == "g"
    assert main(["catalog", "info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "4 datasets, ids given" in info and "DETECTOR: 2 distinct" in info
    assert main(["catalog", "build", str(tmp_path), "-o", str(tmp_path / "x.txt")]) == 1
    assert "unknown catalogue format" in capsys.readouterr().err


def test_parallel_scan_equals_serial_scan(tmp_path: Path) -> None:
    for number in range(70):  # more than one batch of files
        primary = fits.PrimaryHDU()
        primary.header.update({"INSTRUME": "MSC", "DETECTOR": f"{number % 30 + 1:02d}",
                               "DATE-OBS": "2027-01-02", "TIME-OBS": f"00:00:{number % 60:02d}"})
        primary.writeto(tmp_path / f"f{number:03d}.fits")
    serial, parallel = build_catalog(tmp_path), build_catalog(tmp_path, jobs=2)
    assert len(serial) == 70
    assert [parallel.row(i) for i in range(70)] == [serial.row(i) for i in range(70)]
    assert [parallel.id_of(i) for i in range(70)] == [serial.id_of(i) for i in range(70)]
