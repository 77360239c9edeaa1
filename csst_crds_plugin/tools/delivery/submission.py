"""Submitted reference files: their header keywords, instrument, type and dependencies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csst_crds_plugin.cache.layout import CacheLayout
from csst_crds_plugin.tools.certify.readers import PICKLE_EXTENSIONS, read_reference
from csst_crds_plugin.tools.delivery.errors import DeliveryError, DependencyError

__all__ = ["DEPENDENCIES", "Submission", "check_dependencies", "read_header", "read_submission"]

DEPENDENCIES: Mapping[str, tuple[str, ...]] = {
    "dark": ("R_BIAS",),
    "flat": ("R_BIAS", "R_DARK"),
}
"""Keywords naming the references a type is built from (CSST.md §3.5, §5.3). Each must be
present and name a reference in the cache, or be ``N/A`` when there is none."""


@dataclass(frozen=True, slots=True)
class Submission:
    """One submitted reference file."""

    path: Path
    header: Mapping[str, Any]
    instrument: str
    reftype: str

    @property
    def extension(self) -> str:
        """The file extension, lower case (``.fits``)."""
        return self.path.suffix.lower()


def read_header(path: str | Path) -> dict[str, Any]:
    """Read the header keywords of a reference file (upper-case names); never open a pickle."""
    path = Path(path)
    if path.suffix.lower() in PICKLE_EXTENSIONS:
        raise DeliveryError(f"{path}: a pickle has no header that can be read safely (it is "
                            "never unpickled); deliver the data as FITS, ASDF, JSON, YAML or "
                            "TOML with the CSST reference keywords")
    try:
        content = read_reference(path)
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"{path}: cannot read the reference header: {exc}") from exc
    return {str(k).upper(): v for k, v in content.header.items()}


def read_submission(path: str | Path) -> Submission:
    """Read a submitted file's header; INSTRUME and REFTYPE must be present."""
    path = Path(path)
    if not path.is_file():
        raise DeliveryError(f"{path}: no such file to deliver")
    header = read_header(path)
    missing = [k for k in ("INSTRUME", "REFTYPE") if not str(header.get(k, "")).strip()]
    if missing:
        raise DeliveryError(f"{path}: keyword(s) {', '.join(missing)} missing; a reference "
                            "must say its instrument and reference type (e.g. INSTRUME='MSC', "
                            "REFTYPE='BIAS')")
    return Submission(path, header, str(header["INSTRUME"]).strip().lower(),
                      str(header["REFTYPE"]).strip().lower())


def check_dependencies(layout: CacheLayout, submissions: Sequence[Submission]) -> None:
    """Refuse references whose R_BIAS / R_DARK do not name references present in the cache."""
    problems = []
    for item in submissions:
        for keyword in DEPENDENCIES.get(item.reftype, ()):
            value = item.header.get(keyword)
            name = "" if value is None else str(value).strip().removeprefix("crds://")
            if not name:
                problems.append(f"{item.path}: a {item.reftype} must name the reference it was "
                                f"built from in {keyword} (its name in the cache, or 'N/A')")
            elif name.upper() != "N/A" and not _present(layout, Path(name).name,
                                                         item.instrument):
                problems.append(f"{item.path}: {keyword}={name!r} is not a reference in the "
                                f"cache {layout.references_dir}; deliver it first and put the "
                                "name the delivery gave it in the header")
    if problems:
        raise DependencyError("; ".join(problems))


def _present(layout: CacheLayout, name: str, instrument: str) -> bool:
    try:
        return layout.find_reference(name, instrument) is not None
    except OSError:  # an unsafe name (CacheError) is not a reference of the cache
        return False
