"""Step parameters: ``pars-<step>`` references from the provider, relative override paths."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from stpipe import config_parser
from stpipe.pipeline import Pipeline
from stpipe.step import Step

from csst_crds_plugin.errors import ConfigurationError, ReferenceLookupError
from csst_crds_plugin.results import NA
from csst_crds_plugin.stpipe_integration._activation import get_provider
from csst_crds_plugin.stpipe_integration._stpipe_compat import typed_on_command_line

__all__ = ["check_override_paths", "parameters_config", "resolve_override_paths"]

log = logging.getLogger(__name__)

_PREFIX = "override_"


def resolve_override_paths(config: MutableMapping[str, Any], folder: str | Path) -> None:
    """Make relative ``override_<reftype>`` paths of a parameter file absolute, from `folder`.

    Values typed on the command line (stpipe marks them) stay relative to the working
    directory; ``N/A``, empty values, absolute paths and models are left alone.
    """
    for key in list(config):
        value = config[key]
        if (not str(key).startswith(_PREFIX) or not isinstance(value, str)
                or typed_on_command_line(value)):
            continue
        text = value.strip()
        if text and text != NA and not Path(text).expanduser().is_absolute():
            config[key] = str(Path(folder) / text)


def check_override_paths(step: Step) -> None:
    """Before anything runs: every ``override_<reftype>`` path of `step` (and, for a pipeline,
    of each step it will run) must exist; a missing one is a ConfigurationError naming it.

    ``N/A``, empty values and models are not paths and pass.
    """
    from csst_crds_plugin.stpipe_integration._lookup import step_label

    pending = [step]
    while pending:
        current = pending.pop()
        if current.skip and current is not step:
            continue
        if isinstance(current, Pipeline):
            pending += [getattr(current, name) for name in current.step_defs
                        if isinstance(getattr(current, name, None), Step)]
            continue
        for reftype in current.reference_file_types:
            value = getattr(current, f"{_PREFIX}{reftype}", None)
            if not isinstance(value, str) or value.strip() in ("", NA):
                continue
            path = Path(value).expanduser().absolute()
            if not path.is_file():
                raise ConfigurationError(
                    f"{step_label(current)}: {_PREFIX}{reftype} = {value!r}: "
                    f"{'not a file' if path.exists() else 'no such file'} ({path}); give an "
                    f"existing reference file, or N/A to skip the correction"
                )


def _own_parameters(step_class: type[Step], parameters: dict[str, Any],
                    observatory: str) -> Any:
    """The ``pars-<class>`` reference of one class as a config, or its empty config.

    Swallowed, meaning "the step's defaults": no context available (ConfigurationError),
    and every lookup failure (unknown type, no matching rule, N/A, OMIT), logged. Anything
    else (a damaged cache, bad rules, a missing file) is raised.
    """
    reftype = step_class.get_config_reftype()
    empty = step_class._empty_config()
    try:
        path = get_provider(observatory).get_reference_file(parameters, reftype)
    except ConfigurationError as exc:
        log.info("%s: no context, so the step's defaults (%s)", reftype.upper(), exc)
        return empty
    except ReferenceLookupError as exc:
        log.debug("%s: no parameters found (%s)", reftype.upper(), exc)
        return empty
    if path == NA:
        log.debug("%s: not applicable, so the step's defaults", reftype.upper())
        return empty
    log.info("%s parameters found: %s", reftype.upper(), path)
    config = config_parser.load_config_file(path)
    folder = Path(path).parent
    resolve_override_paths(config, folder)
    for section in config.get("steps", {}).values():
        resolve_override_paths(section, folder)
    return config


def parameters_config(step_class: type[Step], parameters: dict[str, Any],
                      observatory: str) -> Any:
    """What ``_get_config_from_parameters`` returns, from the provider only.

    A pipeline gets each of its steps' ``pars-*`` config under ``steps``, then its own
    merged over them, as stpipe does; no class reaches the CRDS library.
    """
    if not issubclass(step_class, Pipeline):
        return _own_parameters(step_class, parameters, observatory)
    config = step_class._empty_config()
    for name, child in step_class.step_defs.items():
        config["steps"][name] = parameters_config(child, parameters, observatory)
    config_parser.merge_config(config, _own_parameters(step_class, parameters, observatory))
    return config
