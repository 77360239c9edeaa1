"""CRDS's ``sync`` options for ``csst-crds sync`` (the transfer itself is tools/sync.py)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_options", "plan_and_sync"]


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add the CRDS-named options to the sync parser."""
    crds = parser.add_argument_group("CRDS's options")
    crds.add_argument("--range", metavar="N:M",
                      help="the contexts <obs>_NNNN.pmap numbered N to M on the mirror")
    crds.add_argument("--dataset-files", nargs="+", metavar="FILE", default=[],
                      help="also the references these FITS/ASDF datasets select")
    crds.add_argument("--purge-mappings", action="store_true",
                      help="then remove cached mappings no kept context names (kept: the "
                           "synced contexts and the operational one)")
    crds.add_argument("--purge-references", action="store_true",
                      help="then remove cached references no kept context names")
    crds.add_argument("--dry-run", action="store_true",
                      help="say what would be fetched and purged; write nothing")
    crds.add_argument("--lock", metavar="LOCK.json",
                      help="fetch exactly the files of a lock (csst-crds lock) and check "
                           "their sha256")


def _only_verifying(args: argparse.Namespace) -> bool:
    return args.verify and not args.repair and not (
        args.contexts or args.all or args.references or args.files or args.range
        or args.dataset_files or args.lock)


def plan_and_sync(args: argparse.Namespace, sync: Any, progress: Any) -> tuple[Any, list[str]]:
    """Run the sync the options ask for; return (the SyncReport or None, lines to print)."""
    from csst_crds_plugin.tools.listing import layout_for
    from csst_crds_plugin.tools.sync_plan import (
        context_range,
        dataset_references,
        default_source,
        purge,
    )

    layout = layout_for(args.cache, args.observatory)
    source = args.source if _only_verifying(args) else default_source(layout, args.source)
    contexts = list(args.contexts or ())
    if args.lock:
        from csst_crds_plugin.tools.lockfile import sync_lock

        report = sync_lock(layout, source, args.lock, jobs=args.jobs, dry_run=args.dry_run)
        if args.dry_run:
            return None, [f"would fetch {n}: {why}" for n, why in report.failed.items()] + [
                f"would fetch {len(report.failed)} file(s) of {args.lock}"]
        return report, []
    if args.range:
        from csst_crds_plugin.tools.mirrors import open_mirror

        if source is None:
            raise _no_source()
        mirror = open_mirror(source)
        listed = mirror.list_names(f"mappings/{layout.observatory}") or []
        contexts += context_range(listed, layout.observatory, args.range)
    if args.dry_run:
        return None, _dry_run(args, layout, source, contexts)
    files = list(args.files)
    common = {"observatory": args.observatory, "all_contexts": args.all, "jobs": args.jobs,
              "progress": progress}
    if args.dataset_files:
        first = sync(args.cache, source, contexts=contexts, **common)
        contexts = first.contexts
        files += sorted(dataset_references(layout, contexts, args.dataset_files))
    report = sync(args.cache, source, contexts=contexts, references=args.references,
                  files=files, verify=args.verify or args.repair, repair=args.repair, **common)
    lines = []
    if args.purge_mappings or args.purge_references:
        purged = purge(layout, report.contexts, mappings=args.purge_mappings,
                       references=args.purge_references)
        lines += [f"purged {n}" for n in (*purged.mappings, *purged.references)]
        lines.append(f"purged {len(purged.mappings)} mapping(s), "
                     f"{len(purged.references)} reference(s)")
    return report, lines


def _no_source() -> Exception:
    from csst_crds_plugin.errors import ConfigurationError

    return ConfigurationError("no mirror: give --source DIR|URL, set CSST_CRDS_MIRROR, or "
                              "sync once with --source (contexts.json records it)")


def _dry_run(args: argparse.Namespace, layout: Any, source: str | None,
             contexts: list[str]) -> list[str]:
    from csst_crds_plugin.progress import Progress
    from csst_crds_plugin.settings import get_settings
    from csst_crds_plugin.tools.sync import Syncer
    from csst_crds_plugin.tools.sync_plan import purge

    lines = []
    kept = contexts
    if source is not None:
        syncer = Syncer(layout, source, args.jobs, not get_settings().ignore_checksum,
                         Progress())
        kept = syncer.contexts(contexts, args.all)
        wanted = syncer.closure(kept)
        chosen = sorted({*(wanted if args.references else ()), *args.files})
        fetch = [*sorted(syncer.new_mappings),
                 *[n for n in chosen if layout.find_reference(n, wanted.get(n)) is None]]
        lines += [f"would fetch {n}" for n in fetch]
        lines.append(f"would fetch {len(fetch)} file(s) for {', '.join(kept) or '-'} from "
                     f"{syncer.mirror.label}")
    elif not (args.purge_mappings or args.purge_references):
        raise _no_source()
    if args.purge_mappings or args.purge_references:
        purged = purge(layout, kept, mappings=args.purge_mappings,
                       references=args.purge_references, dry_run=True)
        lines += [f"would purge {n}" for n in (*purged.mappings, *purged.references)]
        lines.append(f"would purge {len(purged.mappings)} mapping(s), "
                     f"{len(purged.references)} reference(s)")
    return lines
