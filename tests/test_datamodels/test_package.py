"""Package hygiene: the installed datamodels, __all__ everywhere, boundaries, module sizes."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import json
import urllib.parse
from pathlib import Path

import pytest

import datamodels

PACKAGE = Path(datamodels.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))


def test_datamodels_is_this_distributions_package() -> None:
    dist = importlib.metadata.distribution("csst-crds-plugin")
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    if direct.get("dir_info", {}).get("editable"):
        root = Path(urllib.parse.urlparse(direct["url"]).path).resolve()
        assert PACKAGE.resolve().is_relative_to(root)
    else:
        installed = {Path(str(dist.locate_file(f))).resolve() for f in dist.files or ()}
        assert (PACKAGE / "__init__.py").resolve() in installed


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_has_all_and_a_reasonable_size(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {
        t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
        if isinstance(t, ast.Name)
    }  # fmt: skip
    assert "__all__" in names
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400
    module = importlib.import_module(
        f"datamodels.{path.stem}" if path.stem != "__init__" else "datamodels"
    )
    for name in module.__all__:
        assert hasattr(module, name), f"{path.name}: __all__ names missing {name}"


ENGINE_DATA = ("csst_crds_plugin.observatories", "csst_crds_plugin.results")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_engine_steps_or_relative_imports(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            roots = [node.module or ""]
        elif isinstance(node, ast.Import):
            roots = [alias.name for alias in node.names]
        else:
            continue
        for root in roots:
            # The engine modules allowed are plain data shared with the engine: the observatory
            # description (CSST tables once) and the result markers (N/A, provenance sources).
            if root.startswith(ENGINE_DATA):
                continue
            assert root.split(".")[0] not in ("csst_crds_plugin", "steps", "stpipe"), (
                path.name,
                root,
            )
