"""Provider lookups for stpipe: one provider per observatory and settings, and step errors."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Mapping
from pathlib import Path

from stpipe.step import Step

from csst_crds_plugin.errors import CsstCrdsError, ReferenceLookupError
from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY
from csst_crds_plugin.provider import ReferenceProvider
from csst_crds_plugin.results import NA
from csst_crds_plugin.stpipe_integration._activation import get_provider
from csst_crds_plugin.stpipe_integration._providers import (
    uri_path,
)

__all__ = [
    "StepReferenceError",
    "explain_command",
    "locate",
    "reference_uri_to_cache_path",
    "select_reference",
    "selection_parameters",
    "step_label",
    "step_lookup_error",
]

log = logging.getLogger(__name__)



def step_label(step: Step) -> str:
    """``csst_dark``, or ``csst_dark (step 'dark' of Level1Pipeline)`` inside a pipeline."""
    label = step.class_alias or type(step).__name__
    if step.parent is not None:
        label += f" (step {step.name!r} of {step.parent.name})"
    return label


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
        keys = list(provider.keys_read(parameters, reftype))
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
    if log.isEnabledFor(logging.INFO):  # the file name is worked out only for the log
        log.info("%s: %s reference %s (context %s)", step, reftype,
                 NA if path == NA else Path(path).name, provider.context)
    return path


def locate(provider: ReferenceProvider, parameters: Mapping[str, object], name: str) -> Path:
    """The cache path of a selected reference name; FileNotCachedError if absent."""
    return provider.locate(parameters, name)


def reference_uri_to_cache_path(reference_uri: str, observatory: str = DEFAULT_OBSERVATORY) -> str:
    """The cache path of ``crds://<name>`` (stpipe's ``crds_client`` function, serverless).

    The name must be a plain file name; it can never lead outside the cache root.
    """
    return uri_path(get_provider(observatory), reference_uri)
