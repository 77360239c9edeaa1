"""``csst-crds coverage``: the reference every chip would get at a date, since when, how old.

For every instrument of the context, every detector (the observatory's description lists them,
e.g. the 30 MSC chips, plus any detector the rules name) and every reference type of the
instrument: the file a science exposure at the date would get, the UseAfter date of the rule
that chose it and its age. Exit status 0 when every lookup finds a file (or N/A) no older than
allowed, 3 when something is missing or stale (so a scheduler can alert), 1 on an error.
"""

from __future__ import annotations

import argparse
import json
import sys

from csst_crds_plugin.cli._common import add_cache_option, add_context_option, add_format_option
from csst_crds_plugin.errors import ConfigurationError

__all__ = ["NAME", "add_arguments", "run"]

NAME = "coverage"

EXAMPLES = """\
examples:
  csst-crds coverage                                     # operational context, now
  csst-crds coverage --context csst-latest --date 2027-01-05
  csst-crds coverage --max-age bias=1 --max-age dark=7 --max-age flat=30
  csst-crds coverage --instrument MSC --detector 06 --detector 08 --format json
  csst-crds coverage --param READMODE=FAST      # an exposure keyword added to each lookup
"""

PROBLEM_STATUS = 3


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    found = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigurationError(f"{what} {item!r} is not KEY=VALUE (e.g. {what} bias=1)")
        found[key.strip()] = value.strip()
    return found


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    add_cache_option(parser)
    add_context_option(parser)
    parser.add_argument("--date", help="the exposure date, YYYY-MM-DD[THH:MM:SS] (default: now)")
    parser.add_argument("--max-age", action="append", metavar="TYPE=DAYS",
                        help="oldest allowed age of a type's reference, in days (repeatable)")
    parser.add_argument("--instrument", action="append", help="only this instrument (repeatable)")
    parser.add_argument("--detector", action="append", help="only this detector (repeatable)")
    parser.add_argument("--param", action="append", metavar="KEY=VALUE",
                        help="an exposure keyword added to every lookup (repeatable)")
    parser.add_argument("--problems", action="store_true", help="print only missing and stale")
    add_format_option(parser)


def run(args: argparse.Namespace) -> int:
    """Print the coverage table; 3 when something is missing or stale."""
    from csst_crds_plugin.tools.coverage import coverage

    limits = {}
    for reftype, days in _pairs(args.max_age, "--max-age").items():
        try:
            limits[reftype] = float(days)
        except ValueError:
            raise ConfigurationError(f"--max-age {reftype}={days}: DAYS must be a number") \
                from None
    report = coverage(args.cache, context=args.context, date=args.date, max_age=limits,
                      instruments=args.instrument, detectors=args.detector,
                      parameters=_pairs(args.param, "--param"))
    if args.problems:
        report.rows = report.problems
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print("\n".join(report.lines()))
    if not report.ok:
        print(f"csst-crds coverage: {len(report.problems)} lookup(s) missing or stale",
              file=sys.stderr)
        return PROBLEM_STATUS
    return 0
