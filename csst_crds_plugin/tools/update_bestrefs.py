"""``bestrefs --update-bestrefs``: write the best references into dataset headers (HST style).

A FITS dataset gets, in its primary header, ``CRDS_CTX`` (the context) and one ``R_<TYPE>``
keyword per reference type (the file name, or ``N/A``) with the comment ``<reftype>
reference``, as a pipeline output records them; ``S_<TYPE>`` says ``rule``. An ASDF dataset gets
``meta.ref_file.crds.context_used`` and ``meta.ref_file.<type>.name``. Types whose lookup failed
or that are omitted are left alone. Each file is rewritten atomically.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from csst_crds_plugin.cache.layout import atomic_open

__all__ = ["keyword_of", "update_file"]

_SPECIAL = {"readnoise": "READN", "saturation": "SATURA"}
"""Reference types whose keyword is not the first six letters (as the CSST data models)."""


def keyword_of(reftype: str) -> str:
    """Return the ``R_<TYPE>`` keyword of a reference type (``readnoise`` → ``R_READN``)."""
    name = reftype.lower()
    return "R_" + (_SPECIAL.get(name) or re.sub(r"[^A-Z0-9]", "", name.upper())[:6])


def _value(value: object) -> str | None:
    if isinstance(value, str):
        return value
    return None  # an error, a tuple or a map: not one file to record


def _update_fits(path: Path, context: str, results: Mapping[str, object]) -> list[str]:
    from astropy.io import fits

    written = []
    with fits.open(path, memmap=False) as hdus:
        header = hdus[0].header
        header["CRDS_CTX"] = (context, "CRDS context used")
        for reftype, value in sorted(results.items()):
            name = _value(value)
            if name is None:
                continue
            keyword = keyword_of(reftype)
            header[keyword] = (name, f"{reftype} reference")
            header["S_" + keyword[2:]] = ("rule", f"source of {keyword}")
            written.append(f"{keyword}={name}")
        buffer = io.BytesIO()
        hdus.writeto(buffer)
    with atomic_open(path) as stream:
        stream.write(buffer.getvalue())
    return written


def _update_asdf(path: Path, context: str, results: Mapping[str, object]) -> list[str]:
    import asdf

    written = []
    with asdf.open(path, memmap=False, lazy_load=False) as handle:
        meta: dict[str, Any] = handle.tree.setdefault("meta", {})
        ref_file = meta.setdefault("ref_file", {})
        ref_file.setdefault("crds", {})["context_used"] = context
        for reftype, value in sorted(results.items()):
            name = _value(value)
            if name is not None:
                ref_file.setdefault(reftype, {})["name"] = name
                written.append(f"{reftype}={name}")
        buffer = io.BytesIO()
        handle.write_to(buffer)
    with atomic_open(path) as stream:
        stream.write(buffer.getvalue())
    return written


def update_file(path: str | Path, context: str, results: Mapping[str, object]) -> list[str]:
    """Record `results` ({reftype: encoded value}) under `context` in a dataset file."""
    path = Path(path)
    if path.suffix.lower() == ".asdf":
        return _update_asdf(path, context, results)
    return _update_fits(path, context, results)
