"""``csst-crds sync``: fill a cache from a mirror (a directory or static HTTP tree); repair."""

from __future__ import annotations

import argparse
import sys

from csst_crds_plugin.cli._common import add_cache_option, add_observatory_option
from csst_crds_plugin.cli._sync_options import add_options, plan_and_sync
from csst_crds_plugin.progress import Progress
from csst_crds_plugin.tools.sync import SyncReport, sync
from csst_crds_plugin.tools.verify import Verification

__all__ = ["NAME", "add_arguments", "run"]

NAME = "sync"

EXAMPLES = """\
examples:
  csst-crds sync --source /data/crds_mirror                      # the mirror's operational context
  csst-crds sync --source https://mirror.example/crds --contexts csst_0042.pmap --references
  csst-crds sync --source /data/crds_mirror --all --references --jobs 8
  csst-crds sync --source https://mirror.example/crds --files csst_msc_bias_0002.fits
  csst-crds sync --verify                                         # check the whole cache
  csst-crds sync --source /data/crds_mirror --verify --repair      # and refetch what is wrong
  csst-crds sync --range 3:7 --references --dry-run                # the recorded mirror
  csst-crds sync --contexts csst-operational --purge-mappings --purge-references
  csst-crds sync --dataset-files exposure_L0.fits                  # what these files need
  csst-crds sync --lock lock.json                                  # exactly a lock's files

Every file is checked against the mirror's manifest (or a mapping's sha1sum), written to a
temporary name and renamed, so an interrupted sync leaves no partial file and simply resumes.
Exit status 1 if any file failed or a problem remains.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    add_cache_option(parser)
    add_observatory_option(parser)
    parser.add_argument("--source", help="mirror: a directory or an http(s):// URL (default: "
                        "CSST_CRDS_MIRROR, else the mirror contexts.json records)")
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
    add_options(parser)


def _verified_summary(report: SyncReport, found: Verification) -> str:
    lines = [f"PROBLEM {problem}" for problem in found.problems]
    lines.append(f"verified {found.mappings + found.references} files: {len(found.problems)} "
                 f"problem(s) ({found.mappings} mappings, {found.references} references, and "
                 f"{found.config_files} configuration files, in {report.seconds:.1f} s)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Sync, then print the summary."""
    report, lines = plan_and_sync(args, sync, Progress(sys.stderr))
    if report is None:  # a dry run
        print("\n".join(lines))
        return 0
    if report.verified is not None:  # a verification without a mirror: what it checked
        print(_verified_summary(report, report.verified))
        return 0 if report.ok else 1
    print(report.summary())
    if lines:
        print("\n".join(lines))
    if args.verify or args.repair:
        from csst_crds_plugin.tools.listing import layout_for
        from csst_crds_plugin.tools.verify import count_verifiable

        checked = count_verifiable(layout_for(args.cache, args.observatory))
        print(f"verified {checked} files: {len(report.problems)} problem(s)")
    return 0 if report.ok else 1
