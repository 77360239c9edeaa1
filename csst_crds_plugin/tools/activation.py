"""Make a cached context operational, audited (the console's and scripts' ``activate``)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from csst_crds_plugin.cache.config import (
    CONTEXTS_NAME,
    CacheConfig,
    HistoryEntry,
    config_from_files,
    render_contexts_json,
)
from csst_crds_plugin.cache.layout import CacheLayout, check_name
from csst_crds_plugin.tools.audit import append_audit, local_user
from csst_crds_plugin.tools.certify import certify_context
from csst_crds_plugin.tools.delivery.errors import DeliveryError, StaleContextError
from csst_crds_plugin.tools.delivery.lock import rules_lock
from csst_crds_plugin.tools.delivery.publish import refuse_report

__all__ = ["activate_context"]


def activate_context(layout: CacheLayout, context: str, *, user: str | None = None,
                     source: str = "cli", description: str = "",
                     expected_operational: str | None = None,
                     lock_timeout: float = 600.0) -> CacheConfig:
    """Make `context` operational (history entry added); it must be cached and certify.

    With `expected_operational`, refuse (StaleContextError) when the operational context is no
    longer that one: the caller decided on an outdated view.
    """
    name = check_name(Path(context).name, "context")
    if not name.endswith(".pmap") or not layout.has_mapping(name):
        raise DeliveryError(f"{name}: not a context (.pmap) of the cache {layout.root}")
    refuse_report(f"activating {name}", certify_context(layout.root, name,
                                                        observatory=layout.observatory))
    path = layout.config_dir / CONTEXTS_NAME
    with rules_lock(layout, lock_timeout), layout.config_lock():
        try:
            own = config_from_files(layout.observatory, {CONTEXTS_NAME: path.read_bytes()},
                                    str(layout.config_dir))
        except FileNotFoundError:
            own = CacheConfig(observatory=layout.observatory)
        if expected_operational is not None and own.operational != expected_operational:
            raise StaleContextError(f"the operational context is now {own.operational}, not "
                                    f"{expected_operational}; look again before activating")
        moment = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        new = dataclasses.replace(own, operational=name, latest=own.latest or name,
                                  history=(*own.history,
                                           HistoryEntry(name, moment, description or
                                                        f"{name} activated")))
        layout.write_bytes(path, render_contexts_json(new))
    append_audit(layout, user=user or local_user(), action="activate", files=[name],
                 context=name, source=source, detail=description)
    return new
