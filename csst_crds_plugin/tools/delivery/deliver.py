"""``csst-crds deliver``: a whole submission as one transaction in a cache.

certify → copy into ``references/`` under temporary names (hashing on the way) → take the rules
lock → unique names → insert into the rmaps of the latest context → new imaps and pmap →
certify the new context → manifest → ``latest`` (and with `activate`, operational and history).
The per-file work (reading, certify, hashing, copying) happens before the lock; under it only
small rule files are read and written. Every step under the lock is announced in the intent
journal first (:mod:`csst_crds_plugin.tools.delivery.journal`): if anything fails, or the process
is killed, every file the delivery added is removed again (at once, or by the next writer) and
the cache's configuration is untouched: a delivery lands whole or not at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csst_crds_plugin.cache.layout import CacheLayout, no_space
from csst_crds_plugin.cache.manifest import Digest, read_manifest
from csst_crds_plugin.errors import CacheError
from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY
from csst_crds_plugin.rules import DictNode
from csst_crds_plugin.settings import get_settings
from csst_crds_plugin.tools.certify import certify_files
from csst_crds_plugin.tools.delivery.chains import order_submissions, rewrite_dependencies
from csst_crds_plugin.tools.delivery.errors import DeliveryError
from csst_crds_plugin.tools.delivery.insert import RmapInserter
from csst_crds_plugin.tools.delivery.journal import transaction
from csst_crds_plugin.tools.delivery.lock import rules_lock
from csst_crds_plugin.tools.delivery.mappings import read_cached, write_mapping
from csst_crds_plugin.tools.delivery.newcontext import NewContext, RmapUpdate, derive_context
from csst_crds_plugin.tools.delivery.publish import commit_context, latest_context, refuse_report
from csst_crds_plugin.tools.delivery.submission import Submission, read_submission
from csst_crds_plugin.tools.delivery.uniqname import (
    claim_file,
    next_serial,
    reference_names_in_use,
    reference_stem,
    temp_path,
)

__all__ = ["DeliveryResult", "deliver"]

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What a delivery published."""

    context: str
    derived_from: str
    names: dict[str, str]
    """Submitted path → the unique name the file has in the cache."""
    mappings: tuple[str, ...]
    """New mapping files, bottom-up: rmaps, imaps, then the pmap."""
    replaced: dict[str, str] = field(default_factory=dict)
    """New name → the file it replaced at the same match path (same date)."""
    activated: bool = False
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {"context": self.context, "derived_from": self.derived_from,
                "names": dict(self.names), "mappings": list(self.mappings),
                "replaced": dict(self.replaced), "activated": self.activated,
                "warnings": list(self.warnings)}


@dataclass
class _Staged:
    submission: Submission
    temp: Path
    digest: Digest
    name: str = ""


def deliver(cache: str | Path | None, files: Iterable[str | Path], *,
            description: str | None = None, activate: bool = False,
            observatory: str = DEFAULT_OBSERVATORY, allow_pickle: bool = False,
            lock_timeout: float = 600.0) -> DeliveryResult:
    """Deliver reference `files` into `cache` (None: ``CSST_CRDS_PATH``) as one transaction.

    Returns the new context and the unique name given to each file. Raises DeliveryError (or
    another CsstCrdsError) naming the file and the problem; then nothing was published.
    """
    settings = get_settings()
    layout = CacheLayout(cache if cache is not None else settings.cache_root, observatory,
                         readonly=settings.readonly)
    layout.require_writable(f"a delivery into {layout.root}")
    paths = [Path(f) for f in files]
    if not paths:
        raise DeliveryError("nothing to deliver: give one or more reference files")
    if len({p.resolve() for p in paths}) != len(paths):
        raise DeliveryError("a file is named twice in the delivery; give each file once")
    with contextlib.suppress(CacheError):
        layout.clean_stale_temps()
    # each file after the files it depends on (cached, or siblings named by file name)
    submissions = order_submissions(layout, [read_submission(p) for p in paths])
    hint = latest_context(layout)
    if hint is None:
        raise DeliveryError(f"the cache {layout.root} has no context to deliver into; create "
                            "one with `csst-crds newcontext --init`")
    report = certify_files(paths, cache=layout.root, observatory=layout.observatory,
                           context=hint, allow_pickle=allow_pickle)
    refuse_report("the delivery", report)
    staged: list[_Staged] = []
    try:
        for item in submissions:
            staged.append(_stage(layout, item))
        with rules_lock(layout, lock_timeout):
            _refuse_known(layout, staged)
            result = _transaction(layout, staged, description, activate)
    finally:
        for staged_item in staged:
            with contextlib.suppress(FileNotFoundError):
                staged_item.temp.unlink()
    return DeliveryResult(result.context, result.derived_from, result.names, result.mappings,
                          result.replaced, result.activated,
                          tuple(report.warnings) + result.warnings)


