"""CRDS's top-level calls, with CRDS's arguments and return values, from the serverless cache.

Code written for the CRDS library (``crds.getreferences``, ``crds.getrecommendations``,
``crds.get_default_context``, ``crds.get_context_name``) runs unchanged with::

    from csst_crds_plugin import crds_api as crds

The cache is the settings' root (``CSST_CRDS_PATH``, else ``CRDS_PATH``). Departures from CRDS
14.0.3, each because there is no server:

- ``observatory`` defaults to ``csst``, not ``jwst``;
- ``ignore_cache`` and ``fast`` are accepted and change nothing: nothing is downloaded, and no
  verbose logging or server status is skipped or needed;
- ``reftypes=None`` gives every type of the instrument's rules; CRDS with the ``jwst``
  package installed narrows it to the types of the exposure's pipeline;
- the ``build`` state or context (the context a JWST calibration release was built against) is
  the cache's operational context;
- a reference named by the rules but missing from the cache is a ``FileNotCachedError`` whose
  message gives the ``csst-crds sync --files`` command, instead of a download.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from csst_crds_plugin.errors import ReferenceLookupError
from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY
from csst_crds_plugin.provider import ReferenceProvider
from csst_crds_plugin.results import NOT_APPLICABLE, MapResult

__all__ = [
    "get_context_name",
    "get_default_context",
    "getrecommendations",
    "getreferences",
    "recommendations_from",
    "references_from",
]

NOT_FOUND_NA = "NOT FOUND n/a"
"""CRDS's value for a type that does not apply."""

_CRDS_TEXT = {"no-match": "No match found."}


def _context_spec(context: str | None, observatory: str) -> str | None:
    """CRDS's context words as the cache's specs: ``latest``, ``build``, ``<obs>-build``."""
    if context is None:
        return None
    word = context.strip().lower()
    if word in ("build", f"{observatory}-build"):
        return f"{observatory}-operational"
    return context


def _provider(context: str | None, observatory: str) -> ReferenceProvider:
    return ReferenceProvider(context=_context_spec(context, observatory),
                             observatory=observatory.lower())


def _not_found(error: Exception) -> str:
    category = getattr(error, "category", "other")
    text = _CRDS_TEXT.get(category) or (str(error).splitlines() or [type(error).__name__])[0]
    return f"NOT FOUND {text}"


def _crds_value(value: object) -> Any:
    """Return a selection as CRDS returns it: a name, a tuple, a dict, or ``NOT FOUND n/a``."""
    if value is NOT_APPLICABLE:
        return NOT_FOUND_NA
    if isinstance(value, tuple):
        return tuple(_crds_value(item) for item in value)
    if isinstance(value, MapResult):
        return {key: _crds_value(item) for key, item in value.items()}
    return value


def recommendations_from(provider: ReferenceProvider, parameters: Mapping[str, object],
                         reftypes: Iterable[str] | None) -> dict[str, Any]:
    """`getrecommendations` with a given provider (its cache and context)."""
    wanted = None if reftypes is None else [str(t).lower() for t in reftypes]
    selections = provider.best_references(parameters, wanted, errors="collect")
    return {reftype: _not_found(s.error) if s.error is not None else _crds_value(s.value)
            for reftype, s in selections.items()}


def getrecommendations(parameters: Mapping[str, object], reftypes: Iterable[str] | None = None,
                       context: str | None = None, ignore_cache: bool = False,
                       observatory: str = DEFAULT_OBSERVATORY,
                       fast: bool = False) -> dict[str, Any]:
    """Return the best references' names for `parameters`, as ``crds.getrecommendations``.

    Parameters
    ----------
    parameters : mapping
        The matching parameters (header keywords or data-model paths) and their values.
    reftypes : iterable of str, optional
        The types wanted; None for every type of the instrument.
    context : str, optional
        A pmap name, ``latest``, ``<obs>-operational``, ``<obs>-YYYY-MM-DDTHH:MM:SS``; default
        ``CSST_CRDS_CONTEXT``, ``CRDS_CONTEXT``, then the cache's operational context.
    ignore_cache, fast : bool
        Accepted for CRDS compatibility; nothing is downloaded.
    observatory : str
        The observatory of the cache (default ``csst``).

    Returns
    -------
    dict
        ``{reftype: name}``; a tuple or dict where the rules give one; ``"NOT FOUND n/a"``
        for a type that does not apply, ``"NOT FOUND <why>"`` for a failed lookup. Omitted
        types are absent.
    """
    return recommendations_from(_provider(context, observatory), parameters, reftypes)


def getreferences(parameters: Mapping[str, object], reftypes: Iterable[str] | None = None,
                  context: str | None = None, ignore_cache: bool = False,
                  observatory: str = DEFAULT_OBSERVATORY, fast: bool = False) -> dict[str, Any]:
    """Return the best references' cache paths for `parameters`, as ``crds.getreferences``.

    Arguments as for `getrecommendations`. Returns ``{reftype: absolute path}`` (tuples and
    dicts of paths where the rules give them; ``"NOT FOUND n/a"`` kept). A failed lookup raises
    the last failure (a `ReferenceLookupError`), as CRDS raises ``CrdsLookupError``.
    """
    return references_from(_provider(context, observatory), parameters, reftypes)


def references_from(provider: ReferenceProvider, parameters: Mapping[str, object],
                    reftypes: Iterable[str] | None) -> dict[str, Any]:
    """`getreferences` with a given provider; each path is checked against the manifest."""
    recommended = recommendations_from(provider, parameters, reftypes)
    failed = [(t, v) for t, v in recommended.items()
              if isinstance(v, str) and v.startswith("NOT FOUND") and v != NOT_FOUND_NA]
    if failed:
        reftype, value = failed[-1]
        raise ReferenceLookupError(f"Error determining best reference for {reftype!r} = "
                                   f"{value[len('NOT FOUND '):]}")

    def path(value: Any) -> Any:
        if isinstance(value, tuple):
            return tuple(path(item) for item in value)
        if isinstance(value, dict):
            return {key: path(item) for key, item in value.items()}
        if value == NOT_FOUND_NA:
            return value
        return str(provider.locate(parameters, value))

    return {reftype: path(value) for reftype, value in recommended.items()}


def get_default_context(observatory: str | None = None, state: str | None = None) -> str:
    """Return the cache's context for `state`, as ``crds.get_default_context``.

    `state` is ``latest`` (the default, formerly ``operational``), ``operational``, ``edit`` or
    ``build`` (the operational context here); the names come from ``config/<obs>/``.
    """
    obs = (observatory or DEFAULT_OBSERVATORY).lower()
    word = (state or "latest").lower()
    spec = {"build": "operational"}.get(word, word)
    provider = ReferenceProvider(context=f"{obs}-{spec}", observatory=obs)
    return provider.context


def get_context_name(observatory: str, context: str | None = None) -> str:
    """Return the pmap name that `context` means, as ``crds.get_context_name``.

    A pmap name is returned as is; ``latest``, ``<obs>-operational``, ``<obs>-latest`` and
    ``<obs>-YYYY-MM-DDTHH:MM:SS`` are resolved from the cache's history; None means
    ``CSST_CRDS_CONTEXT``, then ``CRDS_CONTEXT``, then the cache's operational context.
    """
    return _provider(context, observatory).context
