"""Names that say one thing across the three packages (engine, datamodels, steps)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import csst_crds_plugin
import datamodels
import steps
from csst_crds_plugin import results

PACKAGES = [Path(m.__file__ or "").parent for m in (csst_crds_plugin, datamodels, steps)]
RESULTS = Path(results.__file__ or "")
SOURCES = sorted(path for package in PACKAGES for path in package.rglob("*.py"))


def _label(path: Path) -> str:
    """``package/module.py`` for messages."""
    package = next(p for p in PACKAGES if path.is_relative_to(p))
    return path.relative_to(package.parent).as_posix()


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


@pytest.mark.parametrize("literal", ["UNDEFINED", "not_applicable"])
def test_marker_strings_are_typed_once_in_results(literal: str) -> None:
    """``UNDEFINED`` and the provenance spelling live in results.py; everyone imports them."""
    found = [f"{_label(path)}:{node.lineno}" for path in SOURCES for node in ast.walk(_tree(path))
             if isinstance(node, ast.Constant) and node.value == literal]
    assert [place for place in found if not place.startswith("csst_crds_plugin/results.py")] \
        == [], f"{literal!r} typed outside csst_crds_plugin/results.py"
    assert literal in (results.UNDEFINED, *results.RefSource)


def _bindings(tree: ast.Module, name: str) -> list[ast.stmt]:
    """Module-level statements that bind `name` (assignment or import)."""
    found: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                found.append(node)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            if any((alias.asname or alias.name) == name for alias in node.names):
                found.append(node)
    return found


def test_not_applicable_means_the_result_marker_everywhere() -> None:
    """Every module-level ``NOT_APPLICABLE`` is results.py's marker, defined or imported."""
    problems = []
    for path in SOURCES:
        for node in _bindings(_tree(path), "NOT_APPLICABLE"):
            if path == RESULTS and isinstance(node, ast.AnnAssign):
                continue  # the definition
            if isinstance(node, ast.ImportFrom) and node.module in (
                    "csst_crds_plugin.results", "csst_crds_plugin"):
                continue
            problems.append(f"{_label(path)}:{node.lineno} binds NOT_APPLICABLE otherwise")
    assert not problems, "\n".join(problems)
    assert isinstance(results.NOT_APPLICABLE, results.NotApplicable)
    assert csst_crds_plugin.NOT_APPLICABLE is results.NOT_APPLICABLE
    assert not hasattr(datamodels, "NOT_APPLICABLE")  # the header text is `NA`, not this name


def test_one_na_text_and_one_provenance_source() -> None:
    """``"N/A"`` is one constant; the data models and the stpipe glue share one source enum."""
    import csst_crds_plugin.stpipe_integration as integration
    from csst_crds_plugin.observatories import keywords

    assert datamodels.NA is csst_crds_plugin.NA is results.NA == "N/A"
    assert datamodels.RefSource is results.RefSource
    assert [str(s) for s in results.RefSource] == ["rule", "override", "not_applicable"]
    for gone in ("NOT_APPLICABLE_SOURCE", "RULE", "OVERRIDE"):
        assert not hasattr(integration, gone), gone
    assert not hasattr(keywords, "NOT_APPLICABLE")


def test_no_module_only_re_exports() -> None:
    """A module other than a package ``__init__`` defines what it exports (one home a name)."""
    problems = []
    for path in SOURCES:
        if path.name == "__init__.py":
            continue
        tree = _tree(path)
        own = [node for node in tree.body
               if not isinstance(node, ast.Import | ast.ImportFrom | ast.Expr)
               and not (isinstance(node, ast.Assign)
                        and [getattr(t, "id", None) for t in node.targets] == ["__all__"])]
        if not own and path.name != "__main__.py":
            problems.append(f"{_label(path)} only re-exports")
        imported = {alias.asname or alias.name for node in tree.body
                    if isinstance(node, ast.ImportFrom) for alias in node.names}
        for node in tree.body:
            if isinstance(node, ast.Assign) and \
                    [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
                passed_on = sorted(set(ast.literal_eval(node.value)) & imported)
                if passed_on:
                    problems.append(f"{_label(path)} lists imported names in __all__: "
                                    f"{passed_on} (import them from their own module)")
    assert not problems, "\n".join(problems)
