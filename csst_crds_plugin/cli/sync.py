"""``csst-crds sync``: fill a cache from a mirror (a directory or static HTTP tree); repair."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from csst_crds_plugin.tools.sync import Progress, SyncReport, sync
from csst_crds_plugin.tools.verify import Verification

__all__ = ["NAME", "add_parser", "run"]

NAME = "sync"

EXAMPLES = """\
examples:
  csst-crds sync --source /data/crds_mirror                      # the mirror's operational context
  csst-crds sync --source https://mirror.example/crds --contexts csst_0042.pmap --references
  csst-crds sync --source /data/crds_mirror --all --references --jobs 8
  csst-crds sync --source https://mirror.example/crds --files csst_msc_bias_0002.fits
  csst-crds sync --verify                                         # check the whole cache
  csst-crds sync --source /data/crds_mirror --verify --repair      # and refetch what is wrong

Every file is checked against the mirror's manifest (or a mapping's sha1sum), written to a
temporary name and renamed, so an interrupted sync leaves no partial file and simply resumes.
Exit status 1 if any file failed or a problem remains.
"""


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        NAME, help="fill, verify and repair the cache from a mirror", description=__doc__,
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cache", help="cache root (default: CSST_CRDS_PATH)")
    parser.add_argument("--observatory", default="csst", help="observatory (default: csst)")
    parser.add_argument("--source", help="mirror: a directory or an http(s):// URL")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--contexts", nargs="+", metavar="CTX",
                       help="contexts to copy: pmap names, csst-operational, csst-latest, "
                            "csst-YYYY-MM-DDTHH:MM:SS (default: the mirror's operational one)")
    which.add_argument("--all", action="store_true", help="every context the mirror knows")
    parser.add_argument("--references", action="store_true",
                        help="also every reference the contexts can select")
    parser.add_argument("--files", nargs="+", metavar="NAME", default=[],
                        help="reference files to fetch by name")
    parser.add_argument("--verify", action="store_true",
                        help="check every file of the cache (sha1sum, manifest sha256 and size)")
    parser.add_argument("--repair", action="store_true",
                        help="with --verify: refetch files that fail")
    parser.add_argument("--jobs", type=int, default=4, help="parallel transfers (default 4)")
    parser.set_defaults(run=run)


def _verified_summary(report: SyncReport, found: Verification) -> str:
    lines = [f"PROBLEM {problem}" for problem in found.problems]
    lines.append(f"checked {found.checked} files ({found.mappings} mappings, {found.references} "
                 f"references, {found.config_files} configuration files) in "
                 f"{report.seconds:.1f} s: "
                 + (f"{len(found.problems)} problem(s)" if found.problems else "no problem"))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Sync, then print the summary."""
    report = sync(args.cache, args.source, observatory=args.observatory,
                  contexts=args.contexts or (), all_contexts=args.all,
                  references=args.references, files=args.files,
                  verify=args.verify or args.repair, repair=args.repair, jobs=args.jobs,
                  progress=Progress(sys.stderr))
    print(report.summary() if report.verified is None
          else _verified_summary(report, report.verified))
    return 0 if report.ok else 1
