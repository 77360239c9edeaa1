"""``csst-crds certify``: check references and rules before delivery; exit 1 on any error."""

from __future__ import annotations

import argparse
import json
import sys

from csst_crds_plugin.cli._common import (
    add_cache_option,
    add_context_option,
    add_format_option,
    add_observatory_option,
)
from csst_crds_plugin.tools.certify import certify_context, certify_files

__all__ = ["NAME", "add_arguments", "run"]

NAME = "certify"

EXAMPLES = """\
examples:
  csst-crds certify csst_msc_bias_0004.fits csst_msc_dark_0007.asdf
  csst-crds certify csst_msc_flat_0003.rmap --cache /data/crds_cache   # names must exist there
  csst-crds certify new_flat.fits --context csst_0042.pmap --cache /data/crds_cache
  csst-crds certify --context csst_0042.pmap --cache /data/crds_cache  # a whole context
  csst-crds certify model.pth --allow-pickle          # checked by name and size, never loaded
  csst-crds certify *.fits --format json > report.json
  csst-crds certify new_flat.fits --comparison-context csst-operational

exit status: 0 when no file has an error (warnings alone pass), 1 otherwise.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    parser.add_argument("files", nargs="*", help="reference files and .pmap/.imap/.rmap files")
    add_cache_option(parser, "whose references and rules to check against")
    add_context_option(parser, text="pmap whose rmaps receive the references; alone "
                        "(no FILES), certify that context and every mapping it names")
    add_observatory_option(parser)
    parser.add_argument("--allow-pickle", action="store_true",
                        help="accept .pkl/.pickle/.pth files (never unpickled)")
    parser.add_argument("--no-check-references", action="store_true",
                        help="do not report rule references missing from the cache")
    add_format_option(parser, what="report")
    parser.add_argument("--comparison-context", metavar="CTX",
                        help="also say what each reference changes against this context's "
                             "rules: the file it replaces and how they differ (keywords, "
                             "arrays, table rows), or the rule it adds")


def run(args: argparse.Namespace) -> int:
    """Certify and print the report."""
    if not args.files and not args.context:
        print("csst-crds certify: error: give FILES, or --context to certify a whole context",
              file=sys.stderr)
        return 2
    if args.files:
        report = certify_files(
            args.files, cache=args.cache, observatory=args.observatory, context=args.context,
            allow_pickle=args.allow_pickle,
            check_references_present=not args.no_check_references,
        )
    else:
        from csst_crds_plugin.tools.listing import layout_for

        root = layout_for(args.cache, args.observatory).root
        report = certify_context(root, args.context, observatory=args.observatory)
    comparisons = []
    if args.comparison_context and args.files:
        from csst_crds_plugin.tools.certify.comparison import compare_with_context
        from csst_crds_plugin.tools.listing import layout_for

        comparisons = compare_with_context(args.files, layout_for(args.cache, args.observatory),
                                           args.comparison_context)
    if args.format == "json":
        data = report.to_dict()
        if args.comparison_context:
            data["comparison"] = [c.to_dict() for c in comparisons]
        print(json.dumps(data, indent=2))
    else:
        for comparison in comparisons:
            print("\n".join(comparison.lines()))
        for file_report in report.files:
            status = "OK" if file_report.ok else "FAILED"
            print(f"{status} {file_report.path}")
            for message in file_report.errors:
                print(f"  ERROR {message}")
            for message in file_report.warnings:
                print(f"  WARNING {message}")
        print(f"{len(report.files)} file(s): {len(report.errors)} error(s), "
              f"{len(report.warnings)} warning(s)")
    return 0 if report.ok else 1