def _stage(layout: CacheLayout, item: Submission) -> _Staged:
    """Copy a submitted file into its cache folder under a temporary name, hashing it."""
    stem = reference_stem(layout.observatory, item.instrument, item.reftype, str(item.path))
    folder = layout.reference_target(f"{stem}_0000{item.extension}", item.instrument).parent
    folder.mkdir(parents=True, exist_ok=True)
    layout.inside(folder)
    temp = temp_path(folder, f"{stem}{item.extension}")
    sha = hashlib.sha256()
    size = 0
    try:
        with item.path.open("rb") as source, temp.open("xb") as target:
            while chunk := source.read(_CHUNK):
                sha.update(chunk)
                size += len(chunk)
                target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        full = no_space(exc, temp) if isinstance(exc, OSError) else None
        if full is not None:
            raise full from exc
        raise
    return _Staged(item, temp, Digest(sha.hexdigest(), size))


def _refuse_known(layout: CacheLayout, staged: Sequence[_Staged]) -> None:
    known = {digest.sha256: name for name, digest in read_manifest(layout).items()}
    seen: dict[str, Path] = {}
    for item in staged:
        path, sha = item.submission.path, item.digest.sha256
        if sha in known:
            raise DeliveryError(f"{path}: identical to {known[sha]}, already in the cache "
                                f"{layout.root}; it was delivered before")
        if sha in seen:
            raise DeliveryError(f"{path}: identical to {seen[sha]} of the same delivery")
        seen[sha] = path


def _entries(layout: CacheLayout, name: str) -> dict[str, str]:
    """Return a cached pmap's or imap's entries, keys lower case."""
    selector = read_cached(layout, name).selector
    if not isinstance(selector, DictNode):
        raise DeliveryError(f"{name}: a context's selector must be a dict of names")
    return {str(k).lower(): str(v) for k, v in selector.entries}


def _rmap_names(layout: CacheLayout, base: str,
                staged: Sequence[_Staged]) -> dict[tuple[str, str], str]:
    """Return the rmap of the base context receiving each (instrument, reftype)."""
    imaps = _entries(layout, base)
    found: dict[tuple[str, str], str] = {}
    for item in staged:
        instrument, reftype = item.submission.instrument, item.submission.reftype
        if (instrument, reftype) in found:
            continue
        how = f"add them with `csst-crds newcontext --init {instrument}:{reftype}`"
        imap = imaps.get(instrument, "")
        if not imap.endswith(".imap"):
            raise DeliveryError(f"{item.submission.path}: the context {base} has no rules for "
                                f"instrument {instrument.upper()}; {how}")
        rmap = _entries(layout, imap).get(reftype, "")
        if not rmap.endswith(".rmap"):
            raise DeliveryError(f"{item.submission.path}: {imap} has no rmap for {reftype!r} "
                                f"({rmap or 'absent'}); {how}")
        found[(instrument, reftype)] = rmap
    return found


def _transaction(layout: CacheLayout, staged: Sequence[_Staged], description: str | None,
                 activate: bool) -> DeliveryResult:
    """Under the rules lock: name, insert, derive, certify, record, publish; or undo all."""
    base = latest_context(layout)
    if base is None:
        raise DeliveryError(f"the cache {layout.root} has no context any more")
    targets = _rmap_names(layout, base, staged)
    written: list[str] = []
    with transaction(layout, "delivery", base):  # rolls every step back if one fails
        inserters, warnings, context = _steps(layout, staged, targets, base, description,
                                              activate, written)
    replaced = {i.filename: str(i.replaced) for ins in inserters.values()
                for i in ins.insertions if isinstance(i.replaced, str)}
    return DeliveryResult(context.pmap, base, {str(i.submission.path): i.name for i in staged},
                          tuple(written), replaced, activate, warnings)


def _steps(layout: CacheLayout, staged: Sequence[_Staged], targets: dict[tuple[str, str], str],
           base: str, description: str | None, activate: bool,
           written: list[str]) -> tuple[dict[str, RmapInserter], tuple[str, ...], NewContext]:
    """Plan the journalled steps: name the references, write the new mappings, commit."""
    for item in staged:
        sub = item.submission
        stem = reference_stem(layout.observatory, sub.instrument, sub.reftype, str(sub.path))
        start = next_serial(reference_names_in_use(layout, sub.instrument), stem)
        item.name = claim_file(item.temp, stem, sub.extension, start, item.digest)
    rewrite_dependencies(layout, staged)  # siblings' file names -> their cache names
    inserters: dict[str, RmapInserter] = {}
    for item in staged:
        sub = item.submission
        rmap = targets[(sub.instrument, sub.reftype)]
        if rmap not in inserters:
            inserters[rmap] = RmapInserter(read_cached(layout, rmap))
        inserters[rmap].insert(sub.header, item.name, str(sub.path))
    updates: list[RmapUpdate] = []
    for rmap, inserter in inserters.items():
        new = write_mapping(layout, rmap, inserter.render)
        written.append(new)
        updates.extend(RmapUpdate(instrument, reftype, new)
                       for (instrument, reftype), old in targets.items() if old == rmap)
    context = derive_context(layout, base, updates, description=description)
    written.extend(context.written)
    warnings = commit_context(
        layout, context.pmap, written, base,
        references={item.name: item.digest for item in staged}, activate=activate,
        description=description or f"{len(staged)} reference(s) delivered")
    return inserters, warnings, context
