"""``csst-crds newcontext``: new imaps and a pmap pointing at new rmaps; or rules for new types."""

from __future__ import annotations

import argparse
import json
from typing import Any

from csst_crds_plugin.cli._common import (
    add_cache_option,
    add_format_option,
    add_observatory_option,
)

__all__ = ["NAME", "add_arguments", "run"]

NAME = "newcontext"

EXAMPLES = """\
examples:
  csst-crds newcontext csst_0007.pmap csst_msc_bias_0012.rmap      # as CRDS newcontext
  csst-crds newcontext csst_msc_flat_0004.rmap msc_fringe_n/a --activate   # from the latest
  csst-crds newcontext --init msc:bias msc:dark msc:flat            # first context of a cache
  csst-crds newcontext --init mci:flat --description "MCI flats from now on"

Without --init: each new rmap (already in the cache's mappings) replaces the entry of its type
in a new version of its instrument's imap (<instr>_<type>_n/a sets the type N/A), and a new
pmap points at the new imaps. The new context is certified. With --latest it becomes the
latest context, with --activate also the operational one (both need it to derive from the
latest context, so that no delivery is lost).
With --init: an empty rmap per new INSTRUMENT:TYPE (parkeys from the CSST defaults) and a new
context with them; in an empty cache this is csst_0001.pmap, made operational.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    parser.add_argument("items", nargs="*", metavar="[OLD.pmap] RMAP",
                        help="the base pmap (default: the latest) and the new rmaps")
    parser.add_argument("--init", nargs="+", metavar="INSTR:TYPE",
                        help="add empty rules for these reference types instead")
    add_cache_option(parser)
    add_observatory_option(parser)
    parser.add_argument("--description", help="kept in the new pmap and the history")
    parser.add_argument("--latest", action="store_true", help="make it the latest context")
    parser.add_argument("--activate", action="store_true",
                        help="make it the latest and operational context (history too)")
    add_format_option(parser)


def run(args: argparse.Namespace) -> int:
    """Derive the context and report the files written."""
    from csst_crds_plugin.tools.delivery import DeliveryError, add_reference_types
    from csst_crds_plugin.tools.delivery.newcontext import new_context

    if args.init:
        if args.items:
            raise DeliveryError("--init takes INSTRUMENT:TYPE names only; derive a context "
                                "from rmaps in a separate call")
        added = add_reference_types(args.cache, args.init, observatory=args.observatory,
                                    activate=True if args.activate else None,
                                    description=args.description)
        report: dict[str, Any] = {"context": added.context, "derived_from": added.derived_from,
                                  "rmaps": list(added.rmaps), "skipped": list(added.skipped),
                                  "activated": added.activated}
    else:
        items = list(args.items)
        base = items.pop(0) if items and items[0].endswith(".pmap") else None
        made = new_context(args.cache, base, items, observatory=args.observatory,
                           description=args.description, publish=args.latest,
                           activate=args.activate)
        report = {"context": made.pmap, "derived_from": made.derived_from,
                  "written": list(made.written), "latest": args.latest or args.activate,
                  "activated": args.activate}
    if args.format == "json":
        print(json.dumps(report, indent=2))
        return 0
    if report["context"] is None:
        print(f"nothing to do: {', '.join(report['skipped'])} already in {report['derived_from']}")
        return 0
    for name in report.get("rmaps", report.get("written", [])):
        print(f"wrote {name}")
    for name in report.get("skipped", []):
        print(f"skipped {name}: already in {report['derived_from']}")
    state = ("latest, operational" if report["activated"]
             else "latest" if report.get("latest", True) else "not published")
    print(f"new context {report['context']} ({state}; derived from "
          f"{report['derived_from'] or 'nothing'})")
    return 0
