"""The plugin's bases mixed into mission steps and pipelines: the context used is recorded.

The CRDS cache holds a config naming a context the plugin does not use (``*_0099.pmap``):
a mission ``finalize_result`` that asked CRDS would record it. Nothing is activated by hand.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from csst_crds_plugin.stpipe_integration import ProviderPipeline, ProviderStep, active

STEPS = {"roman": ("romancal.dq_init", "romancal.stpipe", "RomanPipeline"),
         "jwst": ("jwst.dq_init", "jwst.stpipe", "Pipeline")}


def _import(module: str, name: str) -> Any:
    return getattr(__import__(module, fromlist=[name]), name)


def _recorded(name: str, model: Any) -> tuple[str, str]:
    ref_file = model.meta.ref_file
    if name == "roman":
        return str(ref_file.mask), str(ref_file.crds.context)
    return str(ref_file.mask.name), str(ref_file.crds.context_used)


@pytest.fixture(params=["roman", "jwst"])
def mission(request: pytest.FixtureRequest, kit: SimpleNamespace, crds_cache: Path,
            monkeypatch: pytest.MonkeyPatch) -> Any:
    found = request.getfixturevalue(request.param)
    kit.seed_crds_config(crds_cache, found.name, f"{found.name}_0099.pmap")
    monkeypatch.setenv("CSST_CRDS_PATH", str(found.cache))
    return found


@pytest.mark.parametrize("order", ["provider first", "mission first"])
def test_a_step_mixing_the_bases_records_the_context_used(mission: Any, order: str) -> None:
    step = _import(STEPS[mission.name][0], "DQInitStep")
    bases = (ProviderStep, step) if order == "provider first" else (step, ProviderStep)
    mixed = type("MixedDQInit", bases, {})
    result = mixed.call(mission.raw)
    assert _recorded(mission.name, result) == (f"crds://{mission.mask}", mission.context)
    assert active() is None  # registered for the run only


@pytest.mark.parametrize("bases", ["provider", "provider+mission", "mission+provider"])
def test_a_pipeline_around_mission_steps_records_the_context_used(mission: Any,
                                                                  bases: str) -> None:
    step_module, pipeline_module, pipeline_name = STEPS[mission.name]
    mission_pipeline = _import(pipeline_module, pipeline_name)
    chosen = {"provider": (ProviderPipeline,),
              "provider+mission": (ProviderPipeline, mission_pipeline),
              "mission+provider": (mission_pipeline, ProviderPipeline)}[bases]
    pipeline = type("SmallPipeline", chosen, {
        "step_defs": {"dq_init": _import(step_module, "DQInitStep")},
        "process": lambda self, data: self.dq_init.run(data),
    })
    result = pipeline.call(mission.raw)
    assert _recorded(mission.name, result) == (f"crds://{mission.mask}", mission.context)
    skipped = pipeline.call(mission.raw, steps={"dq_init": {"override_mask": "N/A"}})
    assert _recorded(mission.name, skipped)[0] == "N/A"
    assert active() is None
