"""``csst-crds bad``: mark files scientifically invalid, or valid again; list them."""

from __future__ import annotations

import argparse
import json

from csst_crds_plugin.cli._common import (
    add_cache_option,
    add_format_option,
    add_observatory_option,
)

__all__ = ["NAME", "add_arguments", "run"]

NAME = "bad"

EXAMPLES = """\
examples:
  csst-crds bad add csst_msc_dark_0007.fits       # lookups selecting it now fail
  csst-crds bad remove csst_msc_dark_0007.fits    # valid again
  csst-crds bad list --format json

A lookup that selects a bad reference, or uses bad rules, fails as in CRDS unless
CSST_CRDS_ALLOW_BAD_REFERENCES / CSST_CRDS_ALLOW_BAD_RULES is set. The list is the bad_files
of config/<obs>/contexts.json, changed under the rules lock.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, text in (("add", "mark files bad"), ("remove", "mark files valid again"),
                         ("list", "list the bad files")):
        sub = actions.add_parser(action, help=text, description=text)
        if action != "list":
            sub.add_argument("names", nargs="+", metavar="NAME",
                             help="cached mappings or references")
        add_cache_option(sub)
        add_observatory_option(sub)
        add_format_option(sub)


def run(args: argparse.Namespace) -> int:
    """Change or print the list."""
    from csst_crds_plugin.tools.badfiles import bad_files, mark_bad
    from csst_crds_plugin.tools.listing import layout_for

    layout = layout_for(args.cache, args.observatory)
    if args.action == "list":
        names = bad_files(layout)
        print(json.dumps(names) if args.format == "json" else "\n".join(names))
        return 0
    changed = mark_bad(layout, args.names, bad=args.action == "add")
    word = "marked bad" if args.action == "add" else "no longer bad"
    if args.format == "json":
        print(json.dumps({"changed": changed}))
    else:
        for name in args.names:
            print(f"{name}: {word}" if name in changed else f"{name}: unchanged")
    return 0
