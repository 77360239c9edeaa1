"""stpipe's data-model protocol, checked with stpipe itself (no mocks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from stpipe import Step
from stpipe.datamodel import AbstractDataModel

import datamodels

MODELS = sorted(datamodels.model_classes().values(), key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_every_model_is_an_abstract_data_model(cls) -> None:
    model = cls.create_minimal()
    assert isinstance(model, AbstractDataModel)
    assert model.crds_observatory == "csst"
    params = model.get_crds_parameters()
    assert params["INSTRUME"] in ("MSC", "IFS")
    assert all(
        isinstance(k, str) and isinstance(v, str | int | float | bool) for k, v in params.items()
    )
    assert None not in params.values()
    assert params["META.MODEL_TYPE"] == cls.__name__


def test_save_follows_stpipe_conventions(tmp_path: Path) -> None:
    model = datamodels.ImageModel.create_minimal()
    model.meta.filename = "exposure.fits"
    out = model.save(lambda name: str(tmp_path / name.replace(".fits", "_cal.fits")))
    assert out == str(tmp_path / "exposure_cal.fits")
    assert model.meta.filename == "exposure_cal.fits"
    other = tmp_path / "other"
    other.mkdir()
    assert model.save("/nowhere/x.asdf", dir_path=other) == str(other / "x.asdf")
    with pytest.raises(FileExistsError):
        model.save(other / "x.asdf", overwrite=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exposure_cal.fits", "other"]


def test_copy_is_deep_and_shallow_copy_shares() -> None:
    model = datamodels.ImageModel.create_fake_data(shape=(2, 2))
    assert model.meta.cal_step.csst_dark == "SKIPPED"
    deep = model.copy()
    deep.data[0, 0] = 123.0
    deep.meta.cal_step.csst_dark = "COMPLETE"
    assert model.data[0, 0] != 123.0
    assert model.meta.cal_step.csst_dark == "SKIPPED"
    shallow = model.copy(deep=False)
    shallow.data[0, 1] = 7.0
    assert model.data[0, 1] == 7.0
    assert shallow.meta is model.meta


class _CsstEchoStep(Step):
    """A real stpipe step that opens its input with datamodels.open and marks itself done."""

    class_alias = "csst_echo"
    spec = """
    output_ext = string(default='.fits')  # output file type
    """

    @classmethod
    def _datamodels_open(cls, init, **kwargs):
        return datamodels.open(init, **kwargs)

    def process(self, input_data):
        with self.open_model(input_data) as model:
            result = model.copy()
        result.meta.cal_step.csst_echo = "COMPLETE"
        return result


def test_a_real_stpipe_step_runs_on_the_models(level0_path: Path, tmp_path: Path) -> None:
    params, observatory = _CsstEchoStep._get_crds_parameters(str(level0_path))
    assert observatory == "csst" and params["DETECTOR"] == "06"
    (tmp_path / "out").mkdir()
    step = _CsstEchoStep(output_dir=str(tmp_path / "out"), save_results=True, suffix="echo")
    result = step.run(str(level0_path))  # run(), unlike call(), asks CRDS for no parameters
    assert result.meta.cal_step.csst_echo == "COMPLETE"
    saved = sorted((tmp_path / "out").glob("*.fits"))
    assert len(saved) == 1
    with datamodels.open(saved[0]) as reread:
        assert reread.meta.cal_step.csst_echo == "COMPLETE"
        assert np.array_equal(reread.data, result.data)
    params = result.get_crds_parameters()
    assert params["META.CAL_STEP.CSST_ECHO"] == "COMPLETE"


def test_skipped_step_is_recorded_by_stpipe(level0_path: Path) -> None:
    with datamodels.open(level0_path) as model:
        model.meta.cal_step.csst_echo = "SKIPPED"  # what stpipe does on skip
        assert model.get_crds_parameters()["META.CAL_STEP.CSST_ECHO"] == "SKIPPED"


def test_crds_parameters_follow_every_metadata_change() -> None:
    model = datamodels.ImageModel({
        "observation": {"date": "2027-01-02", "time": "10:00:00"},
        "exposure": {"type": "SCI", "exptime": 150.0},
        "instrument": {"name": "MSC", "detector": "06", "readmode": "NORMAL"},
    })
    first = model.get_crds_parameters()
    assert (first["DETECTOR"], first["DATE-OBS"]) == ("06", "2027-01-02")
    first["DETECTOR"] = "spoiled"  # the caller's dict is its own
    assert model.get_crds_parameters()["DETECTOR"] == "06"
    model.meta.instrument = {"name": "MSC", "detector": "08", "readmode": "NORMAL"}
    model.meta.observation.date = "2027-03-04"
    changed = model.get_crds_parameters()
    assert (changed["DETECTOR"], changed["FILTER"], changed["DATE-OBS"]) == \
        ("08", "g", "2027-03-04")
    assert changed["META.INSTRUMENT.DETECTOR"] == "08"
    assert changed["META.OBSERVATION.DATE"] == "2027-03-04"
    with pytest.raises(datamodels.MetadataError):
        model.meta.instrument.detector = "CCD99"  # refused: the parameters stay as they were
    assert model.get_crds_parameters()["DETECTOR"] == "08"
    model.meta.instrument.readmode = "FAST"
    assert model.get_crds_parameters()["READMODE"] == "FAST"
    model.meta.cal_step.csst_bias = datamodels.StepStatus.COMPLETE
    assert model.get_crds_parameters()["META.CAL_STEP.CSST_BIAS"] == "COMPLETE"
    other = model.copy()
    other.meta.exposure.exptime = 30.0
    assert other.get_crds_parameters()["EXPTIME"] == 30.0
    assert model.get_crds_parameters()["EXPTIME"] == 150.0
