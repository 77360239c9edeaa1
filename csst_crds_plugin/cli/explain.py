"""``csst-crds explain``: why a reference is (or is not) chosen for one parameter set."""

from __future__ import annotations

import argparse
import json

from csst_crds_plugin.cache.safe_read import loads_json
from csst_crds_plugin.cli._common import (
    add_cache_option,
    add_context_option,
    add_ignore_checksum_option,
    read_user_file,
)
from csst_crds_plugin.errors import CsstCrdsError, InputLimitError
from csst_crds_plugin.explain import explain
from csst_crds_plugin.provider import ReferenceProvider

__all__ = ["NAME", "add_arguments", "parse_assignments", "run"]

NAME = "explain"

EXAMPLES = """\
examples:
  csst-crds explain --type bias INSTRUME=MSC DETECTOR=06 READMODE=FAST \\
      DATE-OBS=2027-01-02 TIME-OBS=10:00:00
  csst-crds explain --cache /data/crds --context csst_0003.pmap --type flat \\
      --parameters exposure_params.json

Prints the rule path: the instrument and rmap, each Match rule with a verdict per parameter
(match, don't care, NO MATCH), the UseAfter dates around the observation, and the winner; on a
failure, the nearest rules and the parameter that failed. Exit status 1 if the lookup fails.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    parser.add_argument("assignments", nargs="*", metavar="KEY=VALUE", help="parameters")
    parser.add_argument("--type", required=True, dest="reftype", help="reference type, e.g. dark")
    parser.add_argument("--parameters", help="a JSON file holding a flat parameter object")
    add_cache_option(parser)
    add_context_option(parser)
    add_ignore_checksum_option(parser)


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``['A=1', 'B=x']`` → ``{'A': '1', 'B': 'x'}``."""
    result = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CsstCrdsError(f"parameter {item!r} is not KEY=VALUE")
        result[key] = value
    return result


def run(args: argparse.Namespace) -> int:
    """Print the explanation; exit 1 if the lookup failed."""
    parameters: dict[str, object] = {}
    if args.parameters:
        try:
            loaded = loads_json(read_user_file(args.parameters, "parameter file"),
                                args.parameters)
        except json.JSONDecodeError as exc:
            raise InputLimitError(f"{args.parameters}:{exc.lineno}: not JSON: {exc.msg}") \
                from None
        if not isinstance(loaded, dict):
            raise CsstCrdsError(f"{args.parameters}: expected a JSON object of parameters")
        parameters.update(loaded)
    parameters.update(parse_assignments(args.assignments))
    if not parameters:
        raise CsstCrdsError("no parameters: give KEY=VALUE arguments or --parameters FILE")
    provider = ReferenceProvider(cache=args.cache, context=args.context,
                                 ignore_checksum=args.ignore_checksum)
    result = explain(provider, parameters, args.reftype)
    print(result)
    return 1 if result.error else 0
