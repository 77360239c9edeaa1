"""Property-based round trips: any valid metadata and any array bits survive FITS and ASDF."""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import datamodels
from datamodels.instruments import MCI_CHANNEL_FILTERS, MSC_CHIP_FILTERS
from datamodels.provenance import reftype_abbreviation, step_abbreviation

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ASCII = st.characters(min_codepoint=32, max_codepoint=126)
TEXT = st.text(ASCII, min_size=1, max_size=90).filter(lambda s: s.strip())
FILE_NAME = st.from_regex(r"[a-z][a-z0-9_]{0,30}\.(fits|asdf|toml|yaml)", fullmatch=True)


def _spellings(chip: str) -> st.SearchStrategy[object]:
    return st.sampled_from([chip, f"CCD{chip}", str(int(chip)), int(chip)])


@st.composite
def instruments(draw: st.DrawFn) -> dict[str, object]:
    if draw(st.booleans()):
        chip = draw(st.sampled_from(sorted(MSC_CHIP_FILTERS)))
        band = MSC_CHIP_FILTERS[chip]
        spelled = draw(st.sampled_from([band, band.upper(), band.lower(), None]))
        return {"name": "msc", "detector": draw(_spellings(chip)), "filter": spelled,
                "readmode": draw(st.sampled_from(["NORMAL", "fast", None]))}  # fmt: skip
    channel = draw(st.sampled_from(sorted(MCI_CHANNEL_FILTERS)))
    return {"name": "MCI", "detector": channel.lower(),
            "filter": draw(st.sampled_from([*MCI_CHANNEL_FILTERS[channel], None]))}  # fmt: skip


def _unique_by(abbreviate):
    return lambda names: len({abbreviate(n) for n in names}) == len(names)


@st.composite
def provenance(draw: st.DrawFn) -> dict[str, object]:
    reftypes = draw(
        st.lists(st.from_regex(r"[a-z][a-z0-9]{0,9}", fullmatch=True), max_size=4, unique=True)
        .filter(lambda ns: "crds" not in ns)
        .filter(_unique_by(reftype_abbreviation))
    )
    steps = draw(
        st.lists(
            st.from_regex(r"csst_[a-z][a-z_]{0,12}", fullmatch=True), max_size=4, unique=True
        ).filter(_unique_by(step_abbreviation))
    )
    ref_file: dict[str, object] = {
        "crds": {"context_used": draw(st.none() | st.from_regex(r"csst_[0-9]{4}\.pmap",
                                                                fullmatch=True)),
                 "sw_version": draw(st.none() | st.sampled_from(["0.1.0", "1.2.3.dev4+gabc"]))},
    }  # fmt: skip
    for reftype in reftypes:
        ref_file[reftype] = {
            "name": draw(FILE_NAME | st.just("N/A")),
            "source": draw(st.none() | st.sampled_from(["rule", "override", "not_applicable"])),
            "checksum": draw(st.none() | st.from_regex(r"sha256:[0-9a-f]{64}", fullmatch=True)),
        }
    cal_step = {s: draw(st.sampled_from(["COMPLETE", "SKIPPED"])) for s in steps}
    return {"ref_file": ref_file, "cal_step": cal_step}


@st.composite
def exposure_meta(draw: st.DrawFn) -> dict[str, object]:
    instrument = draw(instruments())
    module = "1" if instrument["name"] == "msc" else "2"
    date = draw(
        st.dates(min_value=datetime.date(2020, 1, 1), max_value=datetime.date(2040, 12, 31))
    )
    time = draw(st.none() | st.times().map(lambda t: t.isoformat()))
    meta: dict[str, object] = {
        "observation": {
            "obsid": draw(st.none() | st.from_regex(rf"{module}[0-9]{{10}}", fullmatch=True)),
            "date": date.isoformat(),
            "time": time,
        },
        "exposure": {
            "type": draw(st.none() | st.sampled_from(["SCI", "bias", "DARK", "FLAT", "WIDE"])),
            "exptime": draw(st.none() | st.floats(0, 1e5)),
        },
        "target": {
            "name": draw(st.none() | TEXT),
            "ra": draw(st.none() | st.floats(0, 360, exclude_max=True)),
            "dec": draw(st.none() | st.floats(-90, 90)),
        },
        "instrument": instrument,
    }
    meta.update(draw(provenance()))
    return meta


