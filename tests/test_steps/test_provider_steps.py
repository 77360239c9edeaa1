"""Steps and pipelines on the provider, in process: lookups, prefetch, pars, overrides, errors."""

from __future__ import annotations

import logging
import shlex
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from stpipe import Step

import datamodels
from csst_crds_plugin import ConfigurationError, FileNotCachedError, ReferenceProvider
from csst_crds_plugin.cli.main import main as csst_crds
from csst_crds_plugin.errors import BadReferenceError, CacheError, CsstCrdsError
from csst_crds_plugin.stpipe_integration import SOFTWARE_VERSION, StepReferenceError, get_provider
from steps import CalibrationError, DarkStep, FlatStep, Level1Pipeline
from steps.dqflags import DO_NOT_USE, NO_FLAT_FIELD

pytestmark = pytest.mark.usefixtures("level1_settings")


def reference(cache: Path, name: str) -> str:
    return str(cache / "references" / "csst" / "msc" / name)


def test_get_reference_file_returns_the_providers_path(level1_cache: Path,
                                                       make_exposure: Any) -> None:
    model = make_exposure()
    path = DarkStep().get_reference_file(model, "dark")
    assert path == ReferenceProvider().get_reference_file(model.get_crds_parameters(), "dark")
    # 2027-01-02 10:00 is after the 2027-01-02 00:00 dark of the operational csst_0002.pmap
    assert path == reference(level1_cache, "csst_msc_dark_0002.fits")


