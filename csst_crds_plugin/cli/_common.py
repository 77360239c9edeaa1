"""The options many commands share, declared and worded once; checks of user-named files.

Each function adds one option to a command's parser (or argument group) with the same name,
default and help text everywhere; a command passes its own `text` only where the option means
something else for it (``certify --context`` names the context that receives the files).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from csst_crds_plugin.errors import ConfigurationError, InputLimitError
from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY

__all__ = [
    "add_cache_option",
    "add_context_option",
    "add_format_option",
    "add_ignore_checksum_option",
    "add_observatory_option",
    "add_progress_option",
    "check_output_file",
    "check_output_folder",
    "read_user_file",
    "rmap_argument",
    "unreadable",
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


def unreadable(path: str | Path, what: str, exc: OSError) -> InputLimitError:
    """The user-facing error for a file the user named that cannot be read (`exc` says why)."""
    if isinstance(exc, FileNotFoundError):
        return InputLimitError(f"{path}: no such {what}; check the name")
    if isinstance(exc, IsADirectoryError):
        return InputLimitError(f"{path}: a folder, not a {what}")
    if isinstance(exc, PermissionError):
        return InputLimitError(f"{path}: no permission to read this {what}")
    return InputLimitError(f"{path}: cannot read this {what}: {exc.strerror or exc}")


def read_user_file(path: str | Path, what: str) -> bytes:
    """The bytes of a file the user named; an :class:`InputLimitError` naming it if unreadable."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise unreadable(path, what, exc) from None


def check_output_file(path: str | None, option: str = "-o") -> None:
    """Refuse, before any work, an output file that cannot be written where `option` says.

    Outputs are written to a temporary file in the same folder and renamed, so the folder must
    exist and be writable and the name must not be a folder; ``-`` (standard output) and None
    (no output) pass.
    """
    if path is None or path == "-":
        return
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        raise ConfigurationError(f"{option} {path}: a folder; give a file name")
    if not folder.is_dir():
        raise ConfigurationError(f"{option} {path}: the folder {folder} does not exist; "
                                 "create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigurationError(f"{option} {path}: no permission to write in {folder}")


def check_output_folder(path: str, option: str) -> None:
    """Refuse an output folder that names an existing file (a missing folder is created)."""
    if Path(path).exists() and not Path(path).is_dir():
        raise ConfigurationError(f"{option} {path}: a file, not a folder; give a folder name")


def rmap_argument(rmap: str, cache: str | None, observatory: str) -> Path:
    """The rmap ``--rmap`` names: a path, else a mapping of the cache; an error if neither."""
    from csst_crds_plugin.tools.listing import layout_for

    path = Path(rmap)
    if not path.exists() and path.name == rmap:
        path = layout_for(cache, observatory).mapping_path(rmap)
    if not path.is_file():
        where = "a file" if path.name != rmap else f"a file, nor a mapping in {path.parent}"
        raise InputLimitError(f"--rmap {rmap}: not {where}; give an rmap's path or cached name")
    return path
