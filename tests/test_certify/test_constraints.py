"""The constraint files load, are strict, and match CSST.md as the data models have it.

The data models were written independently from the same notes.
"""

from __future__ import annotations

import pydantic
import pytest

from csst_crds_plugin.tools.certify.constraints import (
    InstrumentFile,
    constraints_for,
    load_observatory,
)
from datamodels import instruments


def test_shipped_files_load_and_list_the_five_modules() -> None:
    common, files = load_observatory("csst")
    assert tuple(files) == instruments.INSTRUMENTS
    assert set(common.keywords["INSTRUME"].values) == set(instruments.INSTRUMENTS)
    assert load_observatory("jwst") == (InstrumentFile(), {})
    assert load_observatory("../csst") == (InstrumentFile(), {})


def test_msc_chip_filter_table_is_csst_md_table() -> None:
    (table,) = [c for c in load_observatory("csst")[1]["MSC"].combinations
                if (c.by, c.of) == ("DETECTOR", "FILTER")]
    assert {chip: bands for chip, bands in table.table.items()} == {
        chip: (band,) for chip, band in instruments.MSC_CHIP_FILTERS.items()}
    assert table.severity == "error"


def test_mci_channel_table_only_warns() -> None:
    (table,) = load_observatory("csst")[1]["MCI"].combinations
    assert dict(table.table) == instruments.MCI_CHANNEL_FILTERS
    assert table.severity == "warning"


def test_layers_merge_field_by_field() -> None:
    flat = constraints_for("csst", "msc", "FLAT")
    assert flat.known_instrument and flat.known_reftype
    assert flat.keywords["FILTER"].presence == "required"          # all.toml
    assert "GI" in flat.keywords["FILTER"].values                  # msc.toml
    assert flat.keywords["FILTER"].na is False                     # [reftypes.flat]
    assert flat.keywords["R_DARK"].presence == "required"
    assert flat.keywords["R_DARK"].reftype == "dark"
    assert set(flat.arrays) == {"SCI", "ERR", "DQ"}
    bias = constraints_for("csst", "MSC", "bias")
    assert bias.keywords["FILTER"].na is True and bias.keywords["R_DARK"].presence == "optional"
    unknown = constraints_for("csst", "NOPE", "bias")
    assert not unknown.known_instrument and unknown.arrays == {}


@pytest.mark.parametrize("data", [
    {"keywords": {"USEAFTER": {"presense": "required"}}},
    {"keywords": {"USEAFTER": {"presence": "sometimes"}}},
    {"reftypes": {"bias": {"arrays": {"SCI": {"nan": "maybe"}}}}},
])
def test_constraint_files_are_validated_strictly(data: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        InstrumentFile.model_validate(data)
