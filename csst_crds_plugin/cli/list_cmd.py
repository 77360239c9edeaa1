"""``csst-crds list``: what the cache holds: contexts, mappings, references, config, status."""

from __future__ import annotations

import argparse
import json
from typing import Any

from csst_crds_plugin.cli._common import (
    add_cache_option,
    add_format_option,
    add_observatory_option,
)
from csst_crds_plugin.tools.listing import (
    layout_for,
    list_config,
    list_contexts,
    list_mappings,
    list_references,
    status,
)

__all__ = ["NAME", "add_arguments", "run"]

NAME = "list"

EXAMPLES = """\
examples:
  csst-crds list --status
  csst-crds list --contexts            # cached pmaps, operational/latest, activation dates
  csst-crds list --references --cache /data/crds_cache
  csst-crds list --config --observatory jwst
  csst-crds list --cat csst_msc_bias_0004.rmap csst_msc_bias_0007.fits
  csst-crds list --resolve-contexts --contexts csst-operational csst-2027-01-02T00:00:00
  csst-crds list --operational-context
  csst-crds list --required-parkeys --contexts csst-operational
  csst-crds list --file-properties csst_msc_flat_0007.fits
  csst-crds list --dataset-headers exposure_L0.fits
"""

_WHAT = {"contexts": list_contexts, "mappings": list_mappings, "references": list_references,
         "config": list_config, "status": status}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    add_cache_option(parser)
    add_observatory_option(parser)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--contexts", nargs="*", metavar="CTX",
                       help="without CTX: " + (list_contexts.__doc__ or "").splitlines()[0]
                       + "; with CTX: the contexts for --resolve-contexts and "
                         "--required-parkeys")
    for name in _WHAT:
        if name == "contexts":
            continue
        which.add_argument(f"--{name}", dest="what", action="store_const", const=name,
                           help=(_WHAT[name].__doc__ or "").splitlines()[0])
    add_format_option(parser, text="text lines, or a JSON list of them")
    crds = parser.add_argument_group("CRDS's options")
    crds.add_argument("--cat", nargs="+", metavar="FILE",
                      help="print mappings' text and references' headers")
    crds.add_argument("--resolve-contexts", action="store_true",
                      help="print the pmap name each of --contexts means")
    crds.add_argument("--operational-context", action="store_true",
                      help="print the operational context")
    crds.add_argument("--required-parkeys", action="store_true",
                      help="print each instrument's matching parameters under --contexts "
                           "(default: the operational context)")
    crds.add_argument("--file-properties", nargs="+", metavar="FILE",
                      help="print instrument, reference type and name of each file")
    crds.add_argument("--dataset-headers", nargs="+", metavar="FILE",
                      help="print the selection parameters of FITS or ASDF datasets")
    parser.set_defaults(what="status")


def _crds_listing(args: argparse.Namespace, layout: Any) -> list[str] | None:
    from csst_crds_plugin.cache import load_config
    from csst_crds_plugin.tools import listing_crds

    if args.cat:
        return listing_crds.cat_files(layout, args.cat)
    if args.resolve_contexts:
        return listing_crds.resolve_contexts(layout, args.contexts or [])
    if args.operational_context:
        return [load_config(layout).operational or "-"]
    if args.required_parkeys:
        return listing_crds.required_parkeys(layout, args.contexts or ["operational"])
    if args.file_properties:
        return listing_crds.file_properties(layout, args.file_properties)
    if args.dataset_headers:
        return listing_crds.dataset_headers(args.dataset_headers)
    return None


def run(args: argparse.Namespace) -> int:
    """Print the requested listing."""
    layout = layout_for(args.cache, args.observatory)
    layout.require_root()  # a missing cache is not an empty one
    lines = _crds_listing(args, layout)
    if lines is None and args.contexts is not None:
        args.what = "contexts"
    lines = _WHAT[args.what](layout) if lines is None else lines
    if args.format == "json":
        print(json.dumps(lines, indent=1))
        return 0
    for line in lines:
        print(line)
    return 0
