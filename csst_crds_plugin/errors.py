"""The exception hierarchy: one root, one class per failure category of RULES.md §6.2."""

from __future__ import annotations

__all__ = [
    "AmbiguousMatchError",
    "BadReferenceError",
    "BadRulesError",
    "CacheError",
    "ChecksumError",
    "ConfigurationError",
    "CsstCrdsError",
    "CsstCrdsWarning",
    "FileNotCachedError",
    "InputLimitError",
    "IntegrityError",
    "InvalidDateError",
    "InvalidNumberError",
    "InvalidValueError",
    "InvalidVersionError",
    "MissingInstrumentError",
    "MissingParameterError",
    "ModifiedReferenceError",
    "NoMatchError",
    "ReadOnlyCacheError",
    "ReferenceLookupError",
    "RuleSyntaxError",
    "RuleValidationError",
    "UnknownInstrumentError",
    "UnknownReftypeError",
]


class CsstCrdsError(Exception):
    """Root of every error raised by csst-crds-plugin."""


class CsstCrdsWarning(UserWarning):
    """Root of every warning: tolerated rule constructs, checksum waivers, plug-in failures."""


class ConfigurationError(CsstCrdsError, ValueError):
    """A setting (environment variable or argument) has a bad value; the message names it."""


class RuleSyntaxError(CsstCrdsError):
    """Rule text outside the accepted grammar, located by path, line and column."""

    def __init__(
        self,
        message: str,
        path: str = "<string>",
        line: int = 0,
        column: int = 0,
        source_line: str = "",
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.source_line = source_line
        super().__init__(self._render())

    def _render(self) -> str:
        text = f"{self.path}:{self.line}:{self.column}: {self.message}"
        if self.source_line:
            shown, offset = self.source_line, max(self.column - 1, 0)
            if len(shown) > 2 * _WINDOW:  # a long line: a window around the column
                start = max(min(offset - _WINDOW, len(shown) - 2 * _WINDOW), 0)
                shown = shown[start:start + 2 * _WINDOW]
                offset -= start
                if start:
                    shown, offset = "..." + shown, offset + 3
                if start + 2 * _WINDOW < len(self.source_line):
                    shown += "..."
            text += f"\n    {shown}\n    {' ' * offset}^"
        return text


_WINDOW = 60  # characters shown either side of the column of a long source line


class RuleValidationError(CsstCrdsError):
    """A mapping parsed but is not a valid mapping (missing header field, bad key, ...)."""


class ChecksumError(RuleValidationError):
    """A mapping's ``sha1sum`` does not match its text (or is missing)."""


class CacheError(CsstCrdsError, OSError):
    """A problem with the cache layout or its files."""


class InputLimitError(CsstCrdsError, ValueError):
    """An input file is unreadable, truncated or over a reading limit; the message names it."""


class FileNotCachedError(CacheError):
    """A file the rules name is not present in the cache."""


class IntegrityError(CacheError):
    """A cached file does not match its recorded checksum or size (corrupted or edited)."""


class ModifiedReferenceError(IntegrityError):
    """A cached reference has its recorded size but not its recorded SHA-256 (modified)."""


class ReadOnlyCacheError(CacheError):
    """A write to a read-only cache would be needed; the message names the file and variable."""


class BadRulesError(CsstCrdsError):
    """The rules used for a lookup are marked scientifically invalid."""


class BadReferenceError(CsstCrdsError):
    """The selected reference is marked scientifically invalid."""


class ReferenceLookupError(CsstCrdsError, LookupError):
    """A reference lookup failed; ``category`` names the RULES.md failure category."""

    category = "other"
    crds_message: str
    """Set on errors raised by a lookup: the message without the rmap and parameters."""


class NoMatchError(ReferenceLookupError):
    """No rule matched the parameters (including: every date is later than the observation)."""

    category = "no-match"


class InvalidValueError(ReferenceLookupError):
    """A parameter value is not among the values a Match column accepts."""

    category = "invalid-value"


class UnknownReftypeError(ReferenceLookupError):
    """The reference type is not in the instrument's imap."""

    category = "unknown-reftype"


class UnknownInstrumentError(ReferenceLookupError):
    """The instrument is not in the pipeline context."""

    category = "unknown-instrument"


class MissingInstrumentError(ReferenceLookupError):
    """The parameters do not name an instrument."""

    category = "missing-instrument"


class InvalidDateError(ReferenceLookupError):
    """A date/time parameter is UNDEFINED or cannot be parsed."""

    category = "invalid-date"


class InvalidNumberError(ReferenceLookupError):
    """A SelectVersion, GeometricallyNearest or Bracket parameter is not a number."""

    category = "invalid-number"


class InvalidVersionError(ReferenceLookupError):
    """A VersionAfter parameter is not a version string."""

    category = "invalid-version"


class MissingParameterError(ReferenceLookupError):
    """A selector parameter is absent from the lookup parameters."""

    category = "missing-parameter"


class AmbiguousMatchError(ReferenceLookupError):
    """Several rules match at the same weight and cannot be merged."""

    category = "ambiguous"
