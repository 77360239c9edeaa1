"""Provenance of a step's result: the context, this software's version, each reference used."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from csst_crds_plugin.results import NA

__all__ = [
    "NOT_APPLICABLE_SOURCE",
    "OVERRIDE",
    "RULE",
    "ReferenceUse",
    "record_provenance",
    "reference_uses",
]

RULE = "rule"
"""The rules of the context chose the reference."""
OVERRIDE = "override"
"""The user chose it (``override_<reftype>``), a file, a model or N/A."""
NOT_APPLICABLE_SOURCE = "not_applicable"
"""The rules say the type does not apply (N/A)."""

_URI = "crds://"


@dataclass(frozen=True, slots=True)
class ReferenceUse:
    """One reference a step used: its type, name (or path, or N/A) and where it came from."""

    reftype: str
    name: str
    source: str
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
            uses[reftype] = ReferenceUse(reftype, text, OVERRIDE)
        elif text == NA:
            uses[reftype] = ReferenceUse(reftype, NA, NOT_APPLICABLE_SOURCE)
        else:
            uses[reftype] = ReferenceUse(reftype, text.removeprefix(_URI), RULE)
    return uses


def record_provenance(result: object, context: str | None, version: str,
                      uses: Iterable[ReferenceUse]) -> bool:
    """Write provenance onto a model that has ``meta.ref_file``; False if it has none.

    Sets ``meta.ref_file.crds.context_used`` and ``.sw_version``, and each reference through
    ``meta.ref_file.set(reftype, name, source[, checksum])`` when the model offers it (CSST
    models), else
    ``meta.ref_file.<reftype>.name`` (stpipe/JWST-style models).
    """
    ref_file = getattr(getattr(result, "meta", None), "ref_file", None)
    if ref_file is None:
        return False
    crds = getattr(ref_file, "crds", None)
    if crds is not None:
        if context is not None:
            crds.context_used = context
        crds.sw_version = version
    setter = getattr(ref_file, "set", None)
    for use in uses:
        if callable(setter) and use.checksum is not None:
            setter(use.reftype, use.name, use.source, use.checksum)
        elif callable(setter):
            setter(use.reftype, use.name, use.source)
        else:
            entry = getattr(ref_file, use.reftype, None)
            if entry is not None:
                entry.name = use.name
    return True
