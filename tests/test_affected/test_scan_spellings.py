"""Raw headers in every accepted spelling: the scanner and the data models agree.

Both read and normalise the selection keywords from one description (the CSST observatory's),
so a level-0 file whose header says ``CCD06`` is catalogued with the ``06`` a pipeline run
selects with.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from astropy.io import fits

import datamodels
from csst_crds_plugin.tools.affected.scan import KEYWORDS, scan_file

SPELLINGS = [
    ({"DETECTOR": "CCD06"}, "06", "y"),
    ({"DETECTOR": "ccd6"}, "06", "y"),
    ({"DETECTOR": "6"}, "06", "y"),
    ({"DETECTOR": 6}, "06", "y"),
    ({"DETECTOR": "06", "FILTER": "Y"}, "06", "y"),
    ({"DETECTOR": "CCD08", "FILTER": None}, "08", "g"),
    ({"DETECTOR": None, "DETNAM": "CCD13"}, "13", "NUV"),
    ({"DETECTOR": "CCD12", "FILTER": "nuv", "INSTRUME": "msc"}, "12", "NUV"),
]


def _respelled(folder: Path, cards: dict[str, object]) -> Path:
    path = Path(datamodels.RawModel.create_fake_data().save(folder / "raw.fits"))
    with fits.open(path, mode="update") as hdul:
        header = hdul["SCI"].header
        header.pop("FILTER", None)
        for key, value in cards.items():
            header.pop(key, None)
            if value is not None:
                header[key] = value
    return path


@pytest.mark.parametrize(("cards", "detector", "band"), SPELLINGS,
                         ids=[repr(c) for c, _d, _b in SPELLINGS])
def test_scanner_and_data_models_normalise_alike(tmp_path: Path, cards: dict[str, object],
                                                 detector: str, band: str) -> None:
    path = _respelled(tmp_path, cards)
    found = scan_file(path)
    assert (found["INSTRUME"], found["DETECTOR"], found["FILTER"]) == ("MSC", detector, band)
    names = {k.name for k in KEYWORDS}
    with datamodels.open(path) as model:
        expected = {k: v for k, v in model.get_crds_parameters().items() if k in names}
    assert found == expected


def test_a_value_the_tables_refuse_is_kept_as_written(tmp_path: Path) -> None:
    path = _respelled(tmp_path, {"DETECTOR": "CCD42", "FILTER": "q"})
    found = scan_file(path)
    assert (found["DETECTOR"], found["FILTER"]) == ("CCD42", "q")
