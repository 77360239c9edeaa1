"""``csst-crds bestrefs``: best references for many parameter sets (bulk mode, JSONL)."""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path
from typing import Any

from csst_crds_plugin.cache.layout import atomic_open
from csst_crds_plugin.cli._bestrefs_options import add_options, emit
from csst_crds_plugin.cli._common import (
    add_cache_option,
    add_context_option,
    add_format_option,
    add_ignore_checksum_option,
    check_output_file,
)
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.tools.bestrefs import (
    compare_cases,
    failed,
    iter_cases,
    iter_files,
    run_cases,
)

__all__ = ["NAME", "add_arguments", "run"]

NAME = "bestrefs"

EXAMPLES = """\
examples:
  csst-crds bestrefs --cache ~/crds_cache --context csst_0002.pmap \\
      --headers cases.jsonl --format jsonl
  csst-crds bestrefs --headers exposures.jsonl --types bias dark flat
  csst-crds bestrefs --files raw/*.fits --context csst_0042.pmap
  csst-crds bestrefs --old-context csst_0041.pmap --new-context csst_0042.pmap \
      --files exposure_06.fits exposure_08.asdf
  csst-crds bestrefs --files raw/*.fits --update-bestrefs      # R_<TYPE> into the headers
  csst-crds bestrefs --headers cases.jsonl --format table
  csst-crds bestrefs --old-context csst_0041.pmap --new-context csst_0042.pmap \
      --headers night.jsonl --print-affected                    # the ids that change

Each input line is a flat parameter object {"INSTRUME": "MSC", "DETECTOR": "06", ...} or a case
{"id": ..., "parameters": {...}, "reftypes": [...], "context": ...}; per-line fields win over
flags. Each output line is {"id": <id or line number>, "results": {reftype: value}}, value being a
file name, a list of names, {"map": {...}}, "N/A" or {"error": CATEGORY, "message": TEXT};
omitted types are absent. --files reads FITS/ASDF headers as `csst-crds catalog build` does
(the id is the path).

With --old-context and --new-context each output line is {"id": ..., "changes": {reftype:
{"old": value, "new": value}}}, listing only the types whose selection changes (a file, N/A,
omission or error category; null means omitted), as `csst-crds affected` reports them.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    add_cache_option(parser)
    add_context_option(parser)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--headers",
                        help="JSONL file of parameter sets or cases ('-' for standard input)")
    source.add_argument("--files", nargs="+", metavar="FILE",
                        help="FITS or ASDF files whose headers are the parameter sets")
    parser.add_argument("--old-context", metavar="A",
                        help="compare: the old context (with --new-context)")
    parser.add_argument("--new-context", metavar="B",
                        help="compare: the new context (with --old-context)")
    add_format_option(parser, ("jsonl", "table"), default=None,
                      text="output format: JSON lines, or a table (id, reftype, value); "
                           "default: a table on a terminal, else JSON lines")
    parser.add_argument("--types", nargs="+", metavar="T",
                        help="reference types (default: every type of the instrument)")
    add_ignore_checksum_option(parser)
    parser.add_argument("-o", "--output", help="write here instead of standard output")
    add_options(parser)


def run(args: argparse.Namespace) -> int:
    """Print one result line per input case."""
    if (args.old_context is None) != (args.new_context is None):
        raise CsstCrdsError("give both --old-context and --new-context, or neither")
    if args.old_context is not None and args.context is not None:
        raise CsstCrdsError("--context does not go with --old-context/--new-context")
    check_output_file(args.output)
    if args.files:
        cases = iter_files(args.files)
    else:
        cases = iter_cases("/dev/stdin" if args.headers == "-" else args.headers)
    if args.old_context is not None:
        lines = compare_cases(cases, cache=args.cache, old_context=args.old_context,
                              new_context=args.new_context, reftypes=args.types,
                              ignore_checksum=args.ignore_checksum)
    else:
        lines = run_cases(cases, cache=args.cache, context=args.context, reftypes=args.types,
                          ignore_checksum=args.ignore_checksum)
    compare = args.old_context is not None
    counts = {"unreadable": 0, "lookups": 0}

    def counted(found: Any) -> Any:
        for line in found:
            if "error" in line:  # an unreadable input: also said on standard error
                counts["unreadable"] += 1
                print(f"csst-crds {NAME}: {line['error']['message']}", file=sys.stderr)
            elif not compare and failed(line):
                counts["lookups"] += 1
            yield line

    with contextlib.ExitStack() as stack:
        stream: Any = sys.stdout
        if args.output:  # written whole or not at all
            stream = io.TextIOWrapper(stack.enter_context(atomic_open(Path(args.output))),
                                      encoding="utf-8")
        if args.format is None:
            args.format = "table" if stream is sys.stdout and sys.stdout.isatty() else "jsonl"
        emit(args, counted(lines), stream)
        stream.flush()
        if args.output:
            stream.detach()
    if counts["lookups"]:
        print(f"csst-crds {NAME}: {counts['lookups']} case(s) with a failed lookup (their "
              "\"error\" entries say why)", file=sys.stderr)
    return 1 if counts["unreadable"] or counts["lookups"] else 0
