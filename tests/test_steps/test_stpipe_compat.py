"""The stpipe shim (``stpipe_integration._stpipe_compat``) still holds for the installed stpipe.

The shim is the one module that relies on a private part of stpipe; these tests fail, naming
it, when stpipe changes what it relies on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from stpipe import Step

from csst_crds_plugin.errors import ConfigurationError
from csst_crds_plugin.stpipe_integration import _stpipe_compat as shim

SHIM = shim.__name__


def test_the_shim_finds_stpipes_command_line_marker() -> None:
    marker = shim.FromCommandLine
    assert marker.__module__ in shim.STPIPE_COMMAND_LINE_MODULES, (
        f"stpipe moved FromCommandLine to {marker.__module__}; update {SHIM}")
    assert issubclass(marker, str), f"stpipe's FromCommandLine is no str any more; update {SHIM}"
    assert shim.typed_on_command_line(marker("x.fits"))
    assert not shim.typed_on_command_line("x.fits")


def test_stpipe_marks_a_command_line_override_and_the_file_one_resolves(
        raw_path: Path, pars_writer: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Through stpipe's own command line: the typed value stays relative to the working folder.

    A parameter file in ``params/`` names ``from_file.fits``; the command line overrides it with
    ``typed.fits``. Neither exists, so the override check names the value the step got.
    """
    (tmp_path / "params").mkdir()
    config = pars_writer(tmp_path / "params" / "dark.asdf", "steps.dark.dark_step.DarkStep",
                         override_dark="from_file.fits")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    with pytest.raises(ConfigurationError) as raised:
        Step.from_cmdline([str(config), str(raw_path), "--override_dark=typed.fits"])
    assert "override_dark = 'typed.fits'" in str(raised.value), (
        f"stpipe no longer marks command-line values as {SHIM} expects (a typed relative "
        f"override was resolved against the parameter file's folder): {raised.value}")
    with pytest.raises(ConfigurationError) as raised:
        Step.from_cmdline([str(config), str(raw_path)])
    assert f"override_dark = {str(tmp_path / 'params' / 'from_file.fits')!r}" in str(raised.value)


def test_no_other_module_imports_a_private_part_of_stpipe() -> None:
    import ast

    import csst_crds_plugin
    import datamodels
    import steps

    found = []
    for package in (csst_crds_plugin, datamodels, steps):
        for path in Path(package.__file__ or "").parent.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                    [a.name for a in node.names] if isinstance(node, ast.Import) else []
                found += [f"{path}: {name}" for name in names
                          if name.startswith(("stpipe._", "stpipe.cmdline"))]
    assert not found, f"private stpipe imports belong in {SHIM} only: {found}"
