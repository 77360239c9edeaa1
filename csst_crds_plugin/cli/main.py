"""``csst-crds``: the command table, the entry point, common flags and exit codes.

Exit codes: 0 ok; 1 a user-facing error (a :class:`~csst_crds_plugin.errors.CsstCrdsError`,
printed as one line); 2 bad usage (argparse); 130 Ctrl-C; :data:`BUG_STATUS` (70) any other
exception, which is a bug: its traceback is printed, then a line asking for a report. Some
commands return their own documented statuses (coverage's 3, diff's 1 and 2).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import shlex
import sys
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType

from csst_crds_plugin.errors import CsstCrdsError

__all__ = [
    "BUG_STATUS",
    "COMMANDS",
    "NOT_COMMANDS",
    "Command",
    "build_parser",
    "command_modules",
    "load",
    "main",
    "requested_command",
]

BUG_STATUS = 70  # sysexits.h EX_SOFTWARE: an internal error, told apart from 1 and 2


@dataclass(frozen=True)
class Command:
    """One ``csst-crds`` command: its module (imported only when the command runs) and help.

    The module defines ``NAME``, ``add_arguments(parser)`` and ``run(args) -> int``; its
    docstring (or ``DESCRIPTION``) is the command's description and ``EXAMPLES`` its epilog.
    """

    module: str
    help: str


_CLI = "csst_crds_plugin.cli"

#: Every command, by name. Adding a command is adding its line here (a test checks that every
#: command module of the package is listed). Tests may register a command of their own with
#: ``monkeypatch.setitem(COMMANDS, name, Command(...))``.
COMMANDS: dict[str, Command] = {
    "affected": Command(f"{_CLI}.affected",
                        "datasets whose references change between two contexts"),
    "bad": Command(f"{_CLI}.bad", "mark files bad (scientifically invalid) or valid; list them"),
    "bestrefs": Command(f"{_CLI}.bestrefs", "best references for parameter sets"),
    "catalog": Command(f"{_CLI}.catalog", "build or describe a dataset catalogue"),
    "certify": Command(f"{_CLI}.certify", "check reference files and rule files"),
    "checksum": Command(f"{_CLI}.checksum",
                        "mapping sha1sums and the reference manifest: add, fix, verify"),
    "coverage": Command(f"{_CLI}.coverage",
                        "which reference each chip gets at a date; missing or stale ones"),
    "deliver": Command(f"{_CLI}.deliver",
                       "deliver reference files into the cache as a new context"),
    "demo": Command(f"{_CLI}.demo", "build a demo cache and run the level-1 pipeline on it"),
    "diff": Command(f"{_CLI}.diff", "differences between two mappings or two references"),
    "explain": Command(f"{_CLI}.explain", "explain one selection"),
    "insert": Command(f"{_CLI}.insert", "insert references into a new version of an rmap"),
    "list": Command(f"{_CLI}.list_cmd", "list what the cache holds"),
    "lock": Command(f"{_CLI}.lock", "write a context's files with their sha256 (a lock file)"),
    "matches": Command(f"{_CLI}.matches", "which rules of a context select a reference"),
    "newcontext": Command(f"{_CLI}.newcontext",
                          "derive a new context from new rmaps, or add reference types"),
    "refactor": Command(f"{_CLI}.refactor",
                        "a new rmap version: insert, delete, set-header, del-header"),
    "reproduce": Command(f"{_CLI}.reproduce",
                         "check that an output can be reproduced from the cache"),
    "serve": Command(f"{_CLI}.serve", "the web console over a cache"),
    "site": Command(f"{_CLI}.site", "write the console's browse pages as static HTML"),
    "sync": Command(f"{_CLI}.sync", "fill, verify and repair the cache from a mirror"),
    "users": Command(f"{_CLI}.users", "console users, roles and tokens"),
    "uses": Command(f"{_CLI}.uses", "which mappings and contexts use a file"),
}

#: Modules of the cli package that are not commands (private ``_*`` helpers aside).
NOT_COMMANDS = frozenset({"main", "strun"})


def load(name: str) -> ModuleType:
    """Import the module of command `name` (a key of :data:`COMMANDS`)."""
    return importlib.import_module(COMMANDS[name].module)


def command_modules() -> list[ModuleType]:
    """Every command's module, imported, in the order of :data:`COMMANDS` names."""
    return [load(name) for name in sorted(COMMANDS)]


def requested_command(argv: Sequence[str]) -> str | None:
    """The command `argv` names, or None (no command, an unknown one, or ``--help`` first).

    Only that command's module is imported: start-up matters for scripted calls (a parallel
    delivery starts one process per file set), and ``csst-crds --help`` imports none.
    """
    for word in argv:
        if word in ("-h", "--help"):
            return None
        if not word.startswith("-"):  # the global options take no values
            return word if word in COMMANDS else None
    return None


def build_parser(loaded: Iterable[str] = ()) -> argparse.ArgumentParser:
    """The parser: every command with its one-line help; the `loaded` ones with their options.

    A command not in `loaded` is listed without importing its module (it could not run);
    ``build_parser(COMMANDS)`` builds every command in full.
    """
    parser = argparse.ArgumentParser(
        prog="csst-crds",
        description="CSST calibration reference data system: best references from CRDS-syntax "
                    "rules in a serverless cache.",
        epilog="Run 'csst-crds COMMAND --help' for a command's options and examples. Exit "
               "status: 0 ok, 1 error, 2 bad usage, 130 interrupted, 70 internal error (a bug).",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    parser.add_argument("--debug", action="store_true",
                        help="raise errors with their traceback instead of one line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    full = set(loaded)
    for name in sorted(COMMANDS):
        if name not in full:
            sub.add_parser(name, help=COMMANDS[name].help, add_help=False)
            continue
        module = load(name)
        command = sub.add_parser(
            name, help=COMMANDS[name].help,
            description=getattr(module, "DESCRIPTION", module.__doc__),
            epilog=getattr(module, "EXAMPLES", None),
            formatter_class=argparse.RawDescriptionHelpFormatter)
        command.set_defaults(run=module.run)
        module.add_arguments(command)
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


def _report_bug(words: Sequence[str]) -> int:
    """Print the exception being handled and how to report it; return :data:`BUG_STATUS`."""
    from csst_crds_plugin import __version__

    traceback.print_exc()
    print(f"This is a bug in csst-crds {__version__}, not a problem with your input; please "
          f"report it with the command line (csst-crds {shlex.join(words)}) and the traceback "
          "above.", file=sys.stderr)
    return BUG_STATUS


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``csst-crds`` with `argv`; return the exit status."""
    words = sys.argv[1:] if argv is None else list(argv)
    command = requested_command(words)
    parser = build_parser(() if command is None else (command,))
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
    except Exception:
        if args.debug:
            raise
        return _report_bug(words)


if __name__ == "__main__":
    sys.exit(main())
