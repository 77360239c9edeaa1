"""``csst-crds matches``: which rules of a context select a reference file.

Prints each full rule path: instrument, reference type, every parkey with the rule's value,
and the UseAfter date (as DATE-OBS and TIME-OBS). Exit status 0 when some rule selects the
file, 1 when none does (or on an error).
"""

from __future__ import annotations

import argparse
import json
import sys

from csst_crds_plugin.cli._common import (
    add_cache_option,
    add_context_option,
    add_format_option,
    add_observatory_option,
)
from csst_crds_plugin.tools.matches import matches

__all__ = ["NAME", "add_arguments", "run"]

NAME = "matches"

EXAMPLES = """\
examples:
  csst-crds matches csst_msc_bias_0003.fits                 # in the operational context
  csst-crds matches csst_msc_flat_0004.fits --context csst_0012.pmap
  csst-crds matches csst_msc_dark_0002.fits --context csst-2027-01-02T00:00:00 --format json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    parser.add_argument("files", nargs="+", metavar="FILE", help="reference names (or paths)")
    add_context_option(parser)
    add_cache_option(parser)
    add_observatory_option(parser, guessed_from="the name")
    add_format_option(parser)


def run(args: argparse.Namespace) -> int:
    """Print the rule paths of each file; 1 if some file is selected by no rule."""
    reports = [matches(file, cache=args.cache, context=args.context,
                       observatory=args.observatory) for file in args.files]
    if args.format == "json":
        print(json.dumps([r.to_dict() for r in reports], indent=2))
    else:
        for report in reports:
            for line in report.lines():
                print(line)
    missing = [r for r in reports if not r.found]
    for report in missing:
        print(f"csst-crds matches: no rule of {report.context} selects {report.file}",
              file=sys.stderr)
    return 1 if missing else 0
