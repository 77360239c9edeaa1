"""Certify checks of mapping files (.pmap, .imap, .rmap): syntax, checksum, header."""

from __future__ import annotations

from pathlib import Path

from csst_crds_plugin.errors import RuleSyntaxError
from csst_crds_plugin.rules import MappingIR, compute_sha1sum, parse_mapping
from csst_crds_plugin.tools.certify.report import FileReport

__all__ = ["MAPPING_EXTENSIONS", "certify_mapping"]

MAPPING_EXTENSIONS = (".pmap", ".imap", ".rmap")

_KINDS = {".pmap": "PIPELINE", ".imap": "INSTRUMENT", ".rmap": "REFERENCE"}
_REQUIRED = {
    "PIPELINE": ("mapping", "parkey", "name", "derived_from", "observatory"),
    "INSTRUMENT": ("mapping", "parkey", "name", "derived_from", "observatory", "instrument"),
    "REFERENCE": ("mapping", "parkey", "name", "derived_from", "observatory", "instrument",
                  "filekind"),
}


def certify_mapping(path: str | Path,
                    text: str | None = None) -> tuple[FileReport, MappingIR | None]:
    """Check one mapping file; return its report and its parsed form (None if unparsable)."""
    report = FileReport(str(path), "mapping")
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            report.error(f"cannot read the mapping: {exc}")
            return report, None
    try:
        ir = parse_mapping(text, str(path))
    except RuleSyntaxError as exc:
        report.error(f"syntax error at line {exc.line}, column {exc.column}: {exc.message}")
        return report, None
    _check_notes(report, ir)
    header = ir.header_dict()
    _check_checksum(report, text, header)
    _check_header(report, ir, header)
    return report, ir


def _line(ir: MappingIR, offset: int) -> int:
    return ir.source.locate(offset)[0]


def _check_notes(report: FileReport, ir: MappingIR) -> None:
    """Constructs CRDS lookup accepts and CRDS certify rejects are errors (RULES.md §1.2)."""
    for note in ir.notes:
        report.error(f"line {_line(ir, note.offset)}: {note.message}: accepted for lookup but "
                     "not by the canonical grammar; rewrite it canonically (`csst-crds checksum` "
                     "after editing)")


def _check_checksum(report: FileReport, text: str, header: dict[object, object]) -> None:
    expected = header.get("sha1sum")
    if expected is None:
        report.error("the header has no 'sha1sum'; add one with `csst-crds checksum "
                     f"{report.path}`")
        return
    actual = compute_sha1sum(text)
    if str(expected).lower() != actual:
        report.error(f"sha1sum mismatch: the header says {expected!r}, the text gives "
                     f"{actual!r}; the file was edited or corrupted (restore it, or run "
                     f"`csst-crds checksum {report.path}` if the edit is intended)")


def _check_header(report: FileReport, ir: MappingIR, header: dict[object, object]) -> None:
    suffix = Path(report.path).suffix.lower()
    declared = str(header.get("mapping", "")).upper()
    kind = _KINDS.get(suffix, declared)
    if kind not in _REQUIRED:
        report.error(f"header 'mapping' is {header.get('mapping')!r}; use PIPELINE, INSTRUMENT "
                     "or REFERENCE")
        return
    if declared and declared != kind:
        report.error(f"header 'mapping' is {declared!r} but a {suffix} file is {kind}")
    missing = [name for name in _REQUIRED[kind] if name not in header]
    if missing:
        report.error(f"header field(s) {', '.join(missing)} missing; a {kind} mapping needs "
                     f"{', '.join(_REQUIRED[kind])}")
