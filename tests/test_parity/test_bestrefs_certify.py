"""The CRDS options of bestrefs and certify behave as CRDS's do.

``bestrefs --update-bestrefs --format table --diffs-only --print-affected``;
``certify --comparison-context``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

import datamodels
from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.cli.main import main
from csst_crds_plugin.tools.update_bestrefs import keyword_of
from datamodels.provenance import reftype_abbreviation


@pytest.fixture
def exposure(demo_run: Path, tmp_path: Path) -> Path:
    (raw,) = (demo_run / "exposure").glob("*_L0.fits")
    return Path(shutil.copy(raw, tmp_path / raw.name))


def _old_context(cache: Path) -> str:
    return json.loads((cache / "config" / "csst" / "contexts.json").read_text())[
        "history"][0]["context"]


def test_update_bestrefs_writes_what_the_rules_select(demo_run: Path, exposure: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    cache = demo_run / "cache"
    assert main(["bestrefs", "--cache", str(cache), "--files", str(exposure),
                 "--update-bestrefs"]) == 0
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    header = fits.getheader(exposure)
    provider = ReferenceProvider(cache=cache)
    assert header["CRDS_CTX"] == provider.context
    for reftype, value in line["results"].items():
        assert header[keyword_of(reftype)] == value
    with datamodels.open(exposure) as model:  # the data models read the keywords back
        parameters = model.get_crds_parameters()
        recorded = {t: e.name for t, e in model.meta.ref_file if t != "crds" and e}
    selected = provider.best_references(parameters, list(recorded))
    assert recorded == {t: s.value for t, s in selected.items()}
    assert recorded["readnoise"] == header["R_READN"]


def test_keywords_are_the_data_models(demo_run: Path) -> None:
    for reftype in ("bias", "dark", "flat", "readnoise", "saturation", "crosstalk", "arc"):
        assert keyword_of(reftype) == "R_" + reftype_abbreviation(reftype)


def test_comparison_table_diffs_only_and_print_affected(
        demo_run: Path, exposure: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    cache = demo_run / "cache"
    old = _old_context(cache)
    new = ReferenceProvider(cache=cache).context
    early = tmp_path / "early.fits"
    shutil.copy(exposure, early)
    with fits.open(early, mode="update") as hdus:  # before any rule: nothing selects it
        hdus[0].header["DATE-OBS"] = "2020-01-01"
    compare = ["bestrefs", "--cache", str(cache), "--old-context", old, "--new-context", new,
               "--files", str(exposure), str(early)]
    assert main(compare) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    changed = [line for line in lines if line["changes"]]
    assert len(lines) == 2 and [line["id"] for line in changed] == [str(exposure)]
    assert main([*compare, "--diffs-only"]) == 0
    assert [json.loads(x) for x in capsys.readouterr().out.splitlines()] == changed
    assert main([*compare, "--print-affected"]) == 0
    assert capsys.readouterr().out == f"{exposure}\n"
    assert main([*compare, "--format", "table"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["id", "reftype", "old", "new"]
    rows = {tuple(row.split()[1:]) for row in table[1:]}
    def cell(value: object) -> object:
        return f"error:{value['error']}" if isinstance(value, dict) else value

    assert rows == {(t, cell(c["old"]), cell(c["new"]))
                    for t, c in changed[0]["changes"].items()}
    assert main(["bestrefs", "--cache", str(cache), "--files", str(exposure),
                 "--print-affected"]) == 1


def test_certify_comparison_context_names_the_replaced_file_and_the_changes(
        demo_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = demo_run / "cache"
    (submitted,) = (demo_run / "submissions" / "2027-01-03").glob("demo_flat_06_*.fits")
    changed = tmp_path / "flat_06_v2.fits"
    with fits.open(submitted) as hdus:
        hdus["SCI"].data = hdus["SCI"].data * np.float32(1.01)
        hdus[0].header["DESCRIP"] = "a better flat"
        hdus.writeto(changed)
    later = tmp_path / "flat_06_later.fits"
    with fits.open(submitted) as hdus:
        hdus[0].header["USEAFTER"] = "2027-02-01T00:00:00"
        hdus.writeto(later)
    provider = ReferenceProvider(cache=cache)
    exposure = {"INSTRUME": "MSC", "DETECTOR": "06", "FILTER": "y", "DATE-OBS": "2027-01-03",
                "TIME-OBS": "10:00:00"}
    current = provider.best_references(exposure, ["flat"])["flat"].value
    assert main(["certify", str(changed), str(later), "--cache", str(cache),
                 "--comparison-context", "csst-operational", "--format", "json"]) == 0
    comparison = json.loads(capsys.readouterr().out)["comparison"]
    first, second = comparison
    assert first["replaces"] == current and first["rmap"].startswith("csst_msc_flat_")
    assert any("DESCRIP" in change for change in first["changes"])
    assert any("SCI" in change for change in first["changes"])
    assert second["replaces"] is None and "'2027-02-01 00:00:00'" in second["rule"]
