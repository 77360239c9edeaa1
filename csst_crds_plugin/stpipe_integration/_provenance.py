"""Provenance of a step's result: the context, this software's version, each reference used."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from csst_crds_plugin.results import NA, RefSource

__all__ = [
    "ReferenceUse",
    "record_provenance",
    "records_csst_provenance",
    "reference_uses",
]

_URI = "crds://"


@dataclass(frozen=True, slots=True)
class ReferenceUse:
    """One reference a step used: its type, name (or path, or N/A) and where it came from."""

    reftype: str
    name: str
    source: RefSource
    checksum: str | None = None
    """``sha256:<hex>`` of the file used, when it was found."""


def reference_uses(used: Iterable[tuple[str, Any]],
                   overridden: Callable[[str], bool]) -> dict[str, ReferenceUse]:
    """Read stpipe's ``(reftype, value)`` list: ``crds://name``, ``N/A``, or an override.

    `overridden(reftype)` says whether the step had ``override_<reftype>`` set, which is when
    stpipe's own override branch recorded the value (the override's absolute path, ``N/A``
    or a model's handle).
    """
    uses: dict[str, ReferenceUse] = {}
    for reftype, value in used:
        text = str(value)
        if overridden(reftype):
            uses[reftype] = ReferenceUse(reftype, text, RefSource.OVERRIDE)
        elif text == NA:
            uses[reftype] = ReferenceUse(reftype, NA, RefSource.NOT_APPLICABLE)
        else:
            uses[reftype] = ReferenceUse(reftype, text.removeprefix(_URI), RefSource.RULE)
    return uses


def records_csst_provenance(result: object) -> bool:
    """Tell whether a model takes the CSST record (``meta.ref_file.set(reftype, name, source)``).

    Mission models (jwst, romancal) record provenance in their own schema, through their own
    ``finalize_result``; the plugin never writes into them.
    """
    ref_file = getattr(getattr(result, "meta", None), "ref_file", None)
    return callable(getattr(ref_file, "set", None))


def record_provenance(result: object, context: str | None, version: str,
                      uses: Iterable[ReferenceUse]) -> bool:
    """Write provenance onto a CSST model; False (nothing written) for any other object.

    Sets ``meta.ref_file.crds.context_used`` and ``.sw_version`` and each reference through
    ``meta.ref_file.set(reftype, name, source[, checksum])``.
    """
    if not records_csst_provenance(result):
        return False
    ref_file = result.meta.ref_file  # type: ignore[attr-defined]  # a CSST model: checked above
    crds = getattr(ref_file, "crds", None)
    if crds is not None:
        if context is not None:
            crds.context_used = context
        crds.sw_version = version
    for use in uses:
        if use.checksum is not None:
            ref_file.set(use.reftype, use.name, use.source, use.checksum)
        else:
            ref_file.set(use.reftype, use.name, use.source)
    return True
