"""``csst-crds refactor``: a new rmap version: insert, delete, set-header, del-header (as CRDS)."""

from __future__ import annotations

import argparse
import json

from csst_crds_plugin.cli._common import (
    add_cache_option,
    add_format_option,
    add_observatory_option,
    rmap_argument,
)

__all__ = ["NAME", "add_arguments", "run"]

NAME = "refactor"

EXAMPLES = """\
examples:
  csst-crds refactor insert --rmap csst_msc_bias_0004.rmap --references csst_msc_bias_0031.fits
  csst-crds refactor delete --rmap csst_msc_bias_0004.rmap --references csst_msc_bias_0007.fits
  csst-crds refactor set-header --rmap csst_msc_bias_0004.rmap description superbias 2027
  csst-crds refactor del-header --rmap csst_msc_bias_0004.rmap description

CRDS's 'crds refactor insert|delete|set_header|del_header OLD NEW ...' with the new name chosen
for you: each writes the next version of the rmap (beside it, or in --output-dir) derived from
it, with a new sha1sum; contexts are not changed (then run 'csst-crds newcontext'). 'insert' is
also 'csst-crds insert'. 'delete' drops every rule selecting the files and any nested selector
left selecting none.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    operations = parser.add_subparsers(dest="operation", metavar="OPERATION", required=True)
    helps = {"insert": "insert references (as 'csst-crds insert')",
             "delete": "delete every rule selecting these references",
             "set-header": "set a header field: KEY VALUE...",
             "del-header": "delete a header field: KEY"}
    for name, text in helps.items():
        sub = operations.add_parser(name, help=text, description=text)
        sub.add_argument("--rmap", required=True,
                         help="the rmap: a path, or a name in the cache's mappings")
        if name in ("insert", "delete"):
            sub.add_argument("--references", nargs="+", required=True, metavar="FILE",
                             help="reference files (insert) or names (delete)")
        else:
            sub.add_argument("key", help="the header field")
        if name == "set-header":
            sub.add_argument("value", nargs="+", help="the new value (words joined by spaces)")
        sub.add_argument("--output-dir", help="where the new rmap goes (default: beside --rmap)")
        add_cache_option(sub, "for an rmap given by name")
        add_observatory_option(sub)
        add_format_option(sub)


def run(args: argparse.Namespace) -> int:
    """Run the operation and report the new rmap."""
    if args.operation == "insert":
        from csst_crds_plugin.cli import insert

        return insert.run(args)
    from csst_crds_plugin.tools.delivery.refactor_ops import (
        del_header,
        delete_references,
        set_header,
    )

    rmap = rmap_argument(args.rmap, args.cache, args.observatory)
    if args.operation == "delete":
        result = delete_references(rmap, args.references, output_dir=args.output_dir)
    elif args.operation == "set-header":
        result = set_header(rmap, args.key, args.value, output_dir=args.output_dir)
    else:
        result = del_header(rmap, args.key, output_dir=args.output_dir)
    if args.format == "json":
        print(json.dumps({"rmap": str(result.rmap), "derived_from": result.derived_from,
                          "changes": list(result.changes)}, indent=2))
        return 0
    for change in result.changes:
        print(change)
    print(f"wrote {result.rmap} (derived from {result.derived_from})")
    return 0
