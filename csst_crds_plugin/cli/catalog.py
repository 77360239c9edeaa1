"""``csst-crds catalog``: build a dataset catalogue from FITS/ASDF files, or describe one."""

from __future__ import annotations

import argparse
import sys

from csst_crds_plugin.cli._common import add_progress_option, check_output_file
from csst_crds_plugin.tools.affected.catalog_io import catalog_format, read_catalog, write_catalog
from csst_crds_plugin.tools.affected.find import available_cores
from csst_crds_plugin.tools.affected.scan import KEYWORDS, build_catalog

__all__ = ["NAME", "add_arguments", "run"]

NAME = "catalog"

EXAMPLES = f"""\
examples:
  csst-crds catalog build /archive/L0 -o catalog.parquet
  csst-crds catalog build /archive/L0/2027-01 -o night.jsonl --keys BREAPHAS --jobs 4
  csst-crds catalog build incoming/ -o incoming.csv --reader mysite.headers:parameters
  csst-crds catalog info catalog.parquet

build: one row per .fits/.fits.gz/.asdf file below DIR (its id: the path relative to DIR) with
the selection keywords {", ".join(k.name for k in KEYWORDS)}
(aliases DETNAM/CHIPLAB and FILETYPE; an ISO DATE-OBS is split), plus --keys. The output format
follows the extension: .parquet (needs pyarrow), .jsonl or .csv. --reader MODULE:FUNCTION
reads each file instead (a callable path -> {{keyword: value}}).
info: the number of rows and, per column, the number of distinct values and a few examples.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="scan FITS/ASDF files into a catalogue",
                               epilog=EXAMPLES,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    build.add_argument("folder", metavar="DIR", help="folder to scan (recursively)")
    build.add_argument("-o", "--output", required=True,
                       help="catalogue file: .parquet, .jsonl or .csv")
    build.add_argument("--keys", nargs="+", default=[], metavar="KEY",
                       help="more header keywords to record")
    build.add_argument("--reader", metavar="MODULE:FUNCTION",
                       help="read each file with this function instead")
    build.add_argument("--jobs", type=int, default=available_cores(),
                       help="worker processes (default: every core, %(default)s here)")
    build.add_argument("--skip-unreadable", action="store_true",
                       help="exit 0 even when files could not be read (they are always "
                            "skipped and listed on standard error)")
    add_progress_option(build)
    info = actions.add_parser("info", help="describe a catalogue", epilog=EXAMPLES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    info.add_argument("catalog", help="a .jsonl, .csv or .parquet catalogue")
    info.add_argument("--id-column", default="id", help="the dataset id column (default: id)")


def run(args: argparse.Namespace) -> int:
    """Build or describe a catalogue."""
    if args.action == "info":
        catalog = read_catalog(args.catalog, id_column=args.id_column)
        print(f"{args.catalog}: {len(catalog):,} datasets, ids "
              f"{'given' if catalog.ids is not None else '(row numbers)'}")
        for name, column in catalog.columns.items():
            missing = int((column.codes < 0).sum())
            examples = ", ".join(repr(v) for v in column.values[:5])
            more = ", ..." if len(column.values) > 5 else ""
            print(f"  {name}: {len(column.values):,} distinct ({examples}{more}), "
                  f"{missing:,} missing")
        return 0
    catalog_format(args.output)  # an unknown extension fails before the scan
    check_output_file(args.output)
    problems: list[str] = []
    catalog = build_catalog(args.folder, extra=args.keys, reader=args.reader,
                            jobs=max(1, args.jobs), skip_unreadable=True,
                            progress=args.progress, problems=problems)
    write_catalog(catalog, args.output)
    for problem in problems:
        print(f"csst-crds catalog: skipped {problem}", file=sys.stderr)
    print(f"{args.output}: {len(catalog):,} datasets"
          + (f" ({len(problems)} unreadable files skipped)" if problems else ""))
    return 1 if problems and not args.skip_unreadable else 0
