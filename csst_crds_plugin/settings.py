"""Settings from the environment (DESIGN.md §3), read when used and never at import."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csst_crds_plugin.errors import ConfigurationError

__all__ = [
    "ENVIRONMENT_VARIABLES",
    "Settings",
    "clear_settings",
    "get_settings",
    "parse_bool",
    "settings_context",
]

ENVIRONMENT_VARIABLES = (
    "CSST_CRDS_PATH", "CRDS_PATH", "CSST_CRDS_CONTEXT", "CRDS_CONTEXT",
    "CSST_CRDS_READONLY", "CRDS_READONLY_CACHE",
    "CSST_CRDS_IGNORE_CHECKSUM", "CRDS_IGNORE_MAPPING_CHECKSUM",
    "CSST_CRDS_ALLOW_BAD_RULES", "CRDS_ALLOW_BAD_RULES",
    "CSST_CRDS_ALLOW_BAD_REFERENCES", "CRDS_ALLOW_BAD_REFERENCES",
    "CSST_CRDS_MIRROR",
)
"""Every variable the settings read (the README documents each; a test holds them equal)."""

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off", ""})


def parse_bool(variable: str, value: str) -> bool:
    """Read a boolean variable; a bad value is a ConfigurationError naming the variable."""
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(
        f"{variable}={value!r} is not a boolean; use 1/0, true/false, yes/no or on/off"
    )


def _first(environ: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    for name in names:
        value = environ.get(name)
        if value is not None and value.strip() != "":
            return name, value
    return None


@dataclass(frozen=True, slots=True)
class Settings:
    """The engine's settings; each field names the variables it comes from."""

    cache_root: Path = dataclasses.field(default_factory=lambda: Path.home() / "crds_cache")
    """``CSST_CRDS_PATH``, else ``CRDS_PATH``, else ``~/crds_cache``: the cache root."""

    context: str | None = None
    """``CSST_CRDS_CONTEXT``: a pinned context (pmap name, ``csst-operational``, ...)."""

    crds_context: str | None = None
    """``CRDS_CONTEXT``: used only when it names a context of the requested observatory."""

    readonly: bool = False
    """``CSST_CRDS_READONLY`` (or ``CRDS_READONLY_CACHE``): never write to the cache."""

    ignore_checksum: bool = False
    """``CSST_CRDS_IGNORE_CHECKSUM``: do not verify mapping checksums."""

    allow_bad_rules: bool = False
    """``CSST_CRDS_ALLOW_BAD_RULES``: bad rules give a warning, not an error."""

    allow_bad_references: bool = False
    """``CSST_CRDS_ALLOW_BAD_REFERENCES``: bad references give a warning, not an error."""

    mirror: str | None = None
    """``CSST_CRDS_MIRROR``: the mirror ``sync`` copies from (CRDS's ``CRDS_SERVER_URL``)."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from `environ` (default ``os.environ``)."""
        env = os.environ if environ is None else environ
        root = _first(env, "CSST_CRDS_PATH", "CRDS_PATH")
        cache_root = Path(root[1].rstrip("/") or "/").expanduser() if root else (
            Path.home() / "crds_cache"
        )

        def flag(*names: str) -> bool:
            found = _first(env, *names)
            return parse_bool(found[0], found[1]) if found else False

        context = _first(env, "CSST_CRDS_CONTEXT")
        crds_context = _first(env, "CRDS_CONTEXT")
        mirror = _first(env, "CSST_CRDS_MIRROR")
        return cls(
            mirror=mirror[1].strip() if mirror else None,
            cache_root=cache_root,
            context=context[1].strip() if context else None,
            crds_context=crds_context[1].strip() if crds_context else None,
            readonly=flag("CSST_CRDS_READONLY", "CRDS_READONLY_CACHE"),
            ignore_checksum=flag("CSST_CRDS_IGNORE_CHECKSUM", "CRDS_IGNORE_MAPPING_CHECKSUM"),
            allow_bad_rules=flag("CSST_CRDS_ALLOW_BAD_RULES", "CRDS_ALLOW_BAD_RULES"),
            allow_bad_references=flag("CSST_CRDS_ALLOW_BAD_REFERENCES",
                                      "CRDS_ALLOW_BAD_REFERENCES"),
        )


_override: list[Settings] = []


_last: list[tuple[tuple[str | None, ...], Settings]] = []


def get_settings() -> Settings:
    """Return the settings in force: the innermost settings_context, else the environment now.

    The environment is read on every call; the Settings built from it are reused while the
    variables (and ``HOME``, for the default root) keep their values.
    """
    if _override:
        return _override[-1]
    key = (*map(os.environ.get, ENVIRONMENT_VARIABLES), os.environ.get("HOME"))
    if _last and _last[0][0] == key:
        return _last[0][1]
    settings = Settings.from_environ()
    _last[:] = [(key, settings)]
    return settings


def clear_settings() -> None:
    """Drop every pushed settings context (for tests)."""
    _override.clear()


@contextlib.contextmanager
def settings_context(**overrides: Any) -> Iterator[Settings]:
    """Push a modified copy of the settings for the duration of a ``with`` block."""
    pushed = dataclasses.replace(get_settings(), **overrides)
    _override.append(pushed)
    try:
        yield pushed
    finally:
        _override.remove(pushed)
