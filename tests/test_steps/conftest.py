"""Step fixtures: a level-1 cache with two contexts, level-0 exposures, and a trap on CRDS.

The arrays hold round numbers so that tests can compute the expected results by hand:
raw 1000 ADU (one pixel 60000, above the saturation level 50000), bias 100 ± 2 ADU,
gain 1.5 e-/ADU, dark 0.02 e-/s (context csst_0001) or 0.01 ± 0.001 e-/s (csst_0002),
EXPTIME 150 s, flat 0.9 ± 0.009 with one pixel 0 and one 0.4.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import datamodels
from csst_crds_plugin.cli.main import main as csst_crds
from csst_crds_plugin.rules import set_sha1sum
from csst_crds_plugin.stpipe_integration import clear_providers

SHAPE = (64, 64)
RAW, SATURATED_RAW, SATURATION = 1000, 60000, 50000.0
SATURATED_PIXEL, MASKED_PIXEL, ZERO_FLAT_PIXEL, LOW_FLAT_PIXEL = (3, 4), (5, 6), (7, 8), (9, 10)
MASK_BITS = 1 | 4  # DO_NOT_USE | DEAD
BIAS, BIAS_ERR, GAIN, EXPTIME = 100.0, 2.0, 1.5, 150.0
DARK_1, DARK_2, DARK_ERR = 0.02, 0.01, 0.001
FLAT, FLAT_ERR, LOW_FLAT = 0.9, 0.009, 0.4
PARS_MIN_FLAT = 0.5  # the pars-flatstep reference of csst_0002 sets FlatStep.min_flat
REFTYPES = ("mask", "saturation", "bias", "gain", "dark", "flat")

#: CRDS functions that select or fetch references, and stpipe's wrappers around them.
CRDS_TARGETS = (
    ("crds", "getreferences"), ("crds", "getrecommendations"), ("crds", "locate_file"),
    ("crds", "get_cached_mapping"), ("crds", "get_symbolic_mapping"),
    ("crds", "get_default_context"),
    ("crds.core.heavy_client", "getreferences"), ("crds.core.heavy_client", "getrecommendations"),
    ("crds.core.heavy_client", "get_processing_mode"),
    ("crds.core.heavy_client", "get_symbolic_mapping"),
    ("crds.core.heavy_client", "local_bestrefs"), ("crds.core.heavy_client", "get_final_context"),
    ("crds.core.rmap", "get_cached_mapping"), ("crds.core.rmap", "load_mapping"),
    ("crds.core.rmap", "fetch_mapping"), ("crds.core.config", "locate_file"),
    ("crds.core.config", "locate_reference"), ("crds.client.api", "dump_references"),
    ("crds.client.api", "dump_mappings"), ("crds.client.api", "get_best_references"),
    ("crds.client.api", "dump_files"),
    ("stpipe.crds_client", "get_multiple_reference_paths"),
    ("stpipe.crds_client", "get_reference_file"), ("stpipe.crds_client", "_get_refpaths"),
    ("stpipe.crds_client", "reference_uri_to_cache_path"),
    ("stpipe.crds_client", "get_context_used"), ("stpipe.crds_client", "get_svn_version"),
)

TRAP_SOURCE = '''\
"""Installed as sitecustomize by the step tests: any CRDS selection or fetch fails loudly."""
import importlib
import os


def _trap(name):
    def trapped(*args, **kwargs):
        log = os.environ.get("CSST_CRDS_TRAP_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as stream:
                stream.write(name + "\\n")
        raise RuntimeError("the CRDS library was called: " + name)
    return trapped


for _module, _name in {targets!r}:
    setattr(importlib.import_module(_module), _name, _trap(_module + "." + _name))
'''


@pytest.fixture(autouse=True)
def _no_crds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """In-process step tests fail if any CRDS selection or fetch function runs."""
    called: list[str] = []

    def trap(name: str) -> Callable[..., Any]:
        def trapped(*args: Any, **kwargs: Any) -> Any:
            called.append(name)
            raise RuntimeError(f"the CRDS library was called: {name}")
        return trapped

    for module, name in CRDS_TARGETS:
        monkeypatch.setattr(importlib.import_module(module), name, trap(f"{module}.{name}"))
    clear_providers()
    yield called
    clear_providers()
    assert not called, f"CRDS was called: {called}"


@pytest.fixture(scope="session")
def trap_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a folder holding a ``sitecustomize.py`` that traps CRDS (put it on PYTHONPATH)."""
    folder = tmp_path_factory.mktemp("crds_trap")
    (folder / "sitecustomize.py").write_text(TRAP_SOURCE.format(targets=CRDS_TARGETS),
                                             encoding="utf-8")
    return folder


