"""The cache's own configuration (``config/<obs>/``) and offline context resolution.

Files read, all optional:

- ``contexts.json`` (this project's format)::

    {"observatory": "csst",
     "operational": "csst_0003.pmap",
     "latest": "csst_0004.pmap",
     "history": [{"context": "csst_0001.pmap", "activated": "2026-01-01T00:00:00",
                  "description": "first rules"}, ...],
     "bad_files": ["csst_msc_bias_0002.fits"],
     "mirror": "https://example.org/crds-mirror"}

- ``server_config`` (CRDS): a Python dict literal, read as data by the rule parser and never
  executed; keys ``observatory``, ``operational_context``, ``latest_context``, ``edit_context``,
  ``versions_context``, ``bad_files_list``.
- ``bad_files.txt`` (CRDS): names separated by white space; ``#`` starts a comment.

Fields of ``contexts.json`` win; ``server_config`` fills what it lacks; bad files are the union.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from csst_crds_plugin.cache.layout import CacheLayout, observatory_of
from csst_crds_plugin.cache.safe_read import loads_json
from csst_crds_plugin.errors import (
    CacheError,
    ConfigurationError,
    CsstCrdsError,
    InputLimitError,
)
from csst_crds_plugin.rules import DictNode, parse_value_text
from csst_crds_plugin.settings import Settings

__all__ = [
    "BAD_FILES_NAME",
    "CONFIG_FILES",
    "CONTEXTS_NAME",
    "SERVER_CONFIG_NAME",
    "CacheConfig",
    "HistoryEntry",
    "config_from_files",
    "load_config",
    "parse_bad_files",
    "parse_contexts_json",
    "parse_date",
    "parse_server_config",
    "render_contexts_json",
    "resolve_context",
    "resolve_default_context",
]

log = logging.getLogger(__name__)

CONTEXTS_NAME = "contexts.json"
SERVER_CONFIG_NAME = "server_config"
BAD_FILES_NAME = "bad_files.txt"
CONFIG_FILES = (SERVER_CONFIG_NAME, CONTEXTS_NAME, BAD_FILES_NAME)
"""The configuration files read, in merge order."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One context activation: from `activated` on, `context` was operational."""

    context: str
    activated: datetime
    description: str = ""


@dataclass(frozen=True, slots=True)
class CacheConfig:
    """What ``config/<obs>/`` says: contexts, history, bad files, where they came from."""

    observatory: str
    operational: str | None = None
    latest: str | None = None
    edit: str | None = None
    versions: str | None = None
    history: tuple[HistoryEntry, ...] = ()
    bad_files: frozenset[str] = frozenset()
    mirror: str | None = None
    sources: tuple[str, ...] = field(default=())

    @property
    def latest_context(self) -> str | None:
        """``latest``: the declared latest, else the last activated, else the operational."""
        if self.latest:
            return self.latest
        if self.history:
            return self.history[-1].context
        return self.operational


def parse_date(text: str, origin: str) -> datetime:
    """Parse ``YYYY-MM-DD[(T| )HH:MM[:SS[.f]]]``; a bad date is a ConfigurationError."""
    try:
        return datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError as exc:
        raise ConfigurationError(
            f"{origin}: {text!r} is not a date; use YYYY-MM-DDTHH:MM:SS"
        ) from exc


def _pmap_name(value: object, origin: str) -> str:
    if not isinstance(value, str) or not value.endswith(".pmap") or "/" in value:
        raise CacheError(f"{origin}: {value!r} is not a pipeline context name (<obs>_NNNN.pmap)")
    return value


