"""Registration with stpipe: every Step and Pipeline of the process served by the provider.

stpipe has no provider hook. Its steps, pipelines and the missions' own step bases (jwst,
romancal) reach the CRDS library only through the module-level functions of
``stpipe.crds_client``, plus a few direct calls of ``crds.getreferences``. `activate`
replaces exactly those functions with ones that ask the `ReferenceProvider`, and the handle
it returns puts them back.

The replacements are dispatchers: a name bound while the plugin was active (``from crds
import getreferences`` in a module imported then) still reaches CRDS itself once the plugin
is deactivated, so deactivation is exact.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from csst_crds_plugin import __version__
from csst_crds_plugin.crds_api import recommendations_from, references_from
from csst_crds_plugin.errors import ConfigurationError, CsstCrdsError
from csst_crds_plugin.provider import ReferenceProvider
from csst_crds_plugin.settings import get_settings
from csst_crds_plugin.stpipe_integration._providers import (
    check_observatory_held,
    shared_provider,
    uri_path,
)

__all__ = [
    "SOFTWARE_VERSION",
    "STPIPE_VERSIONS",
    "Activation",
    "activate",
    "active",
    "crds_compatible",
    "deactivate",
    "get_provider",
    "provider_scope",
]

log = logging.getLogger(__name__)

SOFTWARE_VERSION = f"csst-crds-plugin {__version__}"
"""What outputs record as the reference selection software (``CRDS_VER``, ``sw_version``)."""

STPIPE_VERSIONS = ((0, 7), (2, 0))
"""stpipe versions the registration is made for: at least the first, below the second."""

_CLIENT_FUNCTIONS = (
    "get_multiple_reference_paths",
    "get_reference_file",
    "get_context_used",
    "get_svn_version",
    "reference_uri_to_cache_path",
)
"""The ``stpipe.crds_client`` functions replaced while active (the rest are not CRDS calls)."""

_CRDS_FUNCTIONS = ("getreferences", "getrecommendations")
"""``crds`` (and ``crds.core.heavy_client``) functions replaced while active."""

_URI = "crds://"
_lock = threading.RLock()
_stack: list[Activation] = []
_saved: list[tuple[ModuleType, str, Any]] = []
_compatible: dict[type[CsstCrdsError], type[CsstCrdsError]] = {}


def _stpipe_version() -> tuple[int, ...]:
    import stpipe

    parts = []
    for piece in str(getattr(stpipe, "__version__", "0")).split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _check_stpipe(client: ModuleType) -> None:
    version = _stpipe_version()
    low, high = STPIPE_VERSIONS
    if not low <= version < high:
        raise ConfigurationError(
            f"stpipe {'.'.join(map(str, version))} is outside the versions this plugin "
            f"registers with (>= {'.'.join(map(str, low))}, < {'.'.join(map(str, high))}); "
            "install a supported stpipe"
        )
    missing = [name for name in _CLIENT_FUNCTIONS if not callable(getattr(client, name, None))]
    if missing:
        raise ConfigurationError(
            f"stpipe.crds_client lacks {', '.join(missing)}: this stpipe reaches CRDS in a way "
            "the plugin cannot serve; install a supported stpipe"
        )


def _crds_modules() -> list[ModuleType]:
    """``crds`` and ``crds.core.heavy_client`` when the CRDS library is importable."""
    modules = []
    for name in ("crds", "crds.core.heavy_client"):
        try:
            modules.append(importlib.import_module(name))
        except ImportError:
            log.debug("%s is not importable; its functions are not replaced", name)
    return modules


def _crds_exceptions() -> tuple[type[BaseException] | None, type[BaseException] | None]:
    try:
        from crds.core.exceptions import CrdsError, CrdsLookupError
    except ImportError:
        return None, None
    return CrdsError, CrdsLookupError


def crds_compatible(exc: CsstCrdsError) -> CsstCrdsError:
    """Return the same error, also an instance of the CRDS class a mission would catch.

    Lookup failures become ``crds.core.exceptions.CrdsLookupError`` too, everything else
    ``CrdsError`` (stpipe's ``pars-*`` lookup takes that as "use the defaults"). Without the
    CRDS library the error is returned unchanged.
    """
    from csst_crds_plugin.errors import ReferenceLookupError

    crds_error, crds_lookup = _crds_exceptions()
    if crds_error is None or crds_lookup is None or isinstance(exc, crds_error):
        return exc
    original = type(exc)
    new = _compatible.get(original)
    if new is None:
        base = crds_lookup if isinstance(exc, ReferenceLookupError) else crds_error
        new = type(original.__name__, (original, base),
                   {"__module__": original.__module__, "__doc__": original.__doc__})
        _compatible[original] = new
    try:
        exc.__class__ = new
    except TypeError:  # a layout Python will not retype: keep the plugin's class
        log.debug("cannot make %s CRDS-compatible", original.__name__)
    return exc


class Activation:
    """The plugin registered with stpipe; `deactivate` (or leaving ``with``) restores stpipe.

    Parameters
    ----------
    cache : path, optional
        The cache root; default the settings' root (``CSST_CRDS_PATH``, else ``CRDS_PATH``).
    context : str, optional
        A pmap name pinning the context of its observatory; default each observatory's
        pinned or operational context.
    """

    def __init__(self, cache: str | Path | None = None, context: str | None = None) -> None:
        self.cache = None if cache is None else Path(cache)
        self.context = context
        self._providers: dict[str, ReferenceProvider] = {}
        self.active = False

    def provider(self, observatory: str) -> ReferenceProvider:
        """Return the provider for `observatory`, built once; raise if the cache lacks it."""
        observatory = str(observatory).lower()
        if self.cache is None and self.context is None:
            return shared_provider(observatory)
        found = self._providers.get(observatory)
        if found is None:
            context = self.context
            if context is not None and not context.lower().startswith(observatory):
                context = None
            check_observatory_held(self.cache or get_settings().cache_root, observatory)
            found = ReferenceProvider(cache=self.cache, context=context, observatory=observatory)
            self._providers[observatory] = found
        return found

    def deactivate(self) -> None:
        """Restore ``stpipe.crds_client`` and ``crds`` exactly as they were."""
        deactivate(self)

    def __enter__(self) -> Activation:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.deactivate()

    def __repr__(self) -> str:
        state = "active" if self.active else "inactive"
        return f"Activation(cache={self.cache!r}, context={self.context!r}, {state})"


def get_provider(observatory: str) -> ReferenceProvider:
    """Return the provider for `observatory`: the active registration's, else the shared one."""
    handle = active()
    if handle is not None:
        return handle.provider(observatory)
    return shared_provider(observatory)


def active() -> Activation | None:
    """Return the innermost active registration, or None."""
    return _stack[-1] if _stack else None


def activate(cache: str | Path | None = None, context: str | None = None) -> Activation:
    """Register the provider with stpipe for this process; returns the handle.

    Every stpipe Step and Pipeline (CSST's, jwst's, romancal's, ...) then resolves references,
    ``pars-*`` parameters, prefetch, ``crds://`` URIs, the recorded context and the recorded
    software version through the provider, and ``crds.getreferences`` /
    ``crds.getrecommendations`` answer from the cache. Nothing falls back to CRDS: an
    observatory the cache does not hold is an error naming the cache and the folder it lacks.
    Activations nest; the outermost `deactivate` restores stpipe.

    Examples
    --------
    >>> with activate(cache="/data/crds_cache"):                      # doctest: +SKIP
    ...     DQInitStep.call("raw.asdf", save_results=True)
    """
    handle = _push(Activation(cache, context))
    log.info("csst-crds-plugin serves stpipe's reference lookups (cache %s)",
             handle.cache or get_settings().cache_root)
    return handle


def _push(handle: Activation) -> Activation:
    from stpipe import crds_client

    with _lock:
        if not _stack:
            _check_stpipe(crds_client)
            _install(crds_client)
        _stack.append(handle)
        handle.active = True
    return handle


def deactivate(handle: Activation | None = None) -> None:
    """End `handle` (default the innermost); restores stpipe when none is left."""
    with _lock:
        if handle is None:
            if not _stack:
                return
            handle = _stack[-1]
        if handle in _stack:
            _stack.remove(handle)
        handle.active = False
        if not _stack:
            _restore()


def _install(client: ModuleType) -> None:
    replacements: dict[str, Callable[..., Any]] = {
        "get_multiple_reference_paths": get_multiple_reference_paths,
        "get_reference_file": get_reference_file,
        "get_context_used": get_context_used,
        "get_svn_version": get_svn_version,
        "reference_uri_to_cache_path": reference_uri_to_cache_path,
    }
    for name, function in replacements.items():
        _replace(client, name, _dispatcher(getattr(client, name), function))
    crds_replacements = {"getreferences": getreferences, "getrecommendations": getrecommendations}
    for module in _crds_modules():
        for name in _CRDS_FUNCTIONS:
            if callable(getattr(module, name, None)):
                _replace(module, name, _dispatcher(getattr(module, name), crds_replacements[name]))


def _replace(module: ModuleType, name: str, function: Callable[..., Any]) -> None:
    _saved.append((module, name, module.__dict__[name]))
    setattr(module, name, function)


def _restore() -> None:
    while _saved:
        module, name, original = _saved.pop()
        setattr(module, name, original)


def _dispatcher(original: Callable[..., Any],
                replacement: Callable[..., Any]) -> Callable[..., Any]:
    """Call `replacement` while the plugin is active, else the original CRDS function."""

    def dispatch(*args: Any, **kwargs: Any) -> Any:
        if not _stack:
            return original(*args, **kwargs)
        try:
            return replacement(*args, **kwargs)
        except CsstCrdsError as exc:
            raise crds_compatible(exc) from None

    dispatch.__name__ = getattr(original, "__name__", replacement.__name__)
    dispatch.__qualname__ = getattr(original, "__qualname__", dispatch.__name__)
    dispatch.__doc__ = replacement.__doc__
    dispatch.__wrapped__ = original  # type: ignore[attr-defined]  # for inspect.unwrap
    return dispatch


def _provider(observatory: str) -> ReferenceProvider:
    handle = active()
    if handle is None:  # pragma: no cover - the dispatchers check first
        raise ConfigurationError("csst-crds-plugin is not active; call activate() first")
    return handle.provider(observatory)


# -- stpipe.crds_client's functions, served ---------------------------------------------------
def get_multiple_reference_paths(parameters: Mapping[str, Any], reference_file_types: Iterable[str],
                                 observatory: str) -> dict[str, str]:
    """``{reftype: absolute path or "N/A"}`` from the provider; omitted types absent."""
    if not isinstance(parameters, dict):
        raise TypeError("First argument must be a dict of parameters")
    types = list(reference_file_types)
    if not types:
        return {}
    return _provider(observatory).reference_paths(parameters, types)


def get_reference_file(parameters: Mapping[str, Any], reference_file_type: str,
                       observatory: str) -> str:
    """Return the absolute cache path of the best reference, or ``"N/A"``."""
    return _provider(observatory).get_reference_file(parameters, reference_file_type)


def get_context_used(observatory: str) -> str:
    """Return the provider's context for `observatory` (what mission provenance records)."""
    return _provider(observatory).context


def get_svn_version() -> str:
    """Return this software's name and version (what mission provenance records)."""
    return SOFTWARE_VERSION


def reference_uri_to_cache_path(reference_uri: str, observatory: str) -> str:
    """Return the cache path of ``crds://<name>``; the name never leads outside the cache root."""
    return uri_path(_provider(observatory), reference_uri)


# -- crds's own top-level functions, served ---------------------------------------------------
def getreferences(parameters: Mapping[str, Any], reftypes: Iterable[str] | None = None,
                  context: str | None = None, ignore_cache: bool = False,
                  observatory: str = "jwst", fast: bool = False) -> dict[str, Any]:
    """``crds.getreferences`` from the cache (`csst_crds_plugin.crds_api`)."""
    return references_from(_provider_for(observatory, context), parameters, reftypes)


def getrecommendations(parameters: Mapping[str, Any], reftypes: Iterable[str] | None = None,
                       context: str | None = None, ignore_cache: bool = False,
                       observatory: str = "jwst", fast: bool = False) -> dict[str, Any]:
    """``crds.getrecommendations`` from the cache (`csst_crds_plugin.crds_api`)."""
    return recommendations_from(_provider_for(observatory, context), parameters, reftypes)


def _provider_for(observatory: str, context: str | None) -> ReferenceProvider:
    if context is None:
        return _provider(observatory)
    handle = active()
    cache = handle.cache if handle is not None else None
    if context.endswith(".pmap"):
        observatory = context.split("_")[0]
    return ReferenceProvider(cache=cache, context=context, observatory=observatory)


class provider_scope:  # noqa: N801 - used as a function-like context manager
    """Keep the plugin registered for a ``with`` block (nothing to do if it already is)."""

    def __init__(self) -> None:
        self._handle: Activation | None = None

    def __enter__(self) -> None:
        with _lock:
            if not _stack:
                self._handle = _push(Activation())

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._handle is not None:
            deactivate(self._handle)
            self._handle = None