def _header(**fields: str) -> str:
    lines = "".join(f"    {key!r} : {value},\n" for key, value in sorted(fields.items()))
    return "header = {\n" + lines + "}\n\n"


def _mapping(kind: str, name: str, parkey: str, selector: str, **fields: str) -> str:
    text = _header(derived_from="'tests/test_steps'", mapping=repr(kind), name=repr(name),
                   observatory="'CSST'", parkey=parkey, sha1sum="''", **fields)
    return set_sha1sum(text + "selector = " + textwrap.dedent(selector).strip() + "\n")


def _rmap(reftype: str, serial: int, parkey: str, selector: str) -> tuple[str, str]:
    name = f"csst_msc_{reftype}_{serial:04d}.rmap"
    return name, _mapping("REFERENCE", name, parkey, selector, instrument="'MSC'",
                          filekind=repr(reftype.upper()))


def _useafter(*pairs: tuple[str, str]) -> str:
    return "UseAfter({" + "".join(f"'{date}' : '{file}', " for date, file in pairs) + "})"


def level1_rules() -> dict[str, str]:
    """Return the mappings: csst_0001.pmap (old dark), csst_0002.pmap (new dark, pars-flatstep)."""
    detector_mode = "(('DETECTOR', 'READMODE'), ('DATE-OBS', 'TIME-OBS'))"
    day1, day2 = "2027-01-01 00:00:00", "2027-01-02 00:00:00"
    rmaps = dict([
        _rmap("mask", 1, detector_mode,
              f"Match({{('06|08', '*') : {_useafter((day1, 'csst_msc_mask_0001.fits'))}}})"),
        _rmap("saturation", 1, "(('DETECTOR',), ('DATE-OBS', 'TIME-OBS'))",
              f"Match({{'06|08' : {_useafter((day1, 'csst_msc_saturation_0001.fits'))}}})"),
        _rmap("bias", 1, detector_mode,
              f"Match({{('06|08', '*') : {_useafter((day1, 'csst_msc_bias_0001.fits'))}}})"),
        _rmap("gain", 1, detector_mode,
              f"Match({{('06|08', '*') : {_useafter((day1, 'csst_msc_gain_0001.fits'))}}})"),
        _rmap("dark", 1, detector_mode,
              f"Match({{('06|08', '*') : {_useafter((day1, 'csst_msc_dark_0001.fits'))}}})"),
        _rmap("dark", 2, detector_mode, "Match({('06|08', '*') : " + _useafter(
            (day1, "csst_msc_dark_0001.fits"), (day2, "csst_msc_dark_0002.fits")) + "})"),
        _rmap("flat", 1, "(('DETECTOR', 'FILTER'), ('DATE-OBS', 'TIME-OBS'))",
              f"Match({{('06', 'y') : {_useafter((day1, 'csst_msc_flat_0001.fits'))}, "
              "('08', 'g') : 'N/A'})"),
        _rmap("pars-flatstep", 1, "(('DETECTOR',), ('DATE-OBS', 'TIME-OBS'))",
              f"Match({{'06' : {_useafter((day1, 'csst_msc_pars-flatstep_0001.asdf'))}}})"),
    ])
    types = {t: f"csst_msc_{t}_0001.rmap" for t in REFTYPES}
    imaps = {
        "csst_msc_0001.imap": types,
        "csst_msc_0002.imap": {**types, "dark": "csst_msc_dark_0002.rmap",
                               "pars-flatstep": "csst_msc_pars-flatstep_0001.rmap"},
    }
    texts = {}
    for serial, (imap, entries) in enumerate(imaps.items(), start=1):
        body = "{\n" + "".join(f"    {k!r} : {v!r},\n" for k, v in entries.items()) + "}"
        texts[imap] = _mapping("INSTRUMENT", imap, "('REFTYPE',)", body, instrument="'MSC'")
        pmap = f"csst_{serial:04d}.pmap"
        texts[pmap] = _mapping("PIPELINE", pmap, "('INSTRUME',)", f"{{'MSC' : {imap!r}}}")
    texts.update(rmaps)
    return texts


