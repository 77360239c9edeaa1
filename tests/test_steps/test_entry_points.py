"""The ``stpipe.steps`` entry point: a static list that matches the package."""

from __future__ import annotations

import importlib
import importlib.metadata

from stpipe import entry_points
from stpipe.pipeline import Pipeline
from stpipe.step import Step
from stpipe.utilities import resolve_step_class_alias

import steps
from steps.integration import get_steps


def _load(path: str) -> type:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_the_static_list_matches_the_package() -> None:
    listed = {_load(path): (alias, is_pipeline) for path, alias, is_pipeline in get_steps()}
    exported = {getattr(steps, name) for name in steps.__all__}
    runnable = {c for c in exported if isinstance(c, type) and issubclass(c, Step)
                and c not in (steps.CsstStep, steps.CsstPipeline)}
    assert set(listed) == runnable
    for cls, (alias, is_pipeline) in listed.items():
        assert alias == cls.class_alias and alias.startswith("csst_")
        assert is_pipeline == issubclass(cls, Pipeline)


def test_the_entry_point_is_installed_and_resolves_the_aliases() -> None:
    points = importlib.metadata.entry_points(group="stpipe.steps")
    assert "steps.integration:get_steps" in {point.value for point in points}
    infos = {info.class_alias: info for info in entry_points.get_steps()}
    for path, alias, is_pipeline in get_steps():
        assert infos[alias].class_name == path
        assert infos[alias].is_pipeline == is_pipeline
        assert infos[alias].package_name == "csst-crds-plugin"
        assert resolve_step_class_alias(alias) == path
