"""Unchanged romancal and jwst steps served by the plugin: activate() and csst-strun.

The CRDS library cannot select here (see conftest): every reference, the recorded context and
the recorded software version must come from the serverless cache, in the mission's own
provenance fields, read back from the saved file.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from stpipe import crds_client

from csst_crds_plugin.stpipe_integration import SOFTWARE_VERSION, activate, active


@dataclass(frozen=True)
class Convention:
    """How one mission's step is named and records provenance."""

    step: str
    pipeline_base: str
    opener: Callable[[Path], Any]
    reference: Callable[[Any], str]
    context: Callable[[Any], str]
    version: Callable[[Any], str]


def _roman_open(path: Path) -> Any:
    import roman_datamodels as rdm

    return rdm.open(path)


def _jwst_open(path: Path) -> Any:
    from stdatamodels.jwst import datamodels

    return datamodels.open(path)


CONVENTIONS = {
    "roman": Convention(
        "romancal.dq_init.DQInitStep", "romancal.stpipe.RomanPipeline", _roman_open,
        reference=lambda model: str(model.meta.ref_file.mask),
        context=lambda model: str(model.meta.ref_file.crds.context),
        version=lambda model: str(model.meta.ref_file.crds.version)),
    "jwst": Convention(
        "jwst.dq_init.DQInitStep", "jwst.stpipe.Pipeline", _jwst_open,
        reference=lambda model: str(model.meta.ref_file.mask.name),
        context=lambda model: str(model.meta.ref_file.crds.context_used),
        version=lambda model: str(model.meta.ref_file.crds.sw_version)),
}
"""Roman: ``meta.ref_file.<type>`` strings and ``crds.context``/``version``; JWST:
``meta.ref_file.<type>.name`` and ``crds.context_used``/``sw_version``."""


@pytest.fixture(params=["roman", "jwst"])
def mission(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)


def _class(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(__import__(module, fromlist=[name]), name)


def _saved(folder: Path) -> Path:
    found = sorted(p for p in folder.iterdir() if p.suffix in (".asdf", ".fits"))
    assert len(found) == 1, found
    return found[0]


def _check_output(kit: SimpleNamespace, convention: Convention, path: Path, reference: str,
                  context: str, bits: dict[int, list[tuple[int, int]]]) -> None:
    with convention.opener(path) as model:
        assert convention.reference(model) == reference
        assert convention.context(model) == context
        assert convention.version(model) == SOFTWARE_VERSION
        for bit, pixels in bits.items():
            assert kit.flagged(model.pixeldq, bit) == pixels


def test_activate_serves_an_unchanged_mission_step(kit: SimpleNamespace, mission: Any,
        crds_cache: Path, tmp_path: Path) -> None:
    convention = CONVENTIONS[mission.name]
    originals = {name: getattr(crds_client, name) for name in dir(crds_client)
                 if callable(getattr(crds_client, name))}
    out = tmp_path / "out"
    with activate(cache=mission.cache) as handle:
        assert active() is handle
        assert crds_client.get_context_used(mission.name) == mission.context
        _class(convention.step).call(mission.raw, save_results=True, output_dir=str(out))
    assert active() is None
    restored = {name: getattr(crds_client, name) for name in originals}
    assert restored == originals
    _check_output(kit, convention, _saved(out), f"crds://{mission.mask}", mission.context,
                  {kit.MASK_BIT: [(2, 3)], kit.OVERRIDE_BIT: []})


def test_overrides_by_path_and_by_model(kit: SimpleNamespace, mission: Any, crds_cache: Path,
        tmp_path: Path) -> None:
    convention = CONVENTIONS[mission.name]
    step = _class(convention.step)
    with activate(cache=mission.cache):
        step.call(mission.raw, save_results=True, output_dir=str(tmp_path / "by_path"),
                  override_mask=str(mission.override))
        with convention.opener(mission.override) as model:
            result = step.call(mission.raw, override_mask=model)
        assert kit.flagged(result.pixeldq, kit.OVERRIDE_BIT) == [(1, 1)]
        assert kit.flagged(result.pixeldq, kit.MASK_BIT) == []
    _check_output(kit, convention, _saved(tmp_path / "by_path"), str(mission.override),
                  mission.context, {kit.MASK_BIT: [], kit.OVERRIDE_BIT: [(1, 1)]})


def test_csst_strun_runs_an_unchanged_mission_step(kit: SimpleNamespace, mission: Any,
        crds_cache: Path, tmp_path: Path) -> None:
    convention = CONVENTIONS[mission.name]
    rule, override = tmp_path / "rule", tmp_path / "override"
    done = kit.run_cli(["csst-strun", convention.step, str(mission.raw), "--save_results=true",
                    f"--output_dir={rule}"], tmp_path, mission.cache, crds_cache)
    assert done.returncode == 0, done.stderr[-3000:]
    _check_output(kit, convention, _saved(rule), f"crds://{mission.mask}", mission.context,
                  {kit.MASK_BIT: [(2, 3)]})
    done = kit.run_cli(["csst-strun", convention.step, str(mission.raw), "--save_results=true",
                    f"--output_dir={override}", f"--override_mask={mission.override}"],
                   tmp_path, mission.cache, crds_cache)
    assert done.returncode == 0, done.stderr[-3000:]
    _check_output(kit, convention, _saved(override), str(mission.override), mission.context,
                  {kit.MASK_BIT: [], kit.OVERRIDE_BIT: [(1, 1)]})


PIPELINE_MODULE = '''
"""A small {name} pipeline around the mission's unchanged dq_init step."""
from {base_module} import {base_class}
from {step_module} import DQInitStep


class SmallPipeline({base_class}):
    """dq_init only; a pipeline, so stpipe prefetches its references."""

    class_alias = "small_{name}"
    spec = """
    output_ext = string(default="{ext}")
    """
    step_defs = {{"dq_init": DQInitStep}}

    def process(self, data):
        return self.dq_init.run(data)
'''


def _pipeline_module(folder: Path, mission: Any) -> str:
    convention = CONVENTIONS[mission.name]
    base_module, _, base_class = convention.pipeline_base.rpartition(".")
    step_module = convention.step.rpartition(".")[0]
    name = f"small_{mission.name}_pipeline"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(PIPELINE_MODULE.format(
        name=mission.name, base_module=base_module, base_class=base_class,
        step_module=step_module, ext=".asdf" if mission.name == "roman" else ".fits")),
        encoding="utf-8")
    return f"{name}.SmallPipeline"


