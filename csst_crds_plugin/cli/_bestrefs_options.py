"""CRDS's bestrefs options for ``csst-crds bestrefs``: tables, differences only, header updates."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

__all__ = ["add_options", "emit"]


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add the CRDS-named options to the bestrefs parser."""
    crds = parser.add_argument_group("CRDS's options")
    crds.add_argument("--update-bestrefs", action="store_true",
                      help="with --files: write CRDS_CTX and R_<TYPE> into each file (the new "
                           "context's choices when comparing)")
    crds.add_argument("--diffs-only", action="store_true",
                      help="when comparing: only the datasets whose references change")
    crds.add_argument("--print-affected", action="store_true",
                      help="when comparing: print only the ids of the affected datasets")


def _cell(value: object) -> str:
    if isinstance(value, dict) and "error" in value:
        return f"error:{value['error']}"
    if value is None:
        return "(omitted)"
    return value if isinstance(value, str) else json.dumps(value)


def _rows(lines: Iterable[dict[str, Any]]) -> Iterator[list[str]]:
    for line in lines:
        if "error" in line:  # an unreadable input
            yield [str(line["id"]), "*", _cell(line["error"])]
        elif "changes" in line:
            for reftype, change in line["changes"].items():
                yield [str(line["id"]), reftype, _cell(change["old"]), _cell(change["new"])]
        else:
            for reftype, value in line["results"].items():
                yield [str(line["id"]), reftype, _cell(value)]


def emit(args: argparse.Namespace, lines: Iterable[dict[str, Any]], stream: TextIO) -> None:
    """Write the result lines as the options ask (after updating headers if asked)."""
    comparing = args.old_context is not None
    if (args.diffs_only or args.print_affected) and not comparing:
        from csst_crds_plugin.errors import CsstCrdsError

        raise CsstCrdsError("--diffs-only and --print-affected need --old-context and "
                            "--new-context")
    if args.update_bestrefs:
        lines = _updating(args, lines)
    if comparing and (args.diffs_only or args.print_affected):
        lines = (line for line in lines if line.get("changes", True))
    if args.print_affected:
        for line in lines:
            stream.write(f"{line['id']}\n")
        return
    if args.format != "table":
        for line in lines:
            stream.write(json.dumps(line) + "\n")
        return
    from csst_crds_plugin.cli._tables import print_table

    head = ["id", "reftype", "old", "new"] if comparing else ["id", "reftype", "value"]
    print_table(head, _rows(lines), stream)


def _updating(args: argparse.Namespace, lines: Iterable[dict[str, Any]]) -> Iterator[Any]:
    from csst_crds_plugin.errors import CsstCrdsError
    from csst_crds_plugin.provider import ReferenceProvider
    from csst_crds_plugin.tools.update_bestrefs import update_file

    if not args.files:
        raise CsstCrdsError("--update-bestrefs writes into dataset files: give --files")
    context = ReferenceProvider(cache=args.cache, context=args.new_context or args.context,
                                ignore_checksum=args.ignore_checksum).context
    for line in lines:
        if "error" in line:  # an unreadable input: nothing to write into
            yield line
            continue
        if "changes" in line:
            results = {t: c["new"] for t, c in line["changes"].items()}
        else:
            results = line["results"]
        update_file(str(line["id"]), context, results)
        yield line
