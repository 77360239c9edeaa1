"""The options many commands share, declared and worded once.

Each function adds one option to a command's parser (or argument group) with the same name,
default and help text everywhere; a command passes its own `text` only where the option means
something else for it (``certify --context`` names the context that receives the files).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY

__all__ = [
    "add_cache_option",
    "add_context_option",
    "add_format_option",
    "add_ignore_checksum_option",
    "add_observatory_option",
    "add_progress_option",
]

_CACHE_DEFAULT = "(default: CSST_CRDS_PATH)"


def add_cache_option(parser: Any, purpose: str = "") -> None:
    """``--cache ROOT``; `purpose` says what the command uses it for (after "cache root")."""
    words = f"cache root {purpose} " if purpose else "cache root "
    parser.add_argument("--cache", help=words + _CACHE_DEFAULT)


def add_context_option(parser: Any, text: str | None = None) -> None:
    """``--context CTX``: the context lookups use (default: pinned, else operational)."""
    parser.add_argument("--context", help=text or (
        "a pmap name or spec: csst-operational, csst-latest, csst-YYYY-MM-DDTHH:MM:SS "
        "(default: the pinned context, else the cache's operational one)"))


def add_observatory_option(parser: Any, *, guessed_from: str | None = None) -> None:
    """``--observatory NAME``: the default one, or guessed from a file name when `guessed_from`.

    Parameters
    ----------
    parser
        The parser or argument group.
    guessed_from
        What names the observatory when the option is absent ("the name", "the first
        name"): the default is then None and the command guesses.
    """
    if guessed_from is None:
        parser.add_argument("--observatory", default=DEFAULT_OBSERVATORY,
                            help=f"observatory (default: {DEFAULT_OBSERVATORY})")
    else:
        parser.add_argument("--observatory",
                            help=f"observatory (default: {guessed_from}'s, if the cache has "
                                 f"mappings for it, else {DEFAULT_OBSERVATORY})")


def add_format_option(parser: Any, choices: Sequence[str] = ("text", "json"),
                      default: str | None = "text", what: str = "output",
                      text: str | None = None) -> None:
    """``--format F`` among `choices`; the help names `what` is formatted and the default."""
    parser.add_argument("--format", choices=tuple(choices), default=default,
                        help=text or f"{what} format (default: {default})")


def add_ignore_checksum_option(parser: Any) -> None:
    """``--ignore-checksum``: read mappings without verifying their sha1sum."""
    parser.add_argument("--ignore-checksum", action="store_true",
                        help="do not verify mapping sha1sums")


def add_progress_option(parser: Any) -> None:
    """``--progress/--no-progress`` (default: on a terminal)."""
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show progress on standard error (default: on a terminal)")
