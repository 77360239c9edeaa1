"""FITS, ASDF, TOML and YAML I/O: lossless round trips, open(), lazy loading."""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

import datamodels
from datamodels import DataModelError, ImageModel, RawModel, UnknownModelError

MODELS = sorted(datamodels.model_classes().values(), key=lambda c: c.__name__)
CASES = [(cls, fmt) for cls in MODELS for fmt in ("fits", "asdf", *cls.text_formats)]


def test_every_required_model_exists() -> None:
    names = {cls.__name__ for cls in MODELS}
    assert {
        "RawModel", "ImageModel", "BiasRefModel", "DarkRefModel", "FlatRefModel", "GainRefModel",
        "ReadnoiseRefModel", "MaskRefModel", "CrosstalkRefModel", "ArcRefModel",
    } <= names  # fmt: skip


@pytest.mark.parametrize(("cls", "fmt"), CASES, ids=lambda v: getattr(v, "__name__", v))
def test_file_model_file_round_trip(cls, fmt: str, tmp_path: Path, same_model) -> None:
    original = cls.create_fake_data(shape=(4, 4))
    first = tmp_path / f"first.{fmt}"
    second = tmp_path / f"second.{fmt}"
    original.save(first)
    with datamodels.open(first) as reread:
        same_model(original, reread)
        reread.save(second)
    with datamodels.open(second) as again:
        assert again.meta.filename == f"second.{fmt}"
        same_model(reread, again)
    if fmt == "fits":  # the headers agree card for card, except the file name
        h1, h2 = fits.getheader(first), fits.getheader(second)
        assert [c.image for c in h1.cards if c.keyword != "FILENAME"] == [
            c.image for c in h2.cards if c.keyword != "FILENAME"
        ]


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_minimal_models_round_trip_through_fits_and_asdf(cls, tmp_path: Path, same_model) -> None:
    model = cls.create_minimal()
    for fmt in ("fits", "asdf"):
        path = Path(model.save(tmp_path / f"m.{fmt}"))
        assert model.meta.filename == path.name
        with datamodels.open(path) as reread:
            same_model(model, reread)


def test_special_float_bits_survive(tmp_path: Path, same_model) -> None:
    model = ImageModel.create_fake_data(shape=(4, 4))
    specials = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 1e-45, 3.4e38, 0.1], "float32")
    model.data[0, :] = specials[:4]
    model.data[1, :] = specials[4:]
    model.dq[0, 0] = np.iinfo(np.uint32).max
    for fmt in ("fits", "asdf"):
        model.save(tmp_path / f"s.{fmt}")
        with datamodels.open(tmp_path / f"s.{fmt}") as reread:
            same_model(model, reread)


def test_uint16_extremes_survive(tmp_path: Path, same_model) -> None:
    model = RawModel.create_minimal(shape=(2, 2))
    model.data = np.array([[0, 1], [32768, 65535]], dtype=np.uint16)
    model.save(tmp_path / "raw.fits")
    with fits.open(tmp_path / "raw.fits") as hdul:
        assert hdul["SCI"].header["BZERO"] == 32768  # standard unsigned encoding
    with datamodels.open(tmp_path / "raw.fits") as reread:
        same_model(model, reread)
        assert reread.data.dtype.kind == "u"


def test_level0_file_gives_the_normalised_selection_parameters(level0_path: Path) -> None:
    with datamodels.open(level0_path) as model:
        assert isinstance(model, RawModel)
        params = model.get_crds_parameters()
    assert {
        k: params[k]
        for k in ("INSTRUME", "DETECTOR", "FILTER", "DATE-OBS", "TIME-OBS", "OBSTYPE", "EXPTIME")
    } == {  # fmt: skip
        "INSTRUME": "MSC",
        "DETECTOR": "06",
        "FILTER": "y",
        "DATE-OBS": "2027-01-02",
        "TIME-OBS": "10:00:00.5",
        "OBSTYPE": "SCI",
        "EXPTIME": 150.0,
    }
    assert "READMODE" not in params
    assert params["META.INSTRUMENT.DETECTOR"] == "06"
    assert params["META.INSTRUMENT.NAME"] == "MSC"
    assert params["META.OBSERVATION.DATE"] == "2027-01-02"
    assert params["META.EXPOSURE.TYPE"] == "SCI"
    assert params["OBSID"] == "10100300001"
    assert all(isinstance(v, str | int | float | bool) for v in params.values())


