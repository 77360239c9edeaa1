"""``csst-crds checksum``: add, fix or verify mapping sha1sums; write or verify the manifest.

With FILES: a mapping gets a correct ``sha1sum`` (added if missing), a reference is re-recorded
in the cache's manifest; with ``--verify`` the files are only checked. Without FILES: new cache
files are recorded in ``config/<obs>/manifest.json``, or with ``--verify`` the whole cache is
checked. Exit status 1 when a verification finds a problem.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from csst_crds_plugin.cli._common import (
    add_cache_option,
    add_format_option,
    add_observatory_option,
)
from csst_crds_plugin.rules.ir import MAPPING_EXTENSIONS
from csst_crds_plugin.tools.file_checksums import (
    rewrite_sha1sums,
    verify_files,
    write_manifest,
)
from csst_crds_plugin.tools.listing import layout_for
from csst_crds_plugin.tools.verify import verify_cache

__all__ = ["NAME", "add_arguments", "run"]

NAME = "checksum"

EXAMPLES = """\
examples:
  csst-crds checksum                         # record new files in config/csst/manifest.json
  csst-crds checksum csst_msc_bias_0003.rmap  # add or fix a mapping's sha1sum after an edit
  csst-crds checksum --verify csst_msc_bias_0003.rmap csst_msc_bias_0002.fits
  csst-crds checksum --verify --format json  # the whole cache, as a JSON report
  csst-crds checksum --update csst_msc_bias_0002.fits   # after an intended replacement
  csst-crds checksum --rehash --cache /data/crds_mirror  # a mirror's manifest, from scratch
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="mappings (sha1sum) or references (manifest): paths or cache names")
    add_cache_option(parser)
    add_observatory_option(parser)
    parser.add_argument("--update", nargs="+", metavar="NAME", default=[],
                        help="re-hash these recorded files in the manifest")
    parser.add_argument("--rehash", action="store_true", help="re-hash every file")
    parser.add_argument("--verify", action="store_true", help="only verify; write nothing")
    add_format_option(parser)


def _emit(args: argparse.Namespace, data: dict[str, Any], lines: list[str]) -> None:
    if args.format == "json":
        print(json.dumps(data, indent=2))
    else:
        for line in lines:
            print(line)


def run(args: argparse.Namespace) -> int:
    """Rewrite, verify or record."""
    if args.verify:
        if args.files:
            checks = verify_files(args.files, cache=args.cache, observatory=args.observatory)
            bad = [c for c in checks if not c.ok]
            _emit(args, {"ok": not bad, "files": [c.to_dict() for c in checks]},
                  [str(c) for c in checks] + [f"{len(bad)} problem(s)"])
            return 1 if bad else 0
        problems = verify_cache(layout_for(args.cache, args.observatory))
        _emit(args, {"ok": not problems, "problems": [
                  {"name": p.name, "path": p.path, "problem": p.problem} for p in problems]},
              [f"PROBLEM {p}" for p in problems] + [f"{len(problems)} problem(s)"])
        return 1 if problems else 0
    mappings = [f for f in args.files if str(f).endswith(MAPPING_EXTENSIONS)]
    references = [str(f).replace("\\", "/").rsplit("/", 1)[-1] for f in args.files
                  if f not in mappings]
    changed = rewrite_sha1sums(mappings, cache=args.cache, observatory=args.observatory) \
        if mappings else []
    if mappings and not references and not args.update and not args.rehash:
        _emit(args, {"sha1sum_updated": changed,
                     "unchanged": [m for m in mappings if m not in changed]},
              [f"updated sha1sum: {path}" for path in changed]
              + [f"sha1sum already correct: {m}" for m in mappings if m not in changed])
        return 0
    result = write_manifest(args.cache, args.observatory, names=[*args.update, *references],
                            rehash=args.rehash)
    _emit(args, {"sha1sum_updated": changed, "manifest": result.to_dict()},
          [f"updated sha1sum: {path}" for path in changed]
          + [f"manifest: {len(result.added)} added, {len(result.updated)} updated, "
             f"{result.unchanged} unchanged"])
    return 0