def parse_contexts_json(data: bytes, origin: str, observatory: str) -> dict[str, object]:
    """Parse ``contexts.json`` into CacheConfig fields; errors name the file and field."""
    try:
        raw = loads_json(data, origin)
    except InputLimitError as exc:
        raise CacheError(str(exc)) from exc
    except ValueError as exc:
        raise CacheError(f"{origin}: not valid JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise CacheError(f"{origin}: the top level must be a JSON object")
    obs = raw.get("observatory", observatory)
    if not isinstance(obs, str) or obs.lower() != observatory:
        raise CacheError(f"{origin}: observatory is {obs!r}, expected {observatory!r}")
    fields: dict[str, object] = {}
    for key in ("operational", "latest"):
        if raw.get(key) is not None:
            fields[key] = _pmap_name(raw[key], f"{origin} field {key!r}")
    history = []
    items = raw.get("history") or []
    if not isinstance(items, list):
        raise CacheError(f"{origin} field 'history': must be a list of "
                         "{'context', 'activated', 'description'} objects")
    for index, item in enumerate(items):
        where = f"{origin} history[{index}]"
        if not isinstance(item, dict) or "context" not in item or "activated" not in item:
            raise CacheError(f"{where}: needs 'context' and 'activated'")
        if not isinstance(item["activated"], str) or \
                not isinstance(item.get("description", ""), str):
            raise CacheError(f"{where}: 'activated' and 'description' must be strings")
        history.append(HistoryEntry(_pmap_name(item["context"], where),
                                    parse_date(item["activated"], where),
                                    item.get("description", "")))
    fields["history"] = tuple(sorted(history, key=lambda entry: entry.activated))
    bad = raw.get("bad_files") or []
    if not isinstance(bad, list) or not all(isinstance(name, str) for name in bad):
        raise CacheError(f"{origin} field 'bad_files': must be a list of names")
    fields["bad_files"] = frozenset(bad)
    if raw.get("mirror") is not None:
        if not isinstance(raw["mirror"], str):
            raise CacheError(f"{origin} field 'mirror': must be a string (a folder or URL)")
        fields["mirror"] = raw["mirror"]
    return fields


def parse_server_config(text: str, origin: str, observatory: str) -> dict[str, object]:
    """Read a CRDS ``server_config`` literal (never executed) into CacheConfig fields."""
    value = parse_value_text(text, origin)
    if not isinstance(value, DictNode):
        raise CacheError(f"{origin}: a server_config must be a dict literal")
    raw = value.as_dict()
    obs = str(raw.get("observatory", observatory)).lower()
    if obs != observatory:
        raise CacheError(f"{origin}: observatory is {obs!r}, expected {observatory!r}")
    fields: dict[str, object] = {}
    for key, name in (("operational_context", "operational"), ("latest_context", "latest"),
                      ("edit_context", "edit"), ("versions_context", "versions")):
        if raw.get(key):
            fields[name] = _pmap_name(raw[key], f"{origin} field {key!r}")
    bad = raw.get("bad_files_list") or ()
    if isinstance(bad, str):
        bad = bad.split()
    if not isinstance(bad, (tuple, list)):
        raise CacheError(f"{origin}: bad_files_list is {bad!r}; write a list of file names or "
                         "one string of them separated by spaces")
    fields["bad_files"] = frozenset(str(name) for name in bad)
    return fields


def parse_bad_files(text: str) -> frozenset[str]:
    """Names in a ``bad_files.txt`` (white space separated; ``#`` comments)."""
    names: set[str] = set()
    for line in text.splitlines():
        names.update(line.split("#", 1)[0].split())
    return frozenset(names)


def config_from_files(observatory: str, files: dict[str, bytes], where: str) -> CacheConfig:
    """Build a CacheConfig from the bytes of config files (`where` labels them)."""
    merged: dict[str, object] = {}
    bad: set[str] = set()
    sources = []
    if SERVER_CONFIG_NAME in files:
        origin = f"{where}/{SERVER_CONFIG_NAME}"
        fields = parse_server_config(files[SERVER_CONFIG_NAME].decode("utf-8"), origin,
                                     observatory)
        bad |= fields.pop("bad_files")  # type: ignore[arg-type]  # a frozenset[str] from the parser
        merged.update(fields)
        sources.append(origin)
    if CONTEXTS_NAME in files:
        origin = f"{where}/{CONTEXTS_NAME}"
        fields = parse_contexts_json(files[CONTEXTS_NAME], origin, observatory)
        bad |= fields.pop("bad_files")  # type: ignore[arg-type]  # a frozenset[str] from the parser
        merged.update(fields)
        sources.append(origin)
    if BAD_FILES_NAME in files:
        bad |= parse_bad_files(files[BAD_FILES_NAME].decode("utf-8"))
        sources.append(f"{where}/{BAD_FILES_NAME}")
    return CacheConfig(observatory=observatory, bad_files=frozenset(bad),
                       sources=tuple(sources), **merged)  # type: ignore[arg-type]  # fields the parsers typed


def load_config(layout: CacheLayout) -> CacheConfig:
    """Read ``config/<obs>/`` of a cache (missing files are simply absent)."""
    files = {}
    for name in CONFIG_FILES:
        try:
            files[name] = (layout.config_dir / name).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            continue
    return config_from_files(layout.observatory, files, str(layout.config_dir))


def render_contexts_json(config: CacheConfig) -> bytes:
    """``contexts.json`` text for a configuration."""
    raw: dict[str, object] = {"observatory": config.observatory}
    if config.operational:
        raw["operational"] = config.operational
    if config.latest:
        raw["latest"] = config.latest
    raw["history"] = [
        {"context": e.context, "activated": e.activated.isoformat(timespec="seconds"),
         "description": e.description} for e in config.history
    ]
    raw["bad_files"] = sorted(config.bad_files)
    if config.mirror:
        raw["mirror"] = config.mirror
    return (json.dumps(raw, indent=2) + "\n").encode("utf-8")


def _how_to_get_one(layout: CacheLayout) -> str:
    return (
        f"pass context=..., set CSST_CRDS_CONTEXT=<name>.pmap, or fill the cache "
        f"{layout.root} with `csst-crds sync --source MIRROR` so that "
        f"{layout.config_dir / CONTEXTS_NAME} (or a CRDS server_config) names an operational "
        "context"
    )


def resolve_context(spec: str, config: CacheConfig, origin: str) -> str:
    """Resolve a context spec offline.

    A spec is a pmap name or path, ``<obs>-operational``, ``<obs>-latest`` (or ``latest``),
    ``<obs>-edit``, ``<obs>-versions``, or ``<obs>-YYYY-MM-DDTHH:MM:SS`` (the context
    operational at that time, from the history).
    """
    obs = config.observatory
    text = spec.strip()
    if text.endswith(".pmap"):
        return Path(text).name
    lowered = text.lower()
    symbol = lowered[len(obs) + 1:] if lowered.startswith(f"{obs}-") else lowered
    named = {"operational": config.operational, "latest": config.latest_context,
             "edit": config.edit, "versions": config.versions}
    if symbol in named:
        found = named[symbol]
        if not found:
            raise ConfigurationError(
                f"{origin}={spec!r}: the cache's config ({', '.join(config.sources) or 'none'}) "
                f"names no {symbol} context for {obs!r}"
            )
        return found
    if text.endswith((".imap", ".rmap")):
        raise ConfigurationError(
            f"{origin}={spec!r} is not a pipeline context; give a .pmap name such as "
            f"{obs}_0001.pmap"
        )
    if symbol[:1].isdigit() and lowered.startswith(f"{obs}-"):
        when = parse_date(symbol, origin)
        chosen = [e for e in config.history if e.activated <= when.replace(tzinfo=None)]
        if not chosen:
            first = config.history[0].activated.isoformat() if config.history else None
            raise ConfigurationError(
                f"{origin}={spec!r}: no context was operational then; the cache's history "
                + (f"starts at {first}" if first else "is empty (config/<obs>/contexts.json)")
            )
        return chosen[-1].context
    raise ConfigurationError(
        f"{origin}={spec!r} cannot be resolved without a server; give a .pmap name, "
        f"{obs}-operational, {obs}-latest or {obs}-YYYY-MM-DDTHH:MM:SS"
    )


def _names_observatory(spec: str, observatory: str) -> bool:
    text = spec.strip().lower()
    if text.endswith(".pmap"):
        return observatory_of(text) == observatory
    return text.startswith(f"{observatory}-")


def resolve_default_context(explicit: str | None, settings: Settings,
                            layout: CacheLayout) -> tuple[str, str]:
    """Apply the precedence of DESIGN.md §3; return (pmap name, where it came from).

    Explicit argument > ``CSST_CRDS_CONTEXT`` > ``CRDS_CONTEXT`` (only when it names this
    observatory's context) > the cache's operational context > an error saying how to get one.
    """
    config: CacheConfig | None = None

    def cached_config() -> CacheConfig:
        nonlocal config
        if config is None:
            config = load_config(layout)
        return config

    def resolve(spec: str, origin: str) -> str:
        if spec.strip().endswith(".pmap"):  # no config needed for a literal name
            return Path(spec.strip()).name
        try:
            return resolve_context(spec, cached_config(), origin)
        except CsstCrdsError as exc:
            if not isinstance(exc, ConfigurationError):
                exc.add_note(f"while resolving {origin}={spec!r}")
            raise

    if explicit:
        return resolve(explicit, "the context argument"), "argument"
    if settings.context:
        return resolve(settings.context, "CSST_CRDS_CONTEXT"), "CSST_CRDS_CONTEXT"
    crds = settings.crds_context
    if crds:
        if _names_observatory(crds, layout.observatory):
            return resolve(crds, "CRDS_CONTEXT"), "CRDS_CONTEXT"
        log.debug("CRDS_CONTEXT=%s ignored: not a %s context", crds, layout.observatory)
    operational = cached_config().operational
    if operational:
        return operational, "the cache's operational context"
    missing = layout.root_problem()
    if missing is not None:
        raise ConfigurationError(f"No context for observatory {layout.observatory!r}: {missing}")
    raise ConfigurationError(f"No context for observatory {layout.observatory!r}: "
                             + _how_to_get_one(layout))