def test_level0_file_data_and_rewrite(level0_path: Path, tmp_path: Path, same_model) -> None:
    with datamodels.open(level0_path) as model:
        assert model.data.dtype.kind == "u" and model.data.dtype.itemsize == 2
        assert model.data[1, 0] == 16
        model.save(tmp_path / "normalised.fits")
        with datamodels.open(tmp_path / "normalised.fits") as reread:
            same_model(model, reread)
    header = fits.getheader(tmp_path / "normalised.fits", "SCI")
    assert (header["DETECTOR"], header["FILTER"]) == ("06", "y")


def test_mci_keyword_aliases(tmp_path: Path) -> None:
    primary = fits.PrimaryHDU()
    primary.header.update({"INSTRUME": "MCI", "OBSID": "20100000001", "OBSTYPE": "EXDF",
                           "DATE-OBS": "2023-09-18T00:39:41", "OBJ_RA": 10.0,
                           "OBJ_DEC": -5.0})  # fmt: skip
    image = fits.ImageHDU(np.zeros((2, 2), np.uint16))
    image.header["DETNAM"] = "c1"
    fits.HDUList([primary, image]).writeto(tmp_path / "mci.fits")
    with datamodels.open(tmp_path / "mci.fits") as model:
        params = model.get_crds_parameters()
    assert (params["DETECTOR"], params["DATE-OBS"], params["TIME-OBS"]) == (
        "C1",
        "2023-09-18",
        "00:39:41",
    )
    assert (params["RA_OBJ"], params["DEC_OBJ"]) == (10.0, -5.0)
    assert "FILTER" not in params


def test_open_hdulist_and_model(level0_path: Path) -> None:
    with fits.open(level0_path) as hdul:
        model = datamodels.open(hdul)
        model.close()  # does not close the caller's HDU list
        assert hdul[1].data[0, 1] == 1
    with datamodels.open(level0_path) as model:
        with datamodels.open(model) as shallow:
            assert shallow is not model
            assert shallow.meta is model.meta
            assert shallow.data is model.data
        assert model.data[0, 1] == 1  # closing the shallow copy left the file open


def test_class_is_picked_from_the_file(tmp_path: Path) -> None:
    ImageModel.create_minimal().save(tmp_path / "image.fits")
    with fits.open(tmp_path / "image.fits", mode="update") as hdul:
        del hdul[0].header["DATAMODL"]
    with datamodels.open(tmp_path / "image.fits") as model:
        assert isinstance(model, ImageModel)  # from the SCI/ERR/DQ extensions
    datamodels.GainRefModel.create_minimal().save(tmp_path / "gain.fits")
    with fits.open(tmp_path / "gain.fits", mode="update") as hdul:
        del hdul[0].header["DATAMODL"]
    with datamodels.open(tmp_path / "gain.fits") as model:
        assert isinstance(model, datamodels.GainRefModel)  # from REFTYPE
    with fits.open(tmp_path / "gain.fits", mode="update") as hdul:
        hdul[0].header["DATAMODL"] = "NoSuchModel"
    with pytest.raises(UnknownModelError, match="DATAMODL='NoSuchModel'.*allowed: ArcRefModel"):
        datamodels.open(tmp_path / "gain.fits")


def test_forced_class_and_bad_inputs(tmp_path: Path) -> None:
    ImageModel.create_minimal().save(tmp_path / "image.asdf")
    with datamodels.open(tmp_path / "image.asdf", model_class=ImageModel) as model:
        assert model.data.shape == (1, 1)
    with pytest.raises(DataModelError, match="unknown file type"):
        datamodels.open(tmp_path / "image.txt")
    with pytest.raises(FileNotFoundError):
        datamodels.open(tmp_path / "missing.fits")
    with pytest.raises(TypeError):
        datamodels.open(42)  # type: ignore[arg-type]
    with pytest.raises(DataModelError, match="cannot be saved as TOML"):
        ImageModel.create_minimal().save(tmp_path / "image.toml")


def _is_memory_mapped(array: object) -> bool:
    while array is not None:
        if isinstance(array, np.memmap | mmap.mmap):
            return True
        array = getattr(array, "base", None)
    return False


