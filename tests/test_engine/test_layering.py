"""Package boundaries (STYLE.md §2-3): import direction and the installed top-level names."""

from __future__ import annotations

import ast
from pathlib import Path

import csst_crds_plugin

ENGINE = Path(csst_crds_plugin.__file__).parent
LEVEL = {
    "errors": 0, "settings": 1, "results": 1, "observatories": 1, "progress": 1,
    "rules": 2, "selectors": 2,
    "context": 3, "rule_mapping": 3, "cache": 3, "loader": 3,
    "provider": 4, "explain": 4, "select_many": 4,
    "tools": 5, "cli": 5, "web": 5, "stpipe_integration": 5, "__main__": 5, "crds_api": 5,
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _unit(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "csst_crds_plugin" and len(parts) > 1 else None


def test_no_upward_imports_and_no_datamodels_or_steps() -> None:
    problems = []
    for path in ENGINE.rglob("*.py"):
        rel = path.relative_to(ENGINE)
        unit = rel.parts[0].removesuffix(".py")
        if unit == "__init__":
            continue
        for module in _imports(path):
            if module.split(".")[0] in ("datamodels", "steps"):
                problems.append(f"{rel} imports {module}")
            target = _unit(module)
            if target and target != unit and LEVEL.get(target, 9) > LEVEL.get(unit, 9):
                problems.append(f"{rel} (level {LEVEL.get(unit)}) imports {module}")
            if {unit, target} == {"rules", "selectors"}:
                problems.append(f"{rel} couples rules and selectors via {module}")
    assert not problems, "\n".join(problems)


def test_the_packages_loggers_have_a_null_handler_and_never_set_a_level() -> None:
    """A library adds a NullHandler and leaves levels to the application (stpipe, the CLI)."""
    import logging

    import datamodels
    import steps

    for module in (csst_crds_plugin, datamodels, steps):
        logger = logging.getLogger(module.__name__)
        assert any(isinstance(h, logging.NullHandler) for h in logger.handlers), module
        folder = Path(module.__file__ or "").parent
        for path in folder.rglob("*.py"):
            if path.parts[-2:] == ("cli", "main.py"):
                continue  # the command line is the application: it configures logging
            tree = ast.parse(path.read_text(encoding="utf-8"))
            calls = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                     and n.attr == "setLevel"]
            assert not calls, f"{path} sets a logger level"
