"""``csst-crds checksum``: write the cache's integrity manifest, or fix mapping sha1sums."""

from __future__ import annotations

import argparse
from typing import Any

from csst_crds_plugin.tools.checksum import rewrite_sha1sums, write_manifest
from csst_crds_plugin.tools.listing import layout_for
from csst_crds_plugin.tools.verify import verify_cache

__all__ = ["NAME", "add_parser", "run"]

NAME = "checksum"

EXAMPLES = """\
examples:
  csst-crds checksum                         # record new files in config/csst/manifest.json
  csst-crds checksum --update csst_msc_bias_0002.fits   # after an intended replacement
  csst-crds checksum --rehash --cache /data/crds_mirror  # a mirror's manifest, from scratch
  csst-crds checksum --verify
  csst-crds checksum csst_msc_bias_0003.rmap  # rewrite a mapping's sha1sum after an edit
"""


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        NAME, help="write the integrity manifest or mapping sha1sums", description=__doc__,
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("mappings", nargs="*", help="mapping files whose sha1sum to rewrite")
    parser.add_argument("--cache", help="cache root (default: CSST_CRDS_PATH)")
    parser.add_argument("--observatory", default="csst", help="observatory (default: csst)")
    parser.add_argument("--update", nargs="+", metavar="NAME", default=[],
                        help="re-hash these recorded files")
    parser.add_argument("--rehash", action="store_true", help="re-hash every file")
    parser.add_argument("--verify", action="store_true", help="only verify; write nothing")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Rewrite, verify or record."""
    if args.mappings:
        for path in rewrite_sha1sums(args.mappings):
            print(f"updated sha1sum: {path}")
        return 0
    if args.verify:
        problems = verify_cache(layout_for(args.cache, args.observatory))
        for problem in problems:
            print(f"PROBLEM {problem}")
        print(f"{len(problems)} problem(s)")
        return 1 if problems else 0
    result = write_manifest(args.cache, args.observatory, names=args.update, rehash=args.rehash)
    print(f"manifest: {len(result.added)} added, {len(result.updated)} updated, "
          f"{result.unchanged} unchanged")
    return 0
