"""Certify checks of reference files: format, header keywords, constraints."""

from __future__ import annotations

from pathlib import Path

from csst_crds_plugin.tools.certify.readers import (
    PICKLE_EXTENSIONS,
    format_of,
    read_reference,
)
from csst_crds_plugin.tools.certify.report import FileReport

__all__ = ["REQUIRED_KEYWORDS", "certify_reference"]

REQUIRED_KEYWORDS = ("TELESCOP", "INSTRUME", "REFTYPE", "DETECTOR", "FILTER", "READMODE",
                     "USEAFTER", "PEDIGREE", "DESCRIP", "AUTHOR")


def certify_reference(path: str | Path, *, allow_pickle: bool = False) -> FileReport:
    """Check one reference file."""
    report = FileReport(str(path), "reference")
    suffix = Path(path).suffix.lower()
    if suffix in PICKLE_EXTENSIONS and not allow_pickle:
        report.error(f"a pickle ({suffix}) is refused: loading it can run arbitrary code; "
                     "deliver the data as FITS, ASDF, JSON, YAML or TOML, or pass "
                     "--allow-pickle (certify never unpickles it)")
        return report
    if format_of(path) is None:
        report.error(f"unknown reference format {suffix!r}; use .fits, .asdf, .json, .yaml, "
                     ".toml")
        return report
    try:
        content = read_reference(path)
    except (OSError, ValueError) as exc:
        report.error(f"cannot read the reference: {exc}")
        return report
    missing = [key for key in REQUIRED_KEYWORDS if key not in content.header]
    if missing:
        report.error(f"required keyword(s) missing: {', '.join(missing)}")
    return report
