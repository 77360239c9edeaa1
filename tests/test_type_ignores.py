"""Type-check gates (STYLE.md §8): every ``# type: ignore`` names its error code and a reason.

mypy itself runs in CI (`.ci/run`) with the configuration in ``pyproject.toml``; these tests
hold what mypy cannot: an ignore says on its own line why the checker is wrong there.
"""

from __future__ import annotations

import io
import re
import tokenize
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("csst_crds_plugin", "datamodels", "steps")
_IGNORE = re.compile(r"#\s*type:\s*ignore\b")
_WITH_CODE = re.compile(r"#\s*type:\s*ignore\[[a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*\]")


def ignore_problems(source: str, name: str) -> list[str]:
    """``name:line: problem`` for each ``type: ignore`` comment without a code or a reason."""
    problems = []
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    for token in tokens:
        if token.type != tokenize.COMMENT or not _IGNORE.search(token.string):
            continue
        where = f"{name}:{token.start[0]}"
        found = _WITH_CODE.search(token.string)
        if found is None:
            problems.append(f"{where}: name the error code, as in `# type: ignore[attr-defined]`")
            continue
        rest = [part.strip() for part in token.string[found.end():].split("#")]
        if not any(part and not part.startswith("noqa") for part in rest):
            problems.append(f"{where}: say why after it, as in "
                            "`# type: ignore[attr-defined]  # stpipe sets it at run time`")
    return problems


@pytest.mark.parametrize(("line", "wanted"), [
    ("x = f()  # type: ignore\n", "name the error code"),
    ("x = f()  # type:ignore  # a reason without a code\n", "name the error code"),
    ("x = f()  # type: ignore[attr-defined]\n", "say why"),
    ("x = f()  # type: ignore[attr-defined]  # noqa: B009\n", "say why"),
    ("x = f()  # type: ignore[attr-defined]  #   \n", "say why"),
    ("x = f()  # type: ignore[attr-defined]  # stpipe sets it\n", None),
    ("x = f()  # type: ignore[arg-type, union-attr]  # see the docstring\n", None),
    ("x = '# type: ignore'  # a string, not a comment\n", None),
])
def test_the_check_tells_a_bare_ignore_from_an_explained_one(line: str, wanted: str | None
                                                               ) -> None:
    problems = ignore_problems(line, "m.py")
    if wanted is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith("m.py:1: ")
        assert wanted in problems[0]


def test_every_type_ignore_names_its_code_and_a_reason() -> None:
    problems = []
    count = 0
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            count += len(_IGNORE.findall(source))
            problems += ignore_problems(source, str(path.relative_to(ROOT)))
    assert count, "the scan found no ignore at all: are the packages where it looks?"
    assert not problems, "\n".join(problems)


def test_mypy_checks_the_three_packages_strictly_and_ci_runs_it() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert sorted(config["files"]) == sorted(PACKAGES)
    assert config["strict"] is True
    assert "ignore-without-code" in config["enable_error_code"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    runs = [line for line in ci if re.search(r"(?:^|&&)\s*\.venv/bin/mypy\s*$", line)]
    assert runs, ".ci/run does not run mypy (with no arguments: the configured packages)"