def test_prefetch_asks_the_provider_once_for_every_type_of_every_step(
        raw_path: Path, numbers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    provider = get_provider("csst")
    calls: list[tuple[str, ...]] = []
    real = provider._select  # every lookup, best_references or get_reference_file

    def counted(parameters: Any, reftypes: Any, errors: Any) -> Any:
        calls.append(tuple(reftypes))
        return real(parameters, reftypes, errors)

    monkeypatch.setattr(provider, "_select", counted)
    Level1Pipeline().run(str(raw_path))
    prefetch, *lookups = calls
    assert sorted(prefetch) == sorted(numbers.REFTYPES)
    # then each step asks for its own types, one call each, in pipeline order
    assert lookups == [(t,) for t in ("mask", "saturation", "bias", "gain", "dark", "flat")]


def test_prefetch_leaves_out_overridden_types(raw_path: Path, level1_cache: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    provider = get_provider("csst")
    calls: list[tuple[str, ...]] = []
    real = provider._select
    monkeypatch.setattr(provider, "_select",
                        lambda p, t, e: calls.append(tuple(t)) or real(p, t, e))
    pipeline = Level1Pipeline()
    pipeline.dark.override_dark = reference(level1_cache, "csst_msc_dark_0001.fits")
    pipeline.flat.skip = True
    result = pipeline.run(str(raw_path))
    assert sorted(calls[0]) == ["bias", "gain", "mask", "saturation"]
    assert ("dark",) not in calls and ("flat",) not in calls
    assert result.meta.cal_step.csst_flat == "SKIPPED"  # stpipe's own skip


def test_pars_reference_sets_step_parameters(make_exposure: Any, numbers: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    model = make_exposure()
    config = FlatStep.get_config_from_reference(model)
    assert float(config["min_flat"]) == numbers.PARS_MIN_FLAT
    pipeline_config = Level1Pipeline.get_config_from_reference(model)
    assert float(pipeline_config["steps"]["flat"]["min_flat"]) == numbers.PARS_MIN_FLAT
    assert dict(pipeline_config["steps"]["dark"]) == {}
    result = FlatStep.call(model)
    # 0.4 is not above 0.5: flagged and not divided (with the default 0.0 it is divided)
    assert result.dq[numbers.LOW_FLAT_PIXEL] & NO_FLAT_FIELD
    monkeypatch.setenv("CSST_CRDS_CONTEXT", "csst_0001.pmap")  # has no pars-flatstep type
    assert dict(FlatStep.get_config_from_reference(model)) == {}
    result = FlatStep.call(model)
    assert result.dq[numbers.LOW_FLAT_PIXEL] == 0
    assert result.data[numbers.LOW_FLAT_PIXEL] == pytest.approx(numbers.RAW / numbers.LOW_FLAT)


def test_no_pars_rule_means_defaults_but_a_broken_cache_is_an_error(
        make_exposure: Any, level1_cache: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert dict(FlatStep.get_config_from_reference(make_exposure(detector="08"))) == {}
    broken = tmp_path / "cache"
    shutil.copytree(level1_cache, broken)
    (broken / "references/csst/msc/csst_msc_pars-flatstep_0001.asdf").unlink()
    monkeypatch.setenv("CSST_CRDS_PATH", str(broken))
    with pytest.raises(FileNotCachedError, match="csst_msc_pars-flatstep_0001.asdf"):
        FlatStep.get_config_from_reference(make_exposure())


def test_not_applicable_from_the_rules_skips_the_step(
        make_exposure: Any, caplog: pytest.LogCaptureFixture) -> None:
    model = make_exposure(detector="08")  # the flat rules say N/A for chip 08 (g)
    with caplog.at_level(logging.INFO, logger="steps"):
        result = FlatStep.call(model)
    assert result.meta.cal_step.csst_flat == "SKIPPED"
    entry = result.meta.ref_file.flat
    assert (entry.name, entry.source) == ("N/A", "not_applicable")
    assert np.array_equal(result.data, model.data.astype(np.float32))
    assert any("SKIPPED" in r.getMessage() and "from the rules" in r.getMessage()
               for r in caplog.records)


class _OutsideFlatStep(FlatStep):
    """A CSST step defined outside the `steps` package (as a user's package would)."""


@pytest.mark.parametrize("step_class", [FlatStep, _OutsideFlatStep], ids=["steps", "outside"])
def test_a_step_logs_under_its_module_and_stpipe_shows_it(
        step_class: type[FlatStep], make_exposure: Any,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The SKIPPED message comes from the step's module logger and reaches stpipe's log."""
    assert step_class.__module__.partition(".")[0] in step_class.get_stpipe_loggers()
    step_class.call(make_exposure(detector="08"))  # N/A from the rules; stpipe's log on stderr
    lines = [line for line in capsys.readouterr().err.splitlines()
             if "so the step is SKIPPED" in line]
    # stpipe's handlers sit only on the loggers it configures; its format names the logger
    assert len(lines) == 1 and f" - {step_class.__module__} - INFO - " in lines[0], lines


def test_provenance_records_context_version_and_sources(make_exposure: Any,
                                                        level1_cache: Path) -> None:
    override = reference(level1_cache, "csst_msc_dark_0001.fits")
    result = DarkStep.call(make_exposure(), override_dark=override)
    assert result.meta.ref_file.crds.context_used == "csst_0002.pmap"
    assert result.meta.ref_file.crds.sw_version == SOFTWARE_VERSION
    assert (result.meta.ref_file.dark.name, result.meta.ref_file.dark.source) == (
        override, "override")
    result = DarkStep.call(make_exposure())
    assert (result.meta.ref_file.dark.name, result.meta.ref_file.dark.source) == (
        "csst_msc_dark_0002.fits", "rule")
    assert result.meta.cal_step.csst_dark == "COMPLETE"


def test_a_model_override_is_used_and_recorded(make_exposure: Any, level1_cache: Path,
                                               numbers: Any) -> None:
    dark = datamodels.open(reference(level1_cache, "csst_msc_dark_0001.fits"))
    raw = make_exposure()
    result = DarkStep.call(raw, override_dark=dark)
    assert result.meta.ref_file.dark.name == "override://csst_msc_dark_0001.fits"
    assert result.meta.ref_file.dark.source == "override"
    expected = numbers.RAW - numbers.DARK_1 * numbers.EXPTIME  # the override's 0.02 e-/s
    assert result.data[0, 0] == pytest.approx(expected)
    # the input is untouched: its arrays and its metadata
    assert raw.data[0, 0] == numbers.RAW
    assert "csst_dark" not in raw.meta.cal_step.statuses()
    dark.close()


def test_relative_override_in_a_parameter_file_starts_at_its_folder(
        make_exposure: Any, level1_cache: Path, pars_writer: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "params"
    (folder / "refs").mkdir(parents=True)
    shutil.copy(reference(level1_cache, "csst_msc_dark_0001.fits"), folder / "refs/old.fits")
    config = pars_writer(folder / "dark.asdf", "steps.dark.dark_step.DarkStep",
                         override_dark="refs/old.fits")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = DarkStep.call(make_exposure(), config_file=str(config))
    assert result.meta.ref_file.dark.name == str(folder / "refs/old.fits")
    assert result.meta.ref_file.dark.source == "override"


def test_failed_lookup_names_step_type_context_and_explain_command(
        make_exposure: Any, capsys: pytest.CaptureFixture[str]) -> None:
    early = make_exposure(date="2026-06-01")  # before every USEAFTER date
    with pytest.raises(StepReferenceError) as raised:
        DarkStep.call(early)
    error = raised.value
    message = str(error)
    assert error.category == "no-match" and error.reftype == "dark"
    assert error.context == "csst_0002.pmap"
    for text in ("step csst_dark", "dark reference", "csst_0002.pmap", "DATE-OBS='2026-06-01'",
                 "DETECTOR='06'", "csst-crds explain", "override_dark"):
        assert text in message
    assert error.parameters == {"INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "NORMAL",
                                "DATE-OBS": "2026-06-01", "TIME-OBS": "10:00:00"}
    words = shlex.split(error.command)
    assert words[:2] == ["csst-crds", "explain"] and "--type" in words
    capsys.readouterr()
    assert csst_crds(words[1:]) == 1  # the suggested command runs and shows the failure
    assert "2026-06-01" in capsys.readouterr().out


def test_failed_prefetch_names_the_steps_that_need_the_type(make_exposure: Any) -> None:
    with pytest.raises(StepReferenceError, match=r"csst_bias \(step 'bias' of Level1Pipeline"):
        Level1Pipeline().run(make_exposure(date="2026-06-01"))


def test_overrides_need_no_cache_and_lookups_say_how_to_get_one(
        make_exposure: Any, level1_cache: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSST_CRDS_PATH", str(tmp_path / "empty"))
    override = reference(level1_cache, "csst_msc_dark_0001.fits")
    result = DarkStep.call(make_exposure(), override_dark=override)
    assert result.meta.ref_file.dark.source == "override"
    assert result.meta.ref_file.crds.context_used is None  # no context was used
    with pytest.raises(ConfigurationError, match="No context") as raised:
        DarkStep.call(make_exposure())
    assert any("csst_dark" in note for note in raised.value.__notes__)


def test_a_reference_of_the_wrong_shape_or_type_is_refused(
        make_exposure: Any, level1_cache: Path, tmp_path: Path) -> None:
    small = datamodels.DarkRefModel.create_minimal(shape=(4, 4))
    path = tmp_path / "small_dark.fits"
    small.save(path)
    with pytest.raises(CalibrationError, match=r"small_dark.fits has shape \(4, 4\)"):
        DarkStep.call(make_exposure(), override_dark=str(path))
    flat = reference(level1_cache, "csst_msc_flat_0001.fits")
    with pytest.raises(CalibrationError, match="is a FlatRefModel; it needs a DarkRefModel"):
        DarkStep.call(make_exposure(), override_dark=flat)


def test_level1_pipeline_from_python_as_strun_runs_it(raw_path: Path, tmp_path: Path,
                                                      numbers: Any) -> None:
    out = tmp_path / "out"
    Step.from_cmdline(["csst_level1", str(raw_path), "--output_dir", str(out)])
    with datamodels.open(out / "exposure_L1.fits") as result:
        assert isinstance(result, datamodels.ImageModel)
        assert result.meta.ref_file.crds.context_used == "csst_0002.pmap"
        assert result.dq[numbers.SATURATED_PIXEL] & DO_NOT_USE
        assert set(result.meta.cal_step.statuses().values()) == {"COMPLETE"}


def test_a_step_config_file_named_by_a_pipeline_file_resolves_from_its_own_folder(
        raw_path: Path, level1_cache: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from stpipe._config import StepConfig

    sub = tmp_path / "params" / "sub"
    (sub / "refs").mkdir(parents=True)
    shutil.copy(reference(level1_cache, "csst_msc_dark_0001.fits"), sub / "refs/old.fits")
    StepConfig("steps.dark.dark_step.DarkStep", "dark", {"override_dark": "refs/old.fits"},
               []).to_asdf().write_to(sub / "dark.asdf")
    StepConfig("steps.level1.level1_pipeline.Level1Pipeline", "Level1Pipeline", {}, [
        StepConfig("steps.dark.dark_step.DarkStep", "dark", {"config_file": "sub/dark.asdf"},
                   []),
    ]).to_asdf().write_to(tmp_path / "params" / "level1.asdf")
    monkeypatch.chdir(tmp_path)
    pipeline = Level1Pipeline.from_config_file(str(tmp_path / "params" / "level1.asdf"))
    assert pipeline.dark.override_dark == str(sub / "refs/old.fits")


def test_a_relative_override_in_a_pars_reference_resolves_from_the_cache_folder(
        make_exposure: Any, level1_cache: Path, pars_writer: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(level1_cache, cache)
    folder = cache / "references/csst/msc"
    pars_writer(folder / "csst_msc_pars-flatstep_0001.asdf", "steps.flat.flat_step.FlatStep",
                override_flat="my_flat.fits")
    monkeypatch.setenv("CSST_CRDS_PATH", str(cache))
    config = FlatStep.get_config_from_reference(make_exposure())
    assert config["override_flat"] == str(folder / "my_flat.fits")


def test_a_reference_marked_bad_stops_the_run_and_names_the_step(
        make_exposure: Any, level1_cache: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(level1_cache, cache)
    (cache / "config/csst/bad_files.txt").write_text("csst_msc_dark_0002.fits\n",
                                                     encoding="utf-8")
    monkeypatch.setenv("CSST_CRDS_PATH", str(cache))
    with pytest.raises(BadReferenceError, match="csst_msc_dark_0002.fits") as raised:
        Level1Pipeline().run(make_exposure())
    assert any("csst_dark (step 'dark' of Level1Pipeline)" in note
               for note in raised.value.__notes__)
    with pytest.raises(BadReferenceError) as raised:
        DarkStep.call(make_exposure())
    assert any("csst_dark" in note for note in raised.value.__notes__)


def test_reference_uris_resolve_in_the_cache_and_never_outside(level1_cache: Path) -> None:
    from csst_crds_plugin.stpipe_integration import reference_uri_to_cache_path

    assert reference_uri_to_cache_path("crds://csst_msc_dark_0002.fits") == reference(
        level1_cache, "csst_msc_dark_0002.fits")
    with pytest.raises(FileNotCachedError, match="csst_msc_dark_0999.fits"):
        reference_uri_to_cache_path("crds://csst_msc_dark_0999.fits")
    with pytest.raises(CacheError, match="plain file names inside the cache"):
        reference_uri_to_cache_path("crds://../../../etc/passwd")
    with pytest.raises(CsstCrdsError, match="should start with 'crds://'"):
        reference_uri_to_cache_path("/etc/passwd")
