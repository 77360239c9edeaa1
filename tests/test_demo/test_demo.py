"""``csst-crds demo``: deliveries, a simulated exposure, csst_level1, truthful provenance."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

import datamodels
from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.cli.main import main
from steps.demo.references import CHIPS, DAYS, daily_references, toolkit_references
from steps.demo.run import simulate_exposure


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One demo run (about 7 s): its folder and what it printed."""
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("demo") / "run"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo", "--dir", str(folder)]) == 0
    return folder, out.getvalue()


def _output(folder: Path) -> Path:
    (found,) = (folder / "output").glob("*_L1.fits")
    return found


def test_provenance_names_cached_files_and_the_operational_context(demo) -> None:
    folder, printed = demo
    cache = folder / "cache"
    operational = ReferenceProvider(cache=cache).context
    header = fits.getheader(_output(folder), 0)
    assert header["CRDS_CTX"] == operational
    assert f"CRDS_CTX = {operational}" in printed
    cached = {p.name for p in (cache / "references").rglob("*") if p.is_file()}
    used = {k: header[k] for k in header if k.startswith("R_")}
    assert len(used) == 6  # mask, saturation, bias, gain, dark, flat
    assert set(used.values()) <= cached
    for value in used.values():
        assert f"= {value}" in printed


def test_references_are_what_the_rules_select_for_the_exposure(demo) -> None:
    folder, _ = demo
    (raw,) = (folder / "exposure").glob("*_L0.fits")
    with datamodels.open(raw) as model:
        parameters = model.get_crds_parameters()
    provider = ReferenceProvider(cache=folder / "cache")
    with datamodels.open(_output(folder)) as result:
        recorded = {t: e.name for t, e in result.meta.ref_file if t != "crds" and e}
    selected = provider.best_references(parameters, list(recorded))
    assert recorded == {t: s.value for t, s in selected.items()}
    # the exposure is of day 2, so the daily types come from day 2's deliveries
    for reftype in ("bias", "dark", "flat"):
        ref_header = fits.getheader(provider.get_reference_file(parameters, reftype), 0)
        assert ref_header["USEAFTER"].startswith(DAYS[1])
        assert ref_header["DETECTOR"] == "06"


def test_every_published_context_is_in_the_history_and_certifies(demo) -> None:
    from csst_crds_plugin.tools.certify import certify_context

    folder, printed = demo
    cache = folder / "cache"
    contexts = sorted(p.name for p in (cache / "mappings" / "csst").glob("*.pmap"))
    assert len(contexts) == 11  # bootstrap, toolkit, then 3 days x bias/dark/flat
    for context in contexts:
        assert certify_context(cache, context).ok, context
    assert "(made operational)" in printed


def test_a_second_run_is_refused_only_for_folders_the_demo_did_not_make(tmp_path: Path,
                                                                        capsys) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep", encoding="utf-8")
    assert main(["demo", "--dir", str(foreign)]) == 1
    assert "not a demo folder" in capsys.readouterr().err
    assert (foreign / "precious.txt").read_text(encoding="utf-8") == "keep"


def _digest(paths: list[Path]) -> str:
    """Arrays and header cards of FITS files (not the DATE written), bytes of the others."""
    digest = hashlib.sha256()
    for path in paths:
        if path.suffix != ".fits":
            digest.update(path.read_bytes())
            continue
        with fits.open(path) as hdul:
            for hdu in hdul:
                if hdu.data is not None:
                    digest.update(np.ascontiguousarray(hdu.data).tobytes())
                cards = sorted((k, str(v)) for k, v in hdu.header.items() if k != "DATE")
                digest.update(str(cards).encode())
    return digest.hexdigest()


def test_inputs_are_deterministic(tmp_path: Path) -> None:
    runs = []
    for run in ("a", "b"):
        folder = tmp_path / run
        paths = toolkit_references(folder / "toolkit")
        names = {"bias": {chip: f"csst_msc_bias_{i:04d}.fits" for i, chip in enumerate(CHIPS)}}
        paths += daily_references(folder / "day", "dark", DAYS[0], names)
        paths.append(simulate_exposure(folder / "exposure"))
        runs.append(_digest(paths))
    assert runs[0] == runs[1]
