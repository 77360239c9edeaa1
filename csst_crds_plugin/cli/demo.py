"""``csst-crds demo``: the whole idea in one run, from the installed CSST pipeline package."""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from typing import Any

from csst_crds_plugin.cli._common import check_output_folder
from csst_crds_plugin.errors import ConfigurationError

__all__ = ["NAME", "add_arguments", "run"]

NAME = "demo"
GROUP = "csst_crds_plugin.demo"

DESCRIPTION = ("Build a demo cache through deliveries, simulate a level-0 exposure and run the "
               "csst_level1 pipeline on it, showing each reference and why.")

EXAMPLES = """\
examples:
  csst-crds demo                     # into ./csst-crds-demo (replaced if the demo made it)
  csst-crds demo --dir /tmp/try-it   # anywhere else
  csst-crds -v demo                  # with the pipeline's own log (strun --log-level INFO)

It builds a cache through deliveries (the MSC chips 06, 08, 13, 14, 01 and 03; bias, dark and
flat for three days with their R_BIAS/R_DARK dependencies; gain, readnoise, mask and saturation
once; a TOML crosstalk and a YAML IFS arc), simulates a level-0 exposure of chip 06, runs
`strun csst_level1` on it, and prints the context, each step's reference and the rule that
chose it, and the output's provenance keywords. Deterministic; well under a minute.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    parser.add_argument("--dir", default="csst-crds-demo",
                        help="folder for the cache, the exposure and the output "
                             "(default: ./csst-crds-demo)")


def _demo() -> Any:
    found = importlib.metadata.entry_points(group=GROUP, name="csst")
    if not found:
        raise ConfigurationError(
            f"no demo is installed (entry point group {GROUP!r}); install csst-crds-plugin with "
            "its steps package, e.g. `pip install -e .` in the checkout")
    return next(iter(found)).load()


def run(args: argparse.Namespace) -> int:
    """Run the demo."""
    check_output_folder(args.dir, "--dir")
    _demo()(args.dir, sys.stdout, "INFO" if args.verbose else "WARNING")
    return 0
