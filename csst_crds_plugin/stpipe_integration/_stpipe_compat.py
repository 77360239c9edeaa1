"""The one place that reaches into a private part of stpipe, and why.

`resolve_override_paths` must tell an ``override_<reftype>`` value typed on the ``strun``
command line (relative to the working directory) from one read from a parameter file
(relative to that file). stpipe marks each command-line value by wrapping it in
``FromCommandLine``, a ``str`` subclass, and offers no public way to ask; its own
``config_parser`` and ``Step`` use the same ``isinstance`` test.

What this relies on: a class ``FromCommandLine``, subclass of ``str``, in ``stpipe._cmdline``
(stpipe 1.0 and later) or ``stpipe.cmdline`` (before 1.0), that stpipe's command-line parsing
(``_override_config_from_args``) wraps every override in. Checked with stpipe 0.7.0, 0.10.0,
0.13.0, 1.0.0 and 1.1.0. ``tests/test_steps/test_stpipe_compat.py`` fails, naming this module,
when an installed stpipe no longer does so.
"""

from __future__ import annotations

import importlib
from typing import Final

__all__ = ["STPIPE_COMMAND_LINE_MODULES", "FromCommandLine", "typed_on_command_line"]

STPIPE_COMMAND_LINE_MODULES: Final = ("stpipe._cmdline", "stpipe.cmdline")
"""Where stpipe keeps ``FromCommandLine``: 1.0 and later, then before 1.0."""


def _find() -> type[str]:
    for name in STPIPE_COMMAND_LINE_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        found = getattr(module, "FromCommandLine", None)
        if isinstance(found, type) and issubclass(found, str):
            return found
    raise ImportError(
        f"{__name__}: this stpipe has no FromCommandLine str class in "
        f"{' or '.join(STPIPE_COMMAND_LINE_MODULES)}; the plugin cannot tell command-line "
        "override paths from parameter-file ones. Install a checked stpipe (see this module's "
        "docstring) or update the shim."
    )


FromCommandLine: Final = _find()
"""stpipe's marker class of command-line values."""


def typed_on_command_line(value: object) -> bool:
    """True when stpipe read `value` from the command line (not from a parameter file)."""
    return isinstance(value, FromCommandLine)
