"""``datamodels`` and ``steps`` (generic names, STYLE.md §2) are imported from this distribution.

The distribution's own record says where its packages are: for a wheel, the files it
installed; for an editable install, the source folders its finder maps (read as data, never
run) or the folder its ``.pth`` adds. A different ``datamodels`` earlier on ``sys.path`` must
fail the check, which a subprocess proves with a fake one.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import unquote, urlparse

DISTRIBUTION = "csst-crds-plugin"
PACKAGES = ("csst_crds_plugin", "datamodels", "steps")


def _editable_root(dist: importlib.metadata.Distribution) -> Path | None:
    """The source folder of an editable install (PEP 660 ``direct_url.json``), else None."""
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    direct = json.loads(text)
    if not direct.get("dir_info", {}).get("editable"):
        return None
    return Path(unquote(urlparse(direct["url"]).path))


def _finder_mapping(dist: importlib.metadata.Distribution) -> dict[str, str]:
    """``MAPPING`` of setuptools' editable finder, read as a literal; {} when there is none."""
    for item in dist.files or []:
        if item.name.startswith("__editable__") and item.name.endswith("_finder.py"):
            tree = ast.parse(Path(str(dist.locate_file(item))).read_text(encoding="utf-8"))
            for node in tree.body:
                target = node.target if isinstance(node, ast.AnnAssign) else (
                    node.targets[0] if isinstance(node, ast.Assign) else None)
                if isinstance(target, ast.Name) and target.id == "MAPPING" and node.value:
                    return dict(ast.literal_eval(node.value))
    return {}


def owned_package_dirs() -> dict[str, Path]:
    """``{top-level package: its folder}`` as this distribution's installation records it."""
    dist = importlib.metadata.distribution(DISTRIBUTION)
    root = _editable_root(dist)
    if root is not None:
        mapping = _finder_mapping(dist)
        if mapping:
            return {name: Path(folder).resolve() for name, folder in mapping.items()}
        return {name: (root / name).resolve() for name in PACKAGES if (root / name).is_dir()}
    tops = {item.parts[0] for item in dist.files or []
            if item.suffix == ".py" and len(item.parts) > 1 and ".." not in item.parts}
    return {name: Path(str(dist.locate_file(name))).resolve() for name in sorted(tops)}


def foreign_packages() -> list[str]:
    """The packages of this distribution imported from somewhere it does not own."""
    owned = owned_package_dirs()
    problems = []
    for name in PACKAGES:
        module = importlib.import_module(name)
        folder = Path(module.__file__ or "").resolve().parent
        if folder != owned.get(name):
            problems.append(f"{name} imported from {folder}, not {owned.get(name)}")
    return problems


def test_the_distribution_owns_exactly_the_three_packages() -> None:
    assert sorted(owned_package_dirs()) == sorted(PACKAGES)


def test_datamodels_and_steps_are_imported_from_this_distribution() -> None:
    assert foreign_packages() == []


def test_a_datamodels_earlier_on_sys_path_is_caught(tmp_path: Path) -> None:
    fake = tmp_path / "shadow" / "datamodels"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('"""Some other distribution\'s datamodels."""\n')
    script = textwrap.dedent(f"""
        import runpy
        found = runpy.run_path({__file__!r})["foreign_packages"]()
        print("\\n".join(found))
    """)
    env = {**os.environ, "PYTHONPATH": str(fake.parent)}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"datamodels imported from {fake.resolve()}, not "
                                        f"{owned_package_dirs()['datamodels']}"]