def _reference(model_class: type, reftype: str, **arrays: np.ndarray) -> datamodels.DataModel:
    meta: dict[str, Any] = {
        "reftype": reftype, "instrument": {"name": "MSC", "detector": "06"},
        "useafter": "2027-01-01T00:00:00", "pedigree": "SIMULATION",
        "description": f"test {reftype.lower()}", "author": "tests/test_steps",
    }
    deps = {"DARK": ("bias",), "FLAT": ("bias", "dark")}.get(reftype, ())
    meta["ref_file"] = {dep: {"name": f"csst_msc_{dep}_0001.fits"} for dep in deps}
    return model_class(meta, **arrays)


def reference_models() -> dict[str, datamodels.DataModel]:
    """Return the reference files of the cache, by file name."""
    full = np.full
    mask = np.zeros(SHAPE, np.uint32)
    mask[MASKED_PIXEL] = MASK_BITS
    flat = full(SHAPE, FLAT, np.float32)
    flat[ZERO_FLAT_PIXEL] = 0.0
    flat[LOW_FLAT_PIXEL] = LOW_FLAT
    errors = {name: full(SHAPE, value, np.float32)
              for name, value in (("bias", BIAS_ERR), ("dark", DARK_ERR), ("flat", FLAT_ERR))}
    zero_dq = np.zeros(SHAPE, np.uint32)
    return {
        "csst_msc_mask_0001.fits": _reference(datamodels.MaskRefModel, "MASK", dq=mask),
        "csst_msc_saturation_0001.fits": _reference(
            datamodels.SaturationRefModel, "SATURATION", data=full(SHAPE, SATURATION)),
        "csst_msc_bias_0001.fits": _reference(
            datamodels.BiasRefModel, "BIAS", data=full(SHAPE, BIAS), err=errors["bias"],
            dq=zero_dq),
        "csst_msc_gain_0001.fits": _reference(datamodels.GainRefModel, "GAIN",
                                              data=full(SHAPE, GAIN)),
        "csst_msc_dark_0001.fits": _reference(
            datamodels.DarkRefModel, "DARK", data=full(SHAPE, DARK_1), err=errors["dark"],
            dq=zero_dq),
        "csst_msc_dark_0002.fits": _reference(
            datamodels.DarkRefModel, "DARK", data=full(SHAPE, DARK_2), err=errors["dark"],
            dq=zero_dq),
        "csst_msc_flat_0001.fits": _reference(
            datamodels.FlatRefModel, "FLAT", data=flat, err=errors["flat"], dq=zero_dq),
    }


def write_pars(path: Path, class_name: str, **parameters: Any) -> Path:
    """Write an stpipe parameter file (ASDF StepConfig) for one step class."""
    from stpipe._config import StepConfig

    StepConfig(class_name, class_name.rsplit(".", 1)[-1], parameters, []).to_asdf() \
        .write_to(path)
    return path


