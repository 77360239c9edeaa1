"""``csst-crds insert``: write the next version of an rmap with references inserted."""

from __future__ import annotations

import argparse
import json
from typing import Any

from csst_crds_plugin.cli._common import (
    add_cache_option,
    add_format_option,
    add_observatory_option,
    rmap_argument,
)

__all__ = ["NAME", "add_arguments", "run"]

NAME = "insert"

EXAMPLES = """\
examples:
  csst-crds insert --rmap csst_msc_bias_0004.rmap --references csst_msc_bias_0031.fits
  csst-crds insert --rmap ./rules/csst_msc_flat_0002.rmap --references a.fits b.fits \\
      --output-dir ./new_rules --format json

Insertion follows CRDS (refactor insert): a reference whose match parameters and USEAFTER equal
an existing rule replaces that file; otherwise a new rule is added, nesting as the rmap's
`classes` say (default Match, UseAfter). The new rmap has the next free serial, derived_from
set to the old rmap and a new sha1sum; nothing else in the cache changes (see `newcontext`,
or `deliver` for the whole submission). References are named by their file names.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    parser.add_argument("--rmap", required=True,
                        help="the rmap: a path, or a name in the cache's mappings")
    parser.add_argument("--references", nargs="+", required=True, metavar="FILE",
                        help="reference files to insert")
    parser.add_argument("--output-dir", help="where the new rmap goes (default: beside --rmap)")
    add_cache_option(parser, "for an rmap given by name")
    add_observatory_option(parser)
    add_format_option(parser)


def run(args: argparse.Namespace) -> int:
    """Insert and report each insertion."""
    from csst_crds_plugin.tools.delivery import insert_references

    rmap = rmap_argument(args.rmap, args.cache, args.observatory)
    result = insert_references(rmap, args.references, output_dir=args.output_dir)
    rows: list[dict[str, Any]] = [
        {"reference": i.origin, "name": i.filename, "path": [repr(k) for k in i.path],
         "replaced": None if i.replaced is None else str(i.replaced)}
        for i in result.insertions]
    if args.format == "json":
        print(json.dumps({"rmap": str(result.rmap), "derived_from": result.derived_from,
                          "insertions": rows}, indent=2))
        return 0
    for row in rows:
        what = f"replaced {row['replaced']}" if row["replaced"] else "added"
        print(f"{row['name']}: {what} at {' / '.join(row['path'])}")
    print(f"wrote {result.rmap} (derived from {result.derived_from})")
    return 0
