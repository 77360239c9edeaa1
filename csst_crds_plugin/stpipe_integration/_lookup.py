"""Provider lookups for stpipe: one provider per observatory and settings, and step errors."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Mapping
from pathlib import Path

from csst_crds_plugin.context import condition_parameters
from csst_crds_plugin.errors import CacheError, CsstCrdsError, ReferenceLookupError
from csst_crds_plugin.provider import ReferenceProvider
from csst_crds_plugin.results import NA
from csst_crds_plugin.settings import Settings, get_settings

__all__ = [
    "StepReferenceError",
    "check_observatory_held",
    "clear_providers",
    "explain_command",
    "get_provider",
    "locate",
    "reference_uri_to_cache_path",
    "select_reference",
    "selection_parameters",
    "shared_provider",
    "step_lookup_error",
    "uri_path",
]

log = logging.getLogger(__name__)

_PROVIDERS: dict[tuple[Settings, str], ReferenceProvider] = {}
_URI = "crds://"


def get_provider(observatory: str) -> ReferenceProvider:
    """The provider for `observatory`: the active registration's, else the shared one."""
    from csst_crds_plugin.stpipe_integration._activation import active

    handle = active()
    if handle is not None:
        return handle.provider(observatory)
    return shared_provider(observatory)


def shared_provider(observatory: str) -> ReferenceProvider:
    """The provider for `observatory` under the settings in force, built once and reused.

    Like the CRDS client, a process keeps the context it resolved first, so one pipeline run
    never mixes contexts; `clear_providers` forgets them (a changed setting makes a new one).
    An observatory whose rules the cache does not hold is a `CacheError`, never a fall back
    to the CRDS library.
    """
    key = (get_settings(), observatory.lower())
    provider = _PROVIDERS.get(key)
    if provider is None:
        check_observatory_held(key[0].cache_root, key[1])
        provider = _PROVIDERS[key] = ReferenceProvider(observatory=key[1])
    return provider


def check_observatory_held(cache_root: Path, observatory: str) -> None:
    """Fail, naming the folder, when the cache has no rules for `observatory`."""
    folder = Path(cache_root) / "mappings" / observatory
    if Path(cache_root).is_dir() and not folder.is_dir():
        held = sorted(p.name for p in (Path(cache_root) / "mappings").glob("*") if p.is_dir())
        raise CacheError(
            f"the cache {cache_root} holds no {observatory} rules ({folder} is missing; it "
            f"holds: {', '.join(held) or 'none'}). The CRDS library is not consulted while "
            f"csst-crds-plugin serves stpipe: fill the cache with `csst-crds sync "
            f"--observatory {observatory} --source DIR|URL`, or point CSST_CRDS_PATH at a "
            f"cache that has them"
        )


def clear_providers() -> None:
    """Forget every provider (the next lookup resolves the context again)."""
    _PROVIDERS.clear()


class StepReferenceError(ReferenceLookupError):
    """A step could not select a reference; names the step, type, context and parameters."""

    def __init__(self, message: str, *, step: str, reftype: str, context: str,
                 parameters: Mapping[str, object], command: str, category: str) -> None:
        super().__init__(message)
        self.step = step
        self.reftype = reftype
        self.context = context
        self.parameters = dict(parameters)
        self.command = command
        self.category = category


def selection_parameters(provider: ReferenceProvider, parameters: Mapping[str, object],
                         reftype: str) -> dict[str, object]:
    """The parameters the rules read for `reftype` (instrument key first), as given.

    Falls back to every plain keyword (no dotted data-model paths) when the rules cannot
    tell, e.g. for an unknown instrument.
    """
    given = {str(key).upper(): key for key in parameters}
    try:
        pmap = provider.pmap
        imap = pmap.imap(pmap.find_instrument(condition_parameters(parameters,
                                                                   provider.observatory)))
        keys = [pmap.instrument_key]
        if imap.entries.get(reftype) in imap.rmap_names():
            keys.extend(imap.rmap(reftype).required_keys)
    except CsstCrdsError:
        keys = [key for key in given if "." not in key]
    return {key: parameters[given[key]] if key in given else None
            for key in dict.fromkeys(keys)}


def explain_command(provider: ReferenceProvider, reftype: str,
                    parameters: Mapping[str, object]) -> str:
    """The ``csst-crds explain`` command line that traces this lookup."""
    words = ["csst-crds", "explain", "--cache", str(provider.cache_root), "--context",
             provider.context, "--type", reftype]
    words.extend(f"{key}={value}" for key, value in parameters.items() if value is not None)
    return shlex.join(words)


def step_lookup_error(step: str, reftype: str, provider: ReferenceProvider,
                      parameters: Mapping[str, object], exc: ReferenceLookupError
                      ) -> StepReferenceError:
    """A `StepReferenceError` for a failed lookup, with the explain command to run."""
    shown = selection_parameters(provider, parameters, reftype)
    command = explain_command(provider, reftype, shown)
    listing = ", ".join(f"{key}={'(missing)' if value is None else repr(value)}"
                        for key, value in shown.items())
    message = (
        f"step {step}: no {reftype} reference under context {provider.context} "
        f"(cache {provider.cache_root}): {exc}\n"
        f"  parameters: {listing}\n"
        f"  to see why: {command}\n"
        f"  to go on: give override_{reftype}=FILE (or N/A to skip the correction)"
    )
    return StepReferenceError(message, step=step, reftype=reftype, context=provider.context,
                              parameters=shown, command=command, category=exc.category)


def select_reference(step: str, parameters: Mapping[str, object], observatory: str,
                     reftype: str) -> str:
    """The provider's path (or ``"N/A"``) for one type; failures name the step."""
    try:
        provider = get_provider(observatory)
    except CsstCrdsError as exc:
        exc.add_note(f"while step {step} looked up its {reftype} reference")
        raise
    try:
        path = provider.get_reference_file(parameters, reftype)
    except ReferenceLookupError as exc:
        raise step_lookup_error(step, reftype, provider, parameters, exc) from exc
    except CsstCrdsError as exc:
        exc.add_note(f"while step {step} looked up its {reftype} reference under "
                     f"{provider.context}")
        raise
    log.info("%s: %s reference %s (context %s)", step, reftype,
             NA if path == NA else Path(path).name, provider.context)
    return path


def locate(provider: ReferenceProvider, parameters: Mapping[str, object], name: str) -> Path:
    """The cache path of a selected reference name; FileNotCachedError if absent."""
    return provider.locate(parameters, name)


def uri_path(provider: ReferenceProvider, reference_uri: str) -> str:
    """The cache path of ``crds://<name>`` in `provider`'s cache; never outside its root."""
    if not reference_uri.startswith(_URI):
        raise ReferenceLookupError(
            f"reference URI {reference_uri!r} should start with {_URI!r}, e.g. "
            f"{_URI}csst_msc_dark_0001.fits"
        )
    return str(provider.locate_name(reference_uri.removeprefix(_URI)))


def reference_uri_to_cache_path(reference_uri: str, observatory: str = "csst") -> str:
    """The cache path of ``crds://<name>`` (stpipe's ``crds_client`` function, serverless).

    The name must be a plain file name; it can never lead outside the cache root.
    """
    return uri_path(get_provider(observatory), reference_uri)