@pytest.fixture(scope="session")
def level1_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the cache: rules of six types in two contexts, 64×64 references.

    csst_0002.pmap is the operational context.
    """
    root = tmp_path_factory.mktemp("level1") / "cache"
    mappings = root / "mappings" / "csst"
    references = root / "references" / "csst" / "msc"
    config = root / "config" / "csst"
    for folder in (mappings, references, config):
        folder.mkdir(parents=True)
    for name, text in level1_rules().items():
        (mappings / name).write_text(text, encoding="utf-8")
    for name, model in reference_models().items():
        model.save(references / name)
    write_pars(references / "csst_msc_pars-flatstep_0001.asdf",
               "steps.flat.flat_step.FlatStep", min_flat=PARS_MIN_FLAT)
    (config / "server_config").write_text(
        "{'observatory': 'csst', 'operational_context': 'csst_0002.pmap'}\n", encoding="utf-8")
    return root


def exposure(detector: str = "06", date: str = "2027-01-02") -> datamodels.RawModel:
    """Return a level-0 MSC exposure of 64×64 pixels at 10:00 on `date`."""
    data = np.full(SHAPE, RAW, np.uint16)
    data[SATURATED_PIXEL] = SATURATED_RAW
    band = {"06": "y", "08": "g"}[detector]
    return datamodels.RawModel({
        "observation": {"obsid": "10100300001", "date": date, "time": "10:00:00"},
        "exposure": {"type": "SCI", "exptime": EXPTIME},
        "instrument": {"name": "MSC", "detector": detector, "filter": band,
                       "readmode": "NORMAL"},
    }, data=data)


@pytest.fixture(scope="session")
def raw_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the level-0 exposure (detector 06, 2027-01-02 10:00) saved as FITS."""
    path = tmp_path_factory.mktemp("inputs") / "exposure_L0.fits"
    exposure().save(path)
    return path


@pytest.fixture
def level1_settings(level1_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point CSST_CRDS_PATH at the level-1 cache."""
    monkeypatch.setenv("CSST_CRDS_PATH", str(level1_cache))
    return level1_cache


@pytest.fixture(scope="session")
def numbers() -> SimpleNamespace:
    """Return the round numbers the cache and the exposures are built from."""
    names = ("SHAPE", "RAW", "SATURATED_RAW", "SATURATION", "SATURATED_PIXEL", "MASKED_PIXEL",
             "ZERO_FLAT_PIXEL", "LOW_FLAT_PIXEL", "MASK_BITS", "BIAS", "BIAS_ERR", "GAIN",
             "EXPTIME", "DARK_1", "DARK_2", "DARK_ERR", "FLAT", "FLAT_ERR", "LOW_FLAT",
             "PARS_MIN_FLAT", "REFTYPES")
    return SimpleNamespace(**{name: globals()[name] for name in names})


@pytest.fixture(scope="session")
def make_exposure() -> Callable[..., datamodels.RawModel]:
    """``make_exposure(detector="06", date="2027-01-02")``: a level-0 exposure at 10:00."""
    return exposure


@pytest.fixture(scope="session")
def pars_writer() -> Callable[..., Path]:
    """``pars_writer(path, class_name, **parameters)`` writes an ASDF parameter file."""
    return write_pars


@pytest.fixture
def bestrefs(level1_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
             ) -> Callable[[dict[str, Any], str], dict[str, Any]]:
    """``bestrefs(parameters, context)``: what ``csst-crds bestrefs`` reports for the types."""

    def run(parameters: dict[str, Any], context: str) -> dict[str, Any]:
        cases = tmp_path / "cases.jsonl"
        cases.write_text(json.dumps(parameters) + "\n", encoding="utf-8")
        capsys.readouterr()
        status = csst_crds(["bestrefs", "--cache", str(level1_cache), "--context", context,
                            "--headers", str(cases), "--types", *REFTYPES])
        assert status == 0
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 1
        return dict(json.loads(lines[0])["results"])

    return run


STRUN = str(Path(sys.executable).with_name("strun"))
"""The strun console script of this environment."""


def strun_env(cache: Path, trap: Path, log: Path, **extra: str) -> dict[str, str]:
    """Environment for strun: the cache, the CRDS trap as sitecustomize, a trap log path."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CSST_CRDS_", "CRDS_", "PYTHON", "STPIPE_"))}
    env.update(CSST_CRDS_PATH=str(cache), PYTHONPATH=str(trap), CSST_CRDS_TRAP_LOG=str(log),
               CRDS_SERVER_URL="https://crds-must-not-be-used.invalid", CRDS_PATH="/nonexistent",
               **extra)
    return env


@pytest.fixture(scope="session")
def strun_command() -> tuple[str, Callable[..., dict[str, str]]]:
    """``(strun path, strun_env(cache, trap, log, **extra))`` for subprocess runs."""
    return STRUN, strun_env
