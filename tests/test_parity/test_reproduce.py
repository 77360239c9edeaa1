"""Outputs record the sha256 of each reference and how they were made; ``reproduce`` checks them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from csst_crds_plugin.cache import digest_file
from csst_crds_plugin.cli.main import main


def _output(folder: Path) -> Path:
    (found,) = (folder / "output").glob("*_L1.fits")
    return found


def test_outputs_record_the_sha256_of_each_reference_and_the_run(demo_run: Path) -> None:
    header = fits.getheader(_output(demo_run))
    names = {k[2:]: header[k] for k in header if k.startswith("R_")}
    assert len(names) == 6
    for abbr, name in names.items():
        (path,) = (demo_run / "cache" / "references").rglob(name)
        assert header[f"H_{abbr}"] == "sha256:" + digest_file(path).sha256
    (raw,) = (demo_run / "exposure").glob("*_L0.fits")
    assert header["RUN_STEP"] == "csst_level1"
    assert Path(header["RUN_IN"]) == raw.resolve()
    assert header["RUN_HASH"] == "sha256:" + digest_file(raw).sha256
    parameters = json.loads(header["RUN_PARS"])
    assert parameters["steps"]["flat"]["skip"] is False


def test_reproduce_passes_on_the_demo_output(demo_run: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", str(_output(demo_run)), "--cache",
                 str(demo_run / "cache")]) == 0
    assert "and its 6 reference(s) are in the cache, unchanged" in capsys.readouterr().out


def test_a_same_size_one_byte_change_is_named(demo: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    header = fits.getheader(_output(demo))
    name = header["R_DARK"]
    (path,) = (demo / "cache" / "references").rglob(name)
    data = bytearray(path.read_bytes())
    size = len(data)
    data[size // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert path.stat().st_size == size
    assert main(["reproduce", str(_output(demo)), "--cache", str(demo / "cache")]) == 1
    out = capsys.readouterr().out
    assert f"DIFFERS {name} (dark): differs from the file used" in out
    assert sum(line.startswith("DIFFERS") for line in out.splitlines()) == 1
    path.unlink()
    assert main(["reproduce", str(_output(demo)), "--cache", str(demo / "cache")]) == 1
    assert f"DIFFERS {name} (dark): missing" in capsys.readouterr().out


def test_rerun_reproduces_the_demo_output(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = _output(demo)
    # the copy's recorded input is the original run's; point it at this copy
    (raw,) = (demo / "exposure").glob("*_L0.fits")
    with fits.open(output, mode="update") as hdus:
        hdus[0].header["RUN_IN"] = str(raw.resolve())
    assert main(["reproduce", str(output), "--cache", str(demo / "cache"), "--rerun",
                 "--keep"]) == 0
    out = capsys.readouterr().out
    assert "re-run: the new output equals" in out
    made = Path(out.split("new output: ", 1)[1].splitlines()[0])
    with fits.open(output) as old, fits.open(made) as new:
        assert np.array_equal(old["SCI"].data, new["SCI"].data)
        assert old[0].header["H_FLAT"] == new[0].header["H_FLAT"]
    shutil.rmtree(made.parent)


def test_rerun_notices_a_different_result(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = _output(demo)
    (raw,) = (demo / "exposure").glob("*_L0.fits")
    with fits.open(output, mode="update") as hdus:
        hdus[0].header["RUN_IN"] = str(raw.resolve())
        hdus["SCI"].data[0, 0] += 1.0  # an output that this run did not make
    assert main(["reproduce", str(output), "--cache", str(demo / "cache"), "--rerun"]) == 1
    assert "DIFFERS SCI: the data differ" in capsys.readouterr().out


def test_a_changed_input_refuses_to_rerun(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = _output(demo)
    (raw,) = (demo / "exposure").glob("*_L0.fits")
    with fits.open(output, mode="update") as hdus:
        hdus[0].header["RUN_IN"] = str(raw.resolve())
    with fits.open(raw, mode="update") as hdus:
        hdus[0].header["OBSTYPE"] = "SCI"
        hdus[0].header["HISTORY"] = "touched"
    assert main(["reproduce", str(output), "--cache", str(demo / "cache"), "--rerun"]) == 1
    assert "differs from the one used" in capsys.readouterr().err


def test_asdf_outputs_record_and_reproduce(demo: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import asdf

    from steps.level1.level1_pipeline import Level1Pipeline

    (raw,) = (demo / "exposure").glob("*_L0.fits")
    out = demo / "asdf"
    out.mkdir()
    monkeypatch.setenv("CSST_CRDS_PATH", str(demo / "cache"))
    Level1Pipeline.call(str(raw), output_dir=str(out), output_ext=".asdf", save_results=True)
    (made,) = out.glob("*.asdf")
    with asdf.open(made) as handle:
        meta = handle.tree["meta"]
        (dark,) = (demo / "cache" / "references").rglob(meta["ref_file"]["dark"]["name"])
        assert meta["ref_file"]["dark"]["checksum"] == "sha256:" + digest_file(dark).sha256
        assert meta["run"]["step"] == "csst_level1"
    assert main(["reproduce", str(made), "--rerun"]) == 0
    assert "re-run: the new output equals" in capsys.readouterr().out


def test_a_step_refusing_its_reference_on_rerun_is_a_one_line_error(demo: Path,
                                                                     tmp_path: Path) -> None:
    """A step's CalibrationError is no reference-system error; rerun names the output and step."""
    import datamodels
    from csst_crds_plugin.cache import CacheLayout
    from csst_crds_plugin.errors import CsstCrdsError
    from csst_crds_plugin.tools.reproduce import read_record, rerun
    from steps import CalibrationError

    assert issubclass(CalibrationError, ValueError)
    assert not issubclass(CalibrationError, CsstCrdsError)
    small = tmp_path / "small_dark.fits"
    datamodels.DarkRefModel.create_minimal(shape=(4, 4)).save(small)
    output = _output(demo)
    (raw,) = (demo / "exposure").glob("*_L0.fits")
    record = read_record(output)
    record.run.update(step="csst_dark", input=str(raw.resolve()),
                      parameters=json.dumps({"override_dark": str(small)}))
    with pytest.raises(CsstCrdsError) as raised:
        rerun(record, CacheLayout(demo / "cache", "csst"))
    message = str(raised.value)
    assert message.startswith(f"{output}: re-running csst_dark stopped: CalibrationError: ")
    assert "small_dark.fits has shape (4, 4)" in message
    assert isinstance(raised.value.__cause__, CalibrationError)