def test_a_mission_pipeline_prefetches_and_takes_per_step_na(kit: SimpleNamespace, mission: Any,
        crds_cache: Path, tmp_path: Path) -> None:
    convention = CONVENTIONS[mission.name]
    modules = tmp_path / "modules"
    pipeline = _pipeline_module(modules, mission)
    env = {"PYTHONPATH": str(modules)}
    prefetch, skipped = tmp_path / "prefetch", tmp_path / "skipped"
    done = kit.run_cli(["csst-strun", pipeline, str(mission.raw), f"--output_dir={prefetch}"],
                   tmp_path, mission.cache, crds_cache, env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Prefetch for MASK reference file is" in done.stderr + done.stdout
    assert str(mission.reference(mission.mask)) in done.stderr + done.stdout
    _check_output(kit, convention, _saved(prefetch), f"crds://{mission.mask}", mission.context,
                  {kit.MASK_BIT: [(2, 3)]})
    done = kit.run_cli(["csst-strun", pipeline, str(mission.raw), f"--output_dir={skipped}",
                    "--steps.dq_init.override_mask=N/A"],
                   tmp_path, mission.cache, crds_cache, env)
    assert done.returncode == 0, done.stderr[-3000:]
    with convention.opener(_saved(skipped)) as model:
        assert convention.reference(model) == "N/A"
        assert kit.flagged(model.pixeldq, kit.MASK_BIT) == []


def test_csst_strun_keeps_strun_command_line(kit: SimpleNamespace, tmp_path: Path, roman: Any,
        crds_cache: Path) -> None:
    done = kit.run_cli(["csst-strun", "--version"], tmp_path, roman.cache, crds_cache)
    assert done.returncode == 0
    assert SOFTWARE_VERSION in done.stdout and "stpipe" in done.stdout
    done = kit.run_cli(["csst-strun", CONVENTIONS["roman"].step, "--help"], tmp_path, roman.cache,
                   crds_cache)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--override_mask" in done.stdout
    done = kit.run_cli(["csst-strun", CONVENTIONS["roman"].step, str(roman.raw),
                    "--override_mask=/nonexistent/mask.asdf"], tmp_path, roman.cache, crds_cache)
    assert done.returncode != 0
    assert "mask.asdf" in done.stderr


def test_the_rules_pick_by_date(kit: SimpleNamespace, roman: Any, crds_cache: Path,
        tmp_path: Path) -> None:
    later = kit.roman_raw(tmp_path / "late" / "r0002_uncal.asdf", "2021-03-01T00:00:00.000")
    with activate(cache=roman.cache):
        result = _class(CONVENTIONS["roman"].step).call(later)
    assert str(result.meta.ref_file.mask) == "crds://roman_wfi_mask_0002.asdf"
    assert kit.flagged(np.asarray(result.pixeldq), kit.MASK_BIT) == [(5, 5)]
