"""Arrays by blocks of rows (`iter_row_blocks`, `read_rows`) and the streamed FITS writer."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.utils.exceptions import AstropyUserWarning

import datamodels
from datamodels import ArrayError, iter_row_blocks, read_rows

SHAPE = (23, 17)


def reference(dtype: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    kind = np.dtype(dtype)
    if kind.kind == "f":
        values = rng.normal(0, 1e3, SHAPE).astype(kind)
        values[1, 2], values[3, 4], values[5, 6] = np.nan, np.inf, -0.0
        return values
    info = np.iinfo(kind)
    values = rng.integers(info.min, info.max, SHAPE, dtype=kind, endpoint=True)
    values[0, 0], values[0, 1] = info.min, info.max
    return values


def saved_bias(tmp_path: Path, name: str = "bias.fits") -> tuple[Path, datamodels.DataModel]:
    model = datamodels.BiasRefModel.create_fake_data(SHAPE)
    model.data = reference("float32", 1)
    model.dq = reference("uint32", 2)
    return Path(model.save(tmp_path / name)), model


@pytest.mark.parametrize("rows", [1, 4, 23, 100])
def test_blocks_of_a_fits_reference_are_its_values_in_native_order(tmp_path: Path,
                                                                  rows: int) -> None:
    path, model = saved_bias(tmp_path)
    with fits.open(path) as hdul:
        assert hdul["SCI"].data.dtype.byteorder == ">"  # what the file holds
        assert hdul["DQ"].header["BZERO"] == 2**31
    seen = 0
    with datamodels.open(path) as ref:
        for block, (data, dq) in iter_row_blocks(ref, ["data", "dq"], rows=rows):
            assert data.dtype == np.float32 and data.dtype.isnative
            assert dq.dtype == np.uint32 and dq.dtype.isnative
            np.testing.assert_array_equal(data, model.data[block])
            np.testing.assert_array_equal(dq, model.dq[block])
            seen += data.shape[0]
    assert seen == SHAPE[0]


@pytest.mark.parametrize("dtype", ["uint8", "int16", "uint16", "int32", "uint32", "int64",
                                   "uint64", "float32", "float64"])
def test_every_fits_pixel_type_reads_back_by_rows_and_writes_like_astropy(
        tmp_path: Path, dtype: str) -> None:
    values = reference(dtype)
    ours, theirs = tmp_path / "ours.fits", tmp_path / "theirs.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(values, name="SCI")]).writeto(theirs)
    with fits.open(theirs) as hdul:
        rows = datamodels._blocks.fits_rows(hdul, 1)
        assert rows is not None
        out = np.empty((5, SHAPE[1]), rows.dtype)
        np.testing.assert_array_equal(rows.read(3, 8, out), values[3:8])
    write_one(ours, values)
    with fits.open(ours) as a, fits.open(theirs) as b:
        assert a[1].header["BITPIX"] == b[1].header["BITPIX"]
        assert a[1].header.get("BZERO") == b[1].header.get("BZERO")
        np.testing.assert_array_equal(a[1].data, b[1].data)
    assert ours.stat().st_size % 2880 == 0


def write_one(path: Path, values: np.ndarray) -> None:
    """One image written through the data models' streamed FITS writer."""
    from datamodels._fits import _write_image

    with path.open("wb") as stream:
        stream.write(fits.PrimaryHDU().header.tostring().encode("ascii"))
        stream.write(fits.ImageHDU(values, name="SCI").header.tostring().encode("ascii"))
        _write_image(stream, values)


def test_read_rows_converts_into_the_buffer_given(tmp_path: Path) -> None:
    raw = datamodels.RawModel.create_minimal(SHAPE)
    raw.data = reference("uint16")
    path = Path(raw.save(tmp_path / "raw_L0.fits"))
    with datamodels.open(path) as model:
        out = np.empty(SHAPE, np.float32)
        read_rows(model, "data", 0, SHAPE[0], out)
        np.testing.assert_array_equal(out, raw.data.astype(np.float32))
        assert datamodels.array_shape(model, "data") == SHAPE


def test_an_absent_optional_array_is_its_fill_value(tmp_path: Path) -> None:
    model = datamodels.BiasRefModel.create_minimal(SHAPE)
    model.data = reference("float32")
    full = Path(model.save(tmp_path / "full.fits"))
    path = tmp_path / "bias.fits"
    with fits.open(full) as hdul:
        fits.HDUList([hdul[0], hdul["SCI"]]).writeto(path)  # no ERR, no DQ
    with datamodels.open(path) as ref:
        for _, (err, dq) in iter_row_blocks(ref, ["err", "dq"], rows=7):
            assert not err.any() and not dq.any()
            assert err.dtype == np.float32 and dq.dtype == np.uint32


def test_models_in_memory_compressed_files_and_asdf_give_the_same_blocks(
        tmp_path: Path) -> None:
    path, model = saved_bias(tmp_path)
    packed = tmp_path / "bias.fits.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    asdf_path = Path(model.save(tmp_path / "bias.asdf"))
    swapped = datamodels.BiasRefModel(model.meta.model_copy(deep=True),
                                      data=model.data.astype(">f4"), err=model.err,
                                      dq=model.dq)
    for source in (model, swapped, packed, asdf_path):
        with datamodels.open(source) as ref:
            blocks = [data.copy() for _, (data,) in iter_row_blocks(ref, ["data"], rows=6)]
        np.testing.assert_array_equal(np.concatenate(blocks), model.data)
        assert all(block.dtype.isnative for block in blocks)


def test_a_truncated_file_names_itself(tmp_path: Path) -> None:
    path, _ = saved_bias(tmp_path)
    with fits.open(path) as hdul:
        assert hdul[-1].name == "DQ"
        end = hdul["DQ"].fileinfo()["datLoc"] + 10 * SHAPE[1] * 4
    path.write_bytes(path.read_bytes()[:end])
    with pytest.warns(AstropyUserWarning, match="truncated"):  # astropy notices, and goes on
        ref = datamodels.open(path)
    with ref, pytest.raises(ArrayError, match="bias.fits.*truncated"):
        for _ in iter_row_blocks(ref, ["dq"], rows=8):
            pass


def test_the_block_size_is_read_when_blocks_are_cut(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Setting ``BLOCK_PIXELS`` (as the streaming tests do) changes the blocks cut afterwards."""
    path, _ = saved_bias(tmp_path)
    monkeypatch.setattr(datamodels._blocks, "BLOCK_PIXELS", 3 * SHAPE[1] + 1)
    with datamodels.open(path) as ref:
        sizes = [rows.stop - rows.start for rows, _ in iter_row_blocks(ref, ["data"])]
    assert sizes == [3] * 7 + [2]
