"""``csst-crds list``: what the cache holds: contexts, mappings, references, config, status."""

from __future__ import annotations

import argparse
from typing import Any

from csst_crds_plugin.tools.listing import (
    layout_for,
    list_config,
    list_contexts,
    list_mappings,
    list_references,
    status,
)

__all__ = ["NAME", "add_parser", "run"]

NAME = "list"

EXAMPLES = """\
examples:
  csst-crds list --status
  csst-crds list --contexts            # cached pmaps, operational/latest, activation dates
  csst-crds list --references --cache /data/crds_cache
  csst-crds list --config --observatory jwst
"""

_WHAT = {"contexts": list_contexts, "mappings": list_mappings, "references": list_references,
         "config": list_config, "status": status}


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        NAME, help="list what the cache holds", description=__doc__,
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cache", help="cache root (default: CSST_CRDS_PATH)")
    parser.add_argument("--observatory", default="csst", help="observatory (default: csst)")
    which = parser.add_mutually_exclusive_group()
    for name in _WHAT:
        which.add_argument(f"--{name}", dest="what", action="store_const", const=name,
                           help=(_WHAT[name].__doc__ or "").splitlines()[0])
    parser.set_defaults(run=run, what="status")


def run(args: argparse.Namespace) -> int:
    """Print the requested listing."""
    layout = layout_for(args.cache, args.observatory)
    layout.require_root()  # a missing cache is not an empty one
    for line in _WHAT[args.what](layout):
        print(line)
    return 0
