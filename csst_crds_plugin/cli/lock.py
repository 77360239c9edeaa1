"""``csst-crds lock``: write a context's closure with the sha256 of every file (a lock file)."""

from __future__ import annotations

import argparse
import json

from csst_crds_plugin.cli._common import (
    add_cache_option,
    add_observatory_option,
    check_output_file,
)

__all__ = ["NAME", "add_arguments", "run"]

NAME = "lock"

EXAMPLES = """\
examples:
  csst-crds lock csst-operational -o lock.json
  csst-crds lock csst_0011.pmap -o lock.json --cache /data/crds_cache
  csst-crds sync --lock lock.json --source /data/crds_mirror    # exactly these files elsewhere

The lock names the context, its imaps and rmaps and every reference they can select, each with
its sha256 and size, hashed from the cache (every file must be there). 'sync --lock' fetches
them and fails, naming the file, if any differs from the lock.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    parser.add_argument("context", help="a pmap name or spec (csst-operational, ...)")
    parser.add_argument("-o", "--output", help="the lock file (default: standard output)")
    add_cache_option(parser)
    add_observatory_option(parser)


def run(args: argparse.Namespace) -> int:
    """Write the lock."""
    from csst_crds_plugin.tools.listing import layout_for
    from csst_crds_plugin.tools.lockfile import make_lock, write_lock

    check_output_file(args.output)
    lock = make_lock(layout_for(args.cache, args.observatory), args.context)
    if not args.output or args.output == "-":
        print(json.dumps(lock, indent=1, sort_keys=True))
        return 0
    write_lock(lock, args.output)
    print(f"{args.output}: {lock['context']}, {len(lock['files'])} files")
    return 0
