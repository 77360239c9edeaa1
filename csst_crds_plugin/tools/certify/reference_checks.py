"""Certify checks of one reference file: format, header keywords, arrays, its name."""

from __future__ import annotations

from pathlib import Path

from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY
from csst_crds_plugin.tools.certify.array_checks import check_arrays
from csst_crds_plugin.tools.certify.constraints import Constraints, constraints_for
from csst_crds_plugin.tools.certify.keyword_checks import check_keywords, crds_name_parts
from csst_crds_plugin.tools.certify.readers import (
    PICKLE_EXTENSIONS,
    ReferenceContent,
    check_pickle_bytes,
    format_of,
    read_reference,
)
from csst_crds_plugin.tools.certify.report import FileReport

__all__ = ["certify_reference"]

_TYPES = "use .fits, .asdf, .json, .yaml or .toml"


def certify_reference(path: str | Path, *, observatory: str = DEFAULT_OBSERVATORY,
                      allow_pickle: bool = False) -> tuple[FileReport, ReferenceContent | None]:
    """Check one reference file; return its report and what was read of it (None if nothing)."""
    report = FileReport(str(path), "reference")
    suffix = Path(path).suffix.lower()
    if suffix in PICKLE_EXTENSIONS:
        _check_pickle(report, Path(path), observatory, allow_pickle)
        return report, None
    fmt = format_of(path)
    if fmt is None:
        report.error(f"unknown reference format {suffix!r}; {_TYPES}")
        return report, None
    try:
        content = read_reference(path)
    except Exception as exc:  # untrusted input: any failure to read is a finding  # noqa: BLE001
        report.error(f"cannot be read as {fmt.upper()}: {type(exc).__name__}: {exc}")
        return report, None
    header = content.header
    constraints = constraints_for(observatory, str(header.get("INSTRUME", "")),
                                  str(header.get("REFTYPE", "")))
    _check_known(report, constraints, header)
    if constraints.formats and fmt not in constraints.formats:
        report.error(f"{constraints.instrument} {constraints.reftype} references cannot be "
                     f"{fmt.upper()}; allowed: {', '.join(constraints.formats)}")
    check_keywords(report, header, constraints)
    check_arrays(report, content, constraints)
    _check_name(report, observatory, header)
    return report, content


def _check_known(report: FileReport, constraints: Constraints, header: dict[str, object]) -> None:
    if not constraints.known_instrument or "REFTYPE" not in header:
        return  # an unknown INSTRUME is reported by the keyword check
    if not constraints.known_reftype:
        report.warn(f"no constraints for {constraints.instrument} {constraints.reftype!r} "
                    "references: only the common keywords were checked")


def _check_name(report: FileReport, observatory: str, header: dict[str, object]) -> None:
    """Check that a CRDS-style name agrees with the header's instrument and type."""
    parts = crds_name_parts(Path(report.path).name)
    if parts is None or parts[0] != observatory.lower():
        # Only ``<observatory>_<instr>_<type>_NNNN.<ext>`` is a cache name: a submitter's
        # ``copy_of_bias_0013.fits`` has the same shape but is not one.
        return
    _, name_instrument, name_type = parts
    for keyword, value in (("INSTRUME", name_instrument), ("REFTYPE", name_type)):
        declared = str(header.get(keyword, "")).lower()
        if declared and declared != value:
            report.error(f"the file name says {keyword} {value.upper()}, the header says "
                         f"{declared.upper()}; rename the file or fix the header")


def _check_pickle(report: FileReport, path: Path, observatory: str, allow: bool) -> None:
    """Pickles are refused unless allowed, and even then only looked at, never loaded."""
    if not allow:
        report.error(f"a pickle ({path.suffix}) is refused: unpickling can run arbitrary code. "
                     f"Deliver the data as FITS, ASDF, JSON, YAML or TOML, or pass "
                     "--allow-pickle (allow_pickle=True); certify never unpickles it")
        return
    try:
        problem = check_pickle_bytes(path)
    except OSError as exc:
        report.error(f"cannot be read: {exc}")
        return
    if problem:
        report.error(f"is not a valid pickle: {problem}")
    parts = crds_name_parts(path.name)
    if parts is not None:
        constraints = constraints_for(observatory, parts[1], parts[2])
        if constraints.formats and "pickle" not in constraints.formats:
            report.error(f"{parts[1].upper()} {parts[2]} references cannot be pickles; "
                         f"allowed: {', '.join(constraints.formats)}")
    report.warn("a pickle's keywords and data cannot be checked without unpickling it: only "
                "its name, size and first bytes were checked")
