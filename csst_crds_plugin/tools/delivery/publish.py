"""Publishing a context: ``latest`` (and, when activated, ``operational`` and the history).

``config/<obs>/contexts.json`` is rewritten atomically under the config lock, and only if the
latest context is still the one the new context was derived from (compare and swap), so a
publication can never hide another one.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from csst_crds_plugin.cache.config import (
    CONTEXTS_NAME,
    CacheConfig,
    HistoryEntry,
    config_from_files,
    load_config,
    render_contexts_json,
)
from csst_crds_plugin.cache.killpoint import kill_point
from csst_crds_plugin.cache.layout import CacheLayout
from csst_crds_plugin.cache.manifest import Digest, digest_file, update_manifest
from csst_crds_plugin.tools.certify import CertifyReport, certify_context
from csst_crds_plugin.tools.delivery.errors import DeliveryError, StaleContextError
from csst_crds_plugin.tools.delivery.journal import note_manifest, note_publish

__all__ = ["commit_context", "latest_context", "publish_context", "refuse_report"]


def latest_context(layout: CacheLayout) -> str | None:
    """Return the latest context (declared, else last activated, else operational), or None."""
    return load_config(layout).latest_context


def publish_context(layout: CacheLayout, context: str, *, base: str | None,
                    activate: bool = False, description: str = "",
                    when: datetime | None = None) -> CacheConfig:
    """Make `context` the latest (and with `activate` the operational) context of the cache.

    Raises StaleContextError when the latest context is no longer `base`.
    """
    path = layout.config_dir / CONTEXTS_NAME
    with layout.config_lock():
        current = latest_context(layout)
        if current != base:
            raise StaleContextError(
                f"{context} was derived from {base or 'nothing'}, but the latest context of "
                f"{layout.root} is now {current}; derive the new context from {current} again"
            )
        try:
            own = config_from_files(layout.observatory, {CONTEXTS_NAME: path.read_bytes()},
                                    str(layout.config_dir))
        except FileNotFoundError:
            own = CacheConfig(observatory=layout.observatory)
        changes: dict[str, object] = {"latest": context}
        if activate:
            moment = (when or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)
            changes["operational"] = context
            changes["history"] = (*own.history, HistoryEntry(context, moment, description))
        new = dataclasses.replace(own, **changes)  # type: ignore[arg-type]  # fields of own, typed
        layout.write_bytes(path, render_contexts_json(new))
    return new


def refuse_report(what: str, report: CertifyReport) -> None:
    """Raise DeliveryError listing a failed certify report's errors."""
    if not report.ok:
        errors = report.errors
        failed = [f.path for f in report.files if f.errors]
        summary = (f"certify refused {what}: {errors[0]}" if len(errors) == 1 else
                   f"certify refused {what}: {len(errors)} errors in {len(failed)} file(s), the "
                   f"first: {errors[0]} (`csst-crds certify FILES` prints them all)")
        raise DeliveryError(summary + "\n" + "\n".join(errors))


def commit_context(layout: CacheLayout, context: str, written: Sequence[str],
                   base: str | None, *, references: Mapping[str, Digest] | None = None,
                   publish: bool = True, activate: bool = False,
                   description: str = "") -> tuple[str, ...]:
    """Certify a new context, record its new files in the manifest, then publish it.

    `written` are the new mapping files, `references` the new references with their digests.
    On failure the manifest is restored (the caller removes the files). Returns certify's
    warnings.
    """
    report = certify_context(layout.root, context, observatory=layout.observatory)
    refuse_report(f"the new context {context}", report)
    digests = dict(references or {})
    digests.update({name: digest_file(layout.mapping_path(name)) for name in written})
    note_manifest(digests)
    note_publish(context, publish)
    update_manifest(layout, digests)
    kill_point("manifest-written")
    try:
        if publish:
            kill_point("before-publish")
            publish_context(layout, context, base=base, activate=activate,
                            description=description)
            kill_point("published")
    except BaseException:
        with contextlib.suppress(Exception):
            update_manifest(layout, {}, removals=digests)
        raise
    return tuple(report.warnings)