def test_arrays_load_lazily_and_close(tmp_path: Path) -> None:
    ImageModel.create_fake_data(shape=(8, 8)).save(tmp_path / "lazy.fits")
    model = datamodels.open(tmp_path / "lazy.fits")
    assert model._arrays == {}  # nothing read yet
    assert model.get_crds_parameters()["DETECTOR"] == "06"
    assert model._arrays == {}
    data = model.data
    assert _is_memory_mapped(data)
    model.close()
    assert float(data.sum()) != 0.0  # arrays read before closing stay valid
    with pytest.raises(DataModelError, match="closed before its err array was read"):
        _ = model.err


def test_memmapped_data_can_be_changed_without_touching_the_file(tmp_path: Path) -> None:
    model = ImageModel.create_fake_data(shape=(4, 4))
    model.save(tmp_path / "cow.fits")
    with datamodels.open(tmp_path / "cow.fits") as reread:
        before = float(reread.data[0, 0])
        reread.data[0, 0] = before + 1
    with datamodels.open(tmp_path / "cow.fits") as again:
        assert float(again.data[0, 0]) == before


def test_array_validation() -> None:
    model = ImageModel.create_minimal(shape=(2, 2))
    model.data = np.ones((2, 2), dtype=np.float64)  # same kind: cast
    assert model.data.dtype == np.float32
    with pytest.raises(datamodels.ArrayError, match="must be uint16"):
        RawModel.create_minimal().data = np.ones((2, 2), dtype=np.float32)
    with pytest.raises(datamodels.ArrayError, match="shape"):
        model.data = np.ones(3, dtype=np.float32)
    with pytest.raises(datamodels.ArrayError, match=r"shape \(16, 16\)"):
        datamodels.CrosstalkRefModel.create_minimal().coefficients = np.zeros((4, 4))
    model.err = np.ones((3, 3), dtype=np.float32)
    with pytest.raises(datamodels.ArrayError, match="first array has"):
        model.validate()
    assert ImageModel.create_minimal(shape=(2, 2)).dq.tolist() == [[0, 0], [0, 0]]


def test_text_formats(tmp_path: Path) -> None:
    crosstalk = datamodels.CrosstalkRefModel.create_fake_data()
    crosstalk.save(tmp_path / "csst_msc_crosstalk_0001.toml")
    text = (tmp_path / "csst_msc_crosstalk_0001.toml").read_text()
    assert "[meta]" in text and 'REFTYPE = "CROSSTALK"' in text and 'DETECTOR = "06"' in text
    arc = datamodels.ArcRefModel.create_fake_data(shape=(3, 1))
    arc.lines["species"] = ["Hg I", "Ar I", "Ne I"]
    arc.save(tmp_path / "csst_ifs_arc_0001.yaml")
    with datamodels.open(tmp_path / "csst_ifs_arc_0001.yaml") as reread:
        assert reread.lines["species"].tolist() == ["Hg I", "Ar I", "Ne I"]
        assert reread.get_crds_parameters()["INSTRUME"] == "IFS"


def test_other_header_cards_are_kept(level0_path: Path, tmp_path: Path) -> None:
    with datamodels.open(level0_path) as model:
        assert ("CTYPE1", "RA---TAN", "") in model.extra_fits["SCI"]
        model.save(tmp_path / "kept.fits")
        model.save(tmp_path / "kept.asdf")
    with datamodels.open(tmp_path / "kept.asdf") as model:
        model.save(tmp_path / "via_asdf.fits")
    for name in ("kept.fits", "via_asdf.fits"):
        primary = fits.getheader(tmp_path / name, 0)
        sci = fits.getheader(tmp_path / name, "SCI")
        assert primary["EXPSTART"] == 61407.416672 and primary["RA_PNT0"] == 150.1
        assert (sci["CTYPE1"], sci["CRPIX1"], sci["GAIN1"], sci["SATURATE"]) == (
            "RA---TAN",
            8.0,
            1.5,
            65535,
        )
        assert "FILETYPE" not in primary  # read as OBSTYPE, written under its own name
        assert primary["OBSTYPE"] == "SCI" and sci["DETECTOR"] == "06"
        assert "BZERO" not in primary and sci["BZERO"] == 32768
