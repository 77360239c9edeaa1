"""``csst-crds affected``: which catalogued datasets select other references under a new context."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from csst_crds_plugin.cli._common import (
    add_cache_option,
    add_format_option,
    add_ignore_checksum_option,
    add_progress_option,
    check_output_file,
)
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.progress import Progress
from csst_crds_plugin.tools.affected.catalog_io import catalog_format, read_catalog
from csst_crds_plugin.tools.affected.change_reasons import explain_change
from csst_crds_plugin.tools.affected.find import (
    DEFAULT_PART_ROWS,
    available_cores,
    find_affected,
)
from csst_crds_plugin.tools.affected.report import REPORT_FORMATS, summary_table, write_report

__all__ = ["NAME", "add_arguments", "run", "terminate_as_interrupt"]

NAME = "affected"
_SHOWN = 20  # failed inputs printed on standard error (the report lists them all)

EXAMPLES = """\
examples:
  csst-crds affected csst_0041.pmap csst_0042.pmap --catalog archive.parquet -o affected.json
  csst-crds affected csst-operational csst-latest --catalog night.jsonl   # the summary only
  csst-crds affected csst-operational csst-latest --catalog night.jsonl --format table -o -
  csst-crds affected csst_0041.pmap csst_0042.pmap --catalog archive.parquet \\
      --dask tcp://scheduler:8786 --format csv -o affected.csv
  csst-crds affected csst_0041.pmap csst_0042.pmap --catalog night.jsonl --explain ds000123

Only instruments and reference types whose mappings differ between the contexts are looked up.
A type is affected when its file, N/A, omission or error category changes (docs/affected.md).
The report is written to a temporary file and renamed when complete: an interrupted run leaves
no partial report. Progress goes to standard error.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    parser.add_argument("old", help="the old context (pmap name or spec)")
    parser.add_argument("new", help="the new context (pmap name or spec)")
    parser.add_argument("--catalog", required=True,
                        help="the datasets: a .jsonl, .csv or .parquet catalogue")
    parser.add_argument("--catalog-format", choices=("jsonl", "csv", "parquet"),
                        help="catalogue format (default: from the extension)")
    parser.add_argument("--id-column", default="id", help="the dataset id column (default: id)")
    parser.add_argument("-o", "--output",
                        help="report file, '-' for standard output (default: none; only the "
                             "summary is printed)")
    add_format_option(parser, REPORT_FORMATS, default="json", what="report")
    parser.add_argument("--jobs", type=int, default=available_cores(),
                        help="worker processes (default: every core, %(default)s here)")
    parser.add_argument("--dask", metavar="ADDRESS",
                        help="run on Dask: a scheduler address, or 'local' for a local cluster "
                             "of --jobs workers")
    parser.add_argument("--part-rows", type=int, default=DEFAULT_PART_ROWS,
                        help="rows per part (default: %(default)s)")
    parser.add_argument("--explain", metavar="ID",
                        help="explain, for this one dataset, which change moved its selection")
    parser.add_argument("--type", dest="reftypes", action="append", metavar="T",
                        help="with --explain: only this reference type (repeatable)")
    add_cache_option(parser)
    add_ignore_checksum_option(parser)
    add_progress_option(parser)


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt for the block, so clean-up runs as for Ctrl-C."""
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _explain(args: argparse.Namespace) -> int:
    from csst_crds_plugin.provider import ReferenceProvider

    catalog = read_catalog(args.catalog, args.catalog_format, args.id_column)
    parameters = catalog.row(catalog.find(args.explain))
    old = ReferenceProvider(cache=args.cache, context=args.old,
                            ignore_checksum=args.ignore_checksum)
    new = ReferenceProvider(cache=old.cache_root, context=args.new,
                            observatory=old.observatory, ignore_checksum=args.ignore_checksum)
    result = explain_change(old, new, parameters, args.reftypes)
    if args.format == "json":
        print(json.dumps({
            "id": args.explain, "old_context": result.old, "new_context": result.new,
            "parameters": result.parameters,
            "changes": [{"reftype": c.reftype, "old": c.old, "new": c.new, "where": c.where,
                         "rule_changes": [r.to_dict() for r in c.rule_changes]}
                        for c in result.changes]}, indent=1))
    else:
        print(f"dataset {args.explain}: " + result.render(verbose=args.verbose > 0))
    return 0


def run(args: argparse.Namespace) -> int:
    """Write the report (or an explanation); exit 130 if interrupted."""
    if args.jobs < 1 or args.part_rows < 1:
        raise CsstCrdsError("--jobs and --part-rows must be at least 1")
    catalog_format(args.catalog, args.catalog_format)  # fail early on an unknown extension
    check_output_file(args.output)
    if args.explain is not None:
        return _explain(args)
    display = Progress(enabled=args.progress)
    try:
        with terminate_as_interrupt():
            report = find_affected(
                args.catalog, args.old, args.new, cache=args.cache,
                ignore_checksum=args.ignore_checksum, jobs=args.jobs, dask=args.dask,
                rows_per_part=args.part_rows, progress=display, id_column=args.id_column,
                catalog_format_name=args.catalog_format)
            if args.output:
                writing = display.phase(f"affected: write {args.output}", report.affected,
                                        "datasets")
                write_report(report, args.output, args.format, progress=writing)
            display.close()
    except KeyboardInterrupt:
        display.close()
        print(f"csst-crds {NAME}: interrupted; no report written", file=sys.stderr)
        return 130
    if args.output != "-":
        sys.stdout.write(summary_table(report))
    if args.output and args.output != "-":
        print(f"report: {args.output}")
    failures = report.failures
    for line in failures[:_SHOWN]:
        print(f"csst-crds {NAME}: skipped {line}", file=sys.stderr)
    if failures:
        more = f" ({len(failures) - _SHOWN} more not shown)" if len(failures) > _SHOWN else ""
        print(f"csst-crds {NAME}: {len(failures)} input(s) could not be compared{more}; the "
              "report lists them (unreadable_lines, unusable_datasets)", file=sys.stderr)
    return 1 if failures else 0