def _round_trip(model: datamodels.DataModel, fmt: str, same_model) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(model.save(Path(tmp) / f"m.{fmt}"))
        with datamodels.open(path) as reread:
            same_model(model, reread)
            assert reread.get_crds_parameters() == model.get_crds_parameters()
            reread.save(Path(tmp) / f"m.{fmt}")
        with datamodels.open(path) as again:
            same_model(model, again)


@SETTINGS
@given(meta=exposure_meta(), fmt=st.sampled_from(["fits", "asdf"]),
       data=hnp.arrays(np.float32, (3, 2), elements=st.floats(width=32, allow_nan=True)),
       dq=hnp.arrays(np.uint32, (3, 2)))  # fmt: skip
def test_image_model_round_trips(meta, fmt, data, dq, same_model) -> None:
    model = datamodels.ImageModel(meta, data=data, err=np.abs(data), dq=dq)
    _round_trip(model, fmt, same_model)


@SETTINGS
@given(meta=exposure_meta(), fmt=st.sampled_from(["fits", "asdf"]),
       data=hnp.arrays(np.uint16, (2, 3)))  # fmt: skip
def test_raw_model_round_trips(meta, fmt, data, same_model) -> None:
    _round_trip(datamodels.RawModel(meta, data=data), fmt, same_model)


@st.composite
def reference_meta(draw: st.DrawFn, cls: type[datamodels.ReferenceModel]) -> dict[str, object]:
    useafter = draw(st.datetimes(min_value=datetime.datetime(2020, 1, 1),
                                 max_value=datetime.datetime(2040, 1, 1)))  # fmt: skip
    chip = draw(st.sampled_from(sorted(MSC_CHIP_FILTERS)))
    meta: dict[str, object] = {
        "reftype": cls.reftype.lower(),
        "instrument": {"name": "MSC", "detector": draw(_spellings(chip) | st.just("N/A")),
                       "filter": draw(st.sampled_from([MSC_CHIP_FILTERS[chip], "N/A", None])),
                       "readmode": draw(st.sampled_from(["NORMAL", "N/A", None]))},
        "useafter": useafter.replace(microsecond=0).isoformat(sep=draw(st.sampled_from(" T"))),
        "pedigree": draw(
            st.sampled_from(["SIMULATION", "ground", "INFLIGHT 2027-01-01 2027-02-01"])
        ),
        "description": draw(TEXT),
        "author": draw(TEXT),
        "combine_n": draw(st.none() | st.integers(1, 10_000)),
    }  # fmt: skip
    if meta["instrument"]["detector"] == "N/A":
        meta["instrument"]["filter"] = "N/A"
    prov = draw(provenance())
    prov["ref_file"].update({dep: {"name": f"csst_msc_{dep}_0001.fits"} for dep in cls.depends_on})
    meta.update(prov)
    return meta


@SETTINGS
@given(data=st.data(), fmt=st.sampled_from(["fits", "asdf", "text"]),
       cls=st.sampled_from([datamodels.FlatRefModel, datamodels.CrosstalkRefModel,
                            datamodels.MaskRefModel]))  # fmt: skip
def test_reference_round_trips(data, fmt, cls, same_model) -> None:
    meta = data.draw(reference_meta(cls))
    model = cls.create_fake_data(shape=(3, 3), seed=data.draw(st.integers(0, 2**16)))
    model = cls(meta, **model.arrays())
    fmt = (
        cls.text_formats[0]
        if fmt == "text" and cls.text_formats
        else "fits"
        if fmt == "text"
        else fmt
    )
    _round_trip(model, fmt, same_model)
