"""``csst-crds deliver``: certify references, name them, insert them and publish a new context."""

from __future__ import annotations

import argparse
import json

from csst_crds_plugin.cli._common import (
    add_cache_option,
    add_format_option,
    add_observatory_option,
)

__all__ = ["NAME", "add_arguments", "run"]

NAME = "deliver"

EXAMPLES = """\
examples:
  csst-crds deliver bias_06_20270101.fits --description "daily superbias, chip 06"
  csst-crds deliver dark_06.fits dark_08.fits --activate      # and make the context operational
  csst-crds deliver --cache /data/crds_cache flat_*.fits --format json
  csst-crds deliver bias.fits dark.fits flat.fits   # dark: R_BIAS='bias.fits'; flat: both

A delivery is one transaction: certify, unique names (csst_<instr>_<type>_NNNN.<ext>), copy
into references/, insert into the rmaps of the latest context, new imaps and pmap, certify of
the new context, manifest, then `latest` (and with --activate `operational` and the history).
Deliveries may run in parallel; each lands whole or not at all. A dark must name its bias in
R_BIAS, a flat its bias and dark in R_BIAS and R_DARK: by their names in the cache, or by the
file name of another file of the same delivery. The delivery then orders the files by their
dependencies and writes the assigned cache names into those keywords. A cycle, a name neither
cached nor delivered, or a dependency of another chip (DETECTOR) refuses the whole delivery.
Exit status 1 if the delivery was refused (nothing is published then).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    parser.add_argument("files", nargs="+", metavar="FILE", help="reference files to deliver")
    add_cache_option(parser)
    add_observatory_option(parser)
    parser.add_argument("--description", help="what the delivery is (kept in the new pmap)")
    parser.add_argument("--activate", action="store_true",
                        help="make the new context operational and add it to the history")
    parser.add_argument("--allow-pickle", action="store_true",
                        help="let certify pass pickles (they are never unpickled)")
    parser.add_argument("--lock-timeout", type=float, default=600.0, metavar="SECONDS",
                        help="give up waiting for another delivery after this long (600)")
    add_format_option(parser)


def run(args: argparse.Namespace) -> int:
    """Deliver and report the names and the new context."""
    from csst_crds_plugin.tools.delivery import deliver

    result = deliver(args.cache, args.files, description=args.description,
                     activate=args.activate, observatory=args.observatory,
                     allow_pickle=args.allow_pickle, lock_timeout=args.lock_timeout)
    from csst_crds_plugin.tools.audit import audit_delivery

    audit_delivery(args.cache, result, args.observatory, args.description or "")
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    for path, name in result.names.items():
        note = f" (replaces {result.replaced[name]})" if name in result.replaced else ""
        print(f"{name}  <-  {path}{note}")
    state = "latest, operational" if result.activated else "latest"
    print(f"new context {result.context} ({state}; derived from {result.derived_from})")
    for warning in result.warnings:
        print(f"warning: {warning}")
    return 0
