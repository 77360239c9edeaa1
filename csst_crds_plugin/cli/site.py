"""``csst-crds site``: the console's browse pages as static HTML (no JavaScript), links
relative, to publish beside a static mirror or open from disk. Safe to run again on the same
folder: pages are replaced atomically and pages of files no longer cached are removed.
Needs the optional extra `web` (pip install 'csst-crds-plugin[web]').
"""

from __future__ import annotations

import argparse

from csst_crds_plugin.cli._common import (
    add_cache_option,
    add_observatory_option,
    check_output_folder,
)

__all__ = ["NAME", "add_arguments", "run"]

NAME = "site"

EXAMPLES = """\
examples:
  csst-crds site --cache /data/crds_cache --out /srv/www/crds
  csst-crds site --out site/ --date 2027-01-05 --no-certify   # coverage at a date; faster
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    add_cache_option(parser)
    parser.add_argument("--out", required=True, help="the folder to write")
    add_observatory_option(parser)
    parser.add_argument("--date", help="the coverage page's date (default: now)")
    parser.add_argument("--no-certify", action="store_true",
                        help="leave certify results out of the reference pages")


def run(args: argparse.Namespace) -> int:
    """Write the site and say where."""
    from csst_crds_plugin.cli.serve import require_web
    from csst_crds_plugin.settings import get_settings

    require_web()
    check_output_folder(args.out, "--out")
    from csst_crds_plugin.web.site import write_site

    cache = args.cache or get_settings().cache_root
    pages = write_site(cache, args.out, observatory=args.observatory, date=args.date,
                       certify=not args.no_certify)
    print(f"{len(pages)} pages written to {args.out} (open {args.out}/index.html)")
    return 0
