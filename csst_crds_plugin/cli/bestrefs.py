"""``csst-crds bestrefs``: best references for many parameter sets (bulk mode, JSONL)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from csst_crds_plugin.tools.bestrefs import iter_cases, run_cases

__all__ = ["NAME", "add_parser", "run"]

NAME = "bestrefs"

EXAMPLES = """\
examples:
  csst-crds bestrefs --cache ~/crds_cache --context csst_0002.pmap \\
      --headers cases.jsonl --format jsonl
  csst-crds bestrefs --headers exposures.jsonl --types bias dark flat

Each input line is a flat parameter object {"INSTRUME": "MSC", "DETECTOR": "06", ...} or a case
{"id": ..., "parameters": {...}, "reftypes": [...], "context": ...}; per-line fields win over
flags. Each output line is {"id": <id or line number>, "results": {reftype: value}}, value being a
file name, a list of names, {"map": {...}}, "N/A" or {"error": CATEGORY, "message": TEXT};
omitted types are absent.
"""


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        NAME, help="best references for parameter sets", description=__doc__,
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cache", help="cache root (default: CSST_CRDS_PATH)")
    parser.add_argument("--context", help="pmap name (default: pinned or operational context)")
    parser.add_argument("--headers", required=True,
                        help="JSONL file of parameter sets or cases ('-' for standard input)")
    parser.add_argument("--format", choices=("jsonl",), default="jsonl", help="output format")
    parser.add_argument("--types", nargs="+", metavar="T",
                        help="reference types (default: every type of the instrument)")
    parser.add_argument("--ignore-checksum", action="store_true",
                        help="do not verify mapping sha1sums")
    parser.add_argument("-o", "--output", help="write here instead of standard output")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print one result line per input case."""
    headers = "/dev/stdin" if args.headers == "-" else args.headers
    stream = Path(args.output).open("w", encoding="utf-8") if args.output else sys.stdout
    try:
        for line in run_cases(iter_cases(headers), cache=args.cache, context=args.context,
                              reftypes=args.types, ignore_checksum=args.ignore_checksum):
            stream.write(json.dumps(line) + "\n")
    finally:
        if stream is not sys.stdout:
            stream.close()
    return 0
