"""The README tells the truth: its commands, options, aliases and variables exist."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import csst_crds_plugin.settings
from csst_crds_plugin.cli.main import COMMANDS, build_parser, command_modules, main
from steps.integration import get_steps

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
GLOBAL_OPTIONS = {"-v", "-vv", "-q", "--debug", "--verbose", "--quiet", "--help", "-h"}
VARIABLE = re.compile(r"\b(?:CSST_CRDS|CRDS)_[A-Z_]+\b")
NOT_VARIABLES = {"CRDS_CTX", "CRDS_VER",  # FITS keywords of the outputs' provenance
                 "CRDS_SERVER_URL"}  # CRDS's variable, named where ours replaces it


def _code() -> list[str]:
    """Every line of fenced code and every inline code span, in order."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", README, flags=re.S | re.M)
    lines = [line for block in fenced for line in block.splitlines()]
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", README, flags=re.S | re.M)
    return lines + re.findall(r"`([^`\n]+)`", prose)


def _commands(program: str) -> list[list[str]]:
    """Each quoted use of `program`: its words up to a comment, pipe or shell operator."""
    found = []
    for line in _code():
        for match in re.finditer(rf"(?:^|[\s/]){re.escape(program)}\s+(.*)", line):
            text = re.split(r"\s(?:#|\||&&|;|>)", match.group(1))[0].replace("\\", " ")
            try:
                words = shlex.split(text)
            except ValueError:
                words = text.split()
            if words:
                found.append(words)
    return found


def _options(parser: object) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}  # type: ignore[attr-defined]


def test_every_quoted_csst_crds_command_and_option_exists(capsys) -> None:
    uses = _commands("csst-crds")
    assert len(uses) >= 15, "the README should show the commands it documents"
    subparsers = next(a for a in build_parser(COMMANDS)._actions if a.dest == "command").choices
    known = {module.NAME for module in command_modules()}
    problems = []
    for words in uses:
        words = [w for w in words if w not in GLOBAL_OPTIONS]
        if not words or words[0].startswith(("-", "<", "COMMAND")):
            continue
        name = words[0]
        if name not in known:
            problems.append(f"csst-crds {name}: no such command")
            continue
        parser = subparsers[name]
        nested = next((a.choices for a in parser._actions
                       if isinstance(a.choices, dict) and len(words) > 1 and words[1] in a.choices),
                      None)
        if nested is not None:  # an operation of the command: refactor delete, bad add, ...
            parser = nested[words[1]]
        options = _options(parser)
        for word in words[1:]:
            option = word.split("=", 1)[0]
            if option.startswith("--") and option not in options:
                problems.append(f"csst-crds {name}: no option {option}")
    assert not problems, "\n".join(problems)
    for name in sorted({w[0] for w in uses} & known):
        assert main([name, "--help"]) == 0, name
        assert "examples:" in capsys.readouterr().out


def test_every_documented_command_is_in_the_readme() -> None:
    quoted = {words[0] for words in _commands("csst-crds")}
    missing = sorted({module.NAME for module in command_modules()} - quoted)
    assert not missing, f"commands the README never shows: {missing}"


def test_quoted_strun_aliases_exist_and_answer_help() -> None:
    aliases = {alias for _, alias, _ in get_steps()}
    quoted = {words[0] for words in _commands("strun") if not words[0].endswith(".asdf")}
    assert quoted, "the README should show strun"
    assert quoted <= aliases, quoted - aliases
    strun = Path(sys.executable).with_name("strun")
    for alias in sorted(quoted):
        done = subprocess.run([str(strun), alias, "--help"], capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "override_" in done.stdout


def test_environment_variables_match_the_settings() -> None:
    documented = set(VARIABLE.findall(README)) - NOT_VARIABLES
    read = set(csst_crds_plugin.settings.ENVIRONMENT_VARIABLES)
    source = Path(csst_crds_plugin.settings.__file__).read_text(encoding="utf-8")
    assert set(re.findall(r'"((?:CSST_CRDS|CRDS)_[A-Z_]+)"', source)) == read
    assert documented == read, (f"in the README only: {sorted(documented - read)}; "
                                f"read but undocumented: {sorted(read - documented)}")


def test_quick_start_is_two_commands_that_ci_runs() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", section, flags=re.S | re.M)
    commands = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
    assert len(commands) == 2, commands
    assert "csst-crds demo" in commands[0] and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in commands:
        assert command in ci, f".ci/run does not run the quick-start command {command!r}"


@pytest.mark.parametrize("document", sorted(p.name for p in (ROOT / "docs").glob("*.md")))
def test_docs_are_linked_from_the_readme(document: str) -> None:
    assert f"docs/{document}" in README
