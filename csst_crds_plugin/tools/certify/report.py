"""The certify report: errors and warnings per file, and whether everything passed."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["MESSAGE_LIMIT", "CertifyReport", "FileReport"]

MESSAGE_LIMIT = 1000
"""Longest problem text kept whole in a message: a hostile file cannot flood the report. A
longer one keeps its start and its end (where the advice is), without the middle."""


@dataclass
class FileReport:
    """The problems found in one file; each message names the file and the problem."""

    path: str
    kind: str  # "reference" | "mapping"
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file has no errors (warnings alone pass)."""
        return not self.errors

    def error(self, problem: str) -> None:
        """Record an error, prefixed with the file path unless the message already names it."""
        self.errors.append(self._named(problem))

    def warn(self, problem: str) -> None:
        """Record a warning, prefixed with the file path unless the message already names it."""
        self.warnings.append(self._named(problem))

    def _named(self, problem: str) -> str:
        if len(problem) > MESSAGE_LIMIT:
            head, tail = MESSAGE_LIMIT * 3 // 5, MESSAGE_LIMIT // 5
            problem = (f"{problem[:head]} ... ({len(problem) - head - tail} characters left "
                       f"out) ... {problem[-tail:]}")
        return problem if problem.startswith(self.path) else f"{self.path}: {problem}"

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready form."""
        return {"path": self.path, "kind": self.kind, "ok": self.ok,
                "errors": list(self.errors), "warnings": list(self.warnings)}


@dataclass
class CertifyReport:
    """The reports of every certified file."""

    files: list[FileReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no file has an error."""
        return all(report.ok for report in self.files)

    @property
    def errors(self) -> list[str]:
        """Every error message, file by file."""
        return [message for report in self.files for message in report.errors]

    @property
    def warnings(self) -> list[str]:
        """Every warning message, file by file."""
        return [message for report in self.files for message in report.warnings]

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready form: ``{"ok", "errors", "warnings", "files": [...]}``."""
        return {"ok": self.ok, "errors": len(self.errors), "warnings": len(self.warnings),
                "files": [report.to_dict() for report in self.files]}
