"""``csst-crds uses``: which cached mappings name a file, and which contexts include it.

For a reference: the rmaps naming it, the imaps above them, and every context (pmap) whose
closure includes it; for an rmap or imap likewise. Exit status 0 when some mapping uses the
file, 1 when none does (or on an error).
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
from csst_crds_plugin.tools.uses import uses

__all__ = ["NAME", "add_arguments", "run"]

NAME = "uses"

EXAMPLES = """\
examples:
  csst-crds uses csst_msc_bias_0003.fits            # rmaps, imaps and contexts using it
  csst-crds uses csst_msc_bias_0002.rmap --cache /data/crds_cache
  csst-crds uses csst_msc_flat_0007.fits --format json
  csst-crds uses old_dark.fits || echo "no mapping uses it"
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="reference or mapping names (or paths: the name is used)")
    add_cache_option(parser)
    add_observatory_option(parser, guessed_from="the name")
    add_format_option(parser)


def run(args: argparse.Namespace) -> int:
    """Print the users of each file; 1 if some file is used by no mapping."""
    reports = [uses(file, cache=args.cache, observatory=args.observatory)
               for file in args.files]
    if args.format == "json":
        print(json.dumps([r.to_dict() for r in reports], indent=2))
    else:
        for report in reports:
            prefix = f"{report.file}: " if len(reports) > 1 else ""
            for line in report.lines():
                print(prefix + line)
    unused = [r.file for r in reports if not r.used]
    for name in unused:
        print(f"csst-crds uses: {name} is named by no mapping in {reports[0].cache}",
              file=sys.stderr)
    return 1 if unused else 0
