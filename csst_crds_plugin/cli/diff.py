"""``csst-crds diff``: what changed between two mappings or two reference files.

Mappings: header fields, pmap/imap entries, and rules added, deleted or replaced per reference
type with their full match path, recursing from a pmap pair down to the replaced rmaps.
References: FITS header keywords per HDU, image data, table rows; JSON/YAML/TOML/ASDF values by
key path. Exit status as CRDS: 0 same, 1 different, 2 error.
"""

from __future__ import annotations

import argparse
import json
import sys

from csst_crds_plugin.cli._common import (
    add_cache_option,
    add_format_option,
    add_observatory_option,
)
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.tools.diffing import diff_files

__all__ = ["NAME", "add_arguments", "run"]

NAME = "diff"

EXAMPLES = """\
examples:
  csst-crds diff csst_0001.pmap csst_0002.pmap          # cached contexts, down to the rules
  csst-crds diff csst_msc_bias_0001.rmap csst_msc_bias_0002.rmap --format json
  csst-crds diff old/csst_msc_0003.imap new/csst_msc_0003.imap --no-recurse
  csst-crds diff csst_msc_flat_0001.fits csst_msc_flat_0002.fits
  csst-crds diff --row-key AMP --row-key CHIP gain_a.fits gain_b.fits  # rows paired by key
  csst-crds diff csst_msc_crosstalk_0001.toml csst_msc_crosstalk_0002.toml
exit status: 0 same, 1 different, 2 error
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    parser.add_argument("old", help="the old file: a path, or a name in the cache")
    parser.add_argument("new", help="the new file: a path, or a name in the cache")
    add_cache_option(parser, "for names and sub-mappings")
    add_observatory_option(parser, guessed_from="the first name")
    parser.add_argument("--no-recurse", dest="recurse", action="store_false",
                        help="for pmaps and imaps, list replaced entries only")
    parser.add_argument("--boring", action="store_true",
                        help="also show name, derived_from and sha1sum header changes")
    parser.add_argument("--row-key", action="append", default=[], metavar="COLUMN",
                        help="pair table rows by this column (repeat for several; default: "
                             "by row number)")
    parser.add_argument("--limit", type=int, default=50,
                        help="differing table rows listed per table (default 50)")
    add_format_option(parser)


def run(args: argparse.Namespace) -> int:
    """Print the differences; 0 same, 1 different, 2 error."""
    try:
        report = diff_files(args.old, args.new, cache=args.cache, observatory=args.observatory,
                            recurse=args.recurse, boring=args.boring, row_key=args.row_key,
                            limit=args.limit)
    except CsstCrdsError as exc:
        if args.debug:
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"csst-crds diff: error: {message}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for line in report.lines():
            print(line)
    return report.exit_code
