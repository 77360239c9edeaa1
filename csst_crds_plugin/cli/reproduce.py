"""``csst-crds reproduce``: is an output's context and every reference in the cache, unchanged?"""

from __future__ import annotations

import argparse

from csst_crds_plugin.cli._common import add_cache_option, add_observatory_option
from csst_crds_plugin.results import RefSource

__all__ = ["NAME", "add_arguments", "run"]

NAME = "reproduce"

EXAMPLES = """\
examples:
  csst-crds reproduce out/exposure_L1.fits            # the cache holds exactly its references
  csst-crds reproduce out/exposure_L1.fits --rerun    # and the same run gives the same output

An output records its context (CRDS_CTX), each reference (R_<TYPE>), where it came from
(S_<TYPE>) and its sha256 (H_<TYPE>), and how it was made (RUN_STEP, RUN_IN, RUN_HASH,
RUN_PARS). Without --rerun the cache is checked: the context is there, each reference chosen by
the rules is there with the recorded sha256 and is still what the context selects, and each
override file has its recorded sha256. With --rerun the step runs again on the same input (same
sha256) with the same parameters under the same context, and the new output must equal the old
one bit for bit (data) and in its provenance keywords.

exit status: 0 reproducible; 1 a file differs or is missing (each is named), or the re-run
differs.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options."""
    parser.add_argument("output", help="a FITS or ASDF output of a pipeline step")
    parser.add_argument("--rerun", action="store_true",
                        help="also run the step again and compare the outputs")
    parser.add_argument("--keep", action="store_true",
                        help="with --rerun: keep the new output (its path is printed)")
    add_cache_option(parser)
    add_observatory_option(parser)


def run(args: argparse.Namespace) -> int:
    """Check, optionally re-run, and print the verdict."""
    import shutil

    from csst_crds_plugin.tools.listing import layout_for
    from csst_crds_plugin.tools.reproduce import check_output, read_record, rerun

    layout = layout_for(args.cache, args.observatory)
    record = read_record(args.output)
    problems = check_output(record, layout)
    for problem in problems:
        print(f"DIFFERS {problem}")
    checked = sum(1 for e in record.references.values()
                  if e.get("source") != RefSource.NOT_APPLICABLE)
    if problems:
        print(f"{args.output}: NOT reproducible from {layout.root} under {record.context}: "
              f"{len(problems)} problem(s)")
        return 1
    print(f"{args.output}: {record.context} and its {checked} reference(s) are in the cache, "
          "unchanged")
    if not args.rerun:
        return 0
    made, differences = rerun(record, layout)
    for difference in differences:
        print(f"DIFFERS {difference}")
    if args.keep:
        print(f"new output: {made}")
    else:
        shutil.rmtree(made.parent, ignore_errors=True)
    if differences:
        print(f"re-run: the new output differs from {args.output}")
        return 1
    print(f"re-run: the new output equals {args.output} (data bit for bit, provenance)")
    return 0
