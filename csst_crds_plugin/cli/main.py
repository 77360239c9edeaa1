"""``csst-crds``: entry point, common flags, exit codes (0 ok, 1 domain error, 2 usage)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

import csst_crds_plugin.cli
from csst_crds_plugin.errors import CsstCrdsError

__all__ = ["build_parser", "command_modules", "main", "requested_command"]


def command_modules() -> list[ModuleType]:
    """Every module of ``csst_crds_plugin.cli`` that defines a subcommand, sorted by name.

    A subcommand module defines ``NAME``, ``add_parser(subparsers)`` and ``run(args) -> int``;
    dropping such a module into the package is all it takes to add a command.
    """
    found = []
    for info in pkgutil.iter_modules(csst_crds_plugin.cli.__path__):
        if info.name.startswith("_") or info.name == "main":
            continue
        module = importlib.import_module(f"csst_crds_plugin.cli.{info.name}")
        if all(hasattr(module, attr) for attr in ("NAME", "add_parser", "run")):
            found.append(module)
    return sorted(found, key=lambda module: module.NAME)


def requested_command(argv: Sequence[str]) -> ModuleType | None:
    """The one subcommand module `argv` names, imported alone; None to import them all.

    Start-up matters for scripted calls (a parallel delivery starts one process per file set):
    ``csst-crds deliver ...`` need not import certify's, sync's or affected's dependencies.
    """
    for word in argv:
        if word in ("-h", "--help"):
            return None
        if word.startswith("-"):
            continue
        for name in (word, f"{word}_cmd"):
            qualified = f"csst_crds_plugin.cli.{name}"
            if not name.isidentifier() or name == "main" or \
                    importlib.util.find_spec(qualified) is None:
                continue
            module = importlib.import_module(qualified)
            if getattr(module, "NAME", None) == word and \
                    all(hasattr(module, attr) for attr in ("add_parser", "run")):
                return module
        return None
    return None


def build_parser(modules: Sequence[ModuleType] | None = None) -> argparse.ArgumentParser:
    """The argument parser, for every subcommand or only for `modules`."""
    parser = argparse.ArgumentParser(
        prog="csst-crds",
        description="CSST calibration reference data system: best references from CRDS-syntax "
                    "rules in a serverless cache.",
        epilog="Run 'csst-crds COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in command_modules() if modules is None else modules:
        module.add_parser(sub)
    for command in sub.choices.values():
        _plain_help(command)
    return parser


def _plain(text: str | None) -> str | None:
    """Help text without the reStructuredText quoting of the docstrings it comes from."""
    if not text:
        return text
    return text.replace("``", "").replace("`", "'")


def _plain_help(parser: argparse.ArgumentParser) -> None:
    """Strip docstring markup from a command's description, epilog and option texts."""
    parser.description = _plain(parser.description)
    parser.epilog = _plain(parser.epilog)
    for action in parser._actions:
        action.help = _plain(action.help)
        for child in getattr(action, "choices", None) or ():
            if isinstance(child, str) and isinstance(action.choices, dict):
                _plain_help(action.choices[child])


def _configure_logging(verbose: int, quiet: bool) -> None:
    levels = (logging.WARNING, logging.INFO, logging.DEBUG)
    level = logging.ERROR if quiet else levels[min(verbose, 2)]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(name)s: %(message)s"))
    handler.set_name("csst-crds")
    root = logging.getLogger("csst_crds_plugin")
    # replace an earlier call's handler (main() may run many times in one process); the
    # package's NullHandler stays
    root.handlers[:] = [h for h in root.handlers if h.get_name() != "csst-crds"] + [handler]
    root.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``csst-crds`` with `argv`; return the exit status."""
    words = sys.argv[1:] if argv is None else list(argv)
    only = requested_command(words)
    parser = build_parser(None if only is None else [only])
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:
        return int(exc.code or 0)
    _configure_logging(args.verbose, args.quiet)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        # Every write is a temporary file renamed when complete: nothing is left half-written.
        print(f"csst-crds {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except CsstCrdsError as exc:
        if args.debug:
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"csst-crds {args.command}: error: {message}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        if args.debug:
            raise
        print(f"csst-crds {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
