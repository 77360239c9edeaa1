"""Certify checks of one mapping file (.pmap, .imap, .rmap).

The checks are syntax, checksum, header, tree, and a full load by the engine.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from csst_crds_plugin.context import InstrumentMapping, PipelineMapping, ReferenceMapping
from csst_crds_plugin.errors import CsstCrdsError, FileNotCachedError, RuleSyntaxError
from csst_crds_plugin.loader import NAME_LIMIT, MappingLoader
from csst_crds_plugin.rules import MappingIR, compute_sha1sum, parse_mapping, sha1sum_problem
from csst_crds_plugin.rules.ir import MAPPING_KINDS, REQUIRED_HEADER_FIELDS, SELECTOR_NAMES
from csst_crds_plugin.selectors.values import NA_VALUES, OMIT_VALUES
from csst_crds_plugin.tools.certify.constraints import load_observatory
from csst_crds_plugin.tools.certify.keyword_checks import crds_name_parts
from csst_crds_plugin.tools.certify.report import FileReport
from csst_crds_plugin.tools.certify.tree_checks import check_tree, rmap_levels, terminal_names

__all__ = ["certify_mapping"]




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
    for note in ir.notes:
        report.error(f"line {ir.source.locate(note.offset)[0]}: {note.message}: accepted for "
                     "lookup but not by the canonical grammar (CRDS certify refuses it); "
                     "rewrite it canonically")
    header = ir.header_dict()
    _check_checksum(report, text, header)
    kind = _check_header(report, header)
    if kind is None:
        return report, ir
    check_tree(report, ir, header)
    _check_name_lengths(report, ir)
    if kind == "REFERENCE":
        _check_rmap_header(report, header)
    else:
        _check_entries(report, ir, header, kind)
    _check_loads(report, ir, kind)
    return report, ir


def _check_checksum(report: FileReport, text: str, header: dict[Any, Any]) -> None:
    waived = header.get("ignore_checksum") in (True, "True", "true")
    if waived:
        report.warn("the header sets ignore_checksum: this engine honours it (a checksum "
                    "mismatch only warns), CRDS ignores it (departure D6)")
    problem = sha1sum_problem(header, compute_sha1sum(text), report.path)
    if problem is None:
        return
    report.warn(problem) if waived else report.error(problem)


def _check_header(report: FileReport, header: dict[Any, Any]) -> str | None:
    """Kind, required fields and identity; the kind, or None when it is unknown."""
    suffix = Path(report.path).suffix.lower()
    declared = str(header.get("mapping", "")).upper()
    kind = MAPPING_KINDS.get(suffix, declared)
    if kind not in REQUIRED_HEADER_FIELDS:
        report.error(f"header 'mapping' is {header.get('mapping')!r}; use PIPELINE, INSTRUMENT "
                     "or REFERENCE")
        return None
    if declared and declared != kind:
        report.error(f"header 'mapping' is {declared!r} but a {suffix} file is {kind}")
    missing = [name for name in REQUIRED_HEADER_FIELDS[kind] if name not in header]
    if missing:
        report.error(f"header field(s) {', '.join(missing)} missing; a {kind} mapping needs "
                     f"{', '.join(REQUIRED_HEADER_FIELDS[kind])}")
    name = Path(report.path).name
    if "name" in header and str(header["name"]) != name:
        report.warn(f"header 'name' is {header['name']!r}, the file is {name!r}")
    observatory = str(header.get("observatory", "")).lower()
    prefix = name.split("_")[0].split(".")[0].lower()
    if observatory and prefix != observatory:
        report.error(f"the file name says observatory {prefix!r}, the header {observatory!r}")
    _, instruments = load_observatory(observatory)
    instrument = str(header.get("instrument", "")).upper()
    if instruments and kind != "PIPELINE" and instrument and instrument not in instruments:
        report.error(f"instrument {instrument!r} is not a {observatory.upper()} instrument "
                     f"({', '.join(instruments)})")
    filekind = str(header.get("filekind", "")).lower()
    if kind == "REFERENCE" and instrument in instruments and filekind \
            and filekind not in instruments[instrument].reftypes:
        report.warn(f"reference type {filekind!r} has no {instrument} constraints: references "
                    "for it get only the common checks")
    return kind


def _check_name_lengths(report: FileReport, ir: MappingIR) -> None:
    """Every file name the mapping gives fits in a file system (the loader refuses others)."""
    for name in sorted(terminal_names(ir.selector)):
        size = len(name.encode("utf-8", "surrogatepass"))
        if size > NAME_LIMIT:
            report.error(f"names the file {name[:40]!r}..., {size} bytes long: a file name has "
                         f"at most {NAME_LIMIT} bytes")


def _check_rmap_header(report: FileReport, header: dict[Any, Any]) -> None:
    levels = rmap_levels(header)
    classes = header.get("classes")
    if classes is not None:
        names = classes if isinstance(classes, tuple) else (classes,)
        if len(names) != len(levels):
            report.error(f"header 'classes' has {len(names)} entries but 'parkey' has "
                         f"{len(levels)} levels")
        unknown = [c for c in names if not (isinstance(c, str) and c in SELECTOR_NAMES)]
        if unknown:
            report.error("header 'classes' names unknown selectors: "
                         f"{', '.join(map(str, unknown))}")
    parkeys = {name for level in levels for name in level}
    targets = header.get("reference_to_dataset")
    if isinstance(targets, dict):
        for source, target in targets.items():
            if str(target).upper() not in parkeys:
                report.error(f"reference_to_dataset maps {source!r} to {target!r}, which is not "
                             "a parkey")
    for field, exempt in (("rmap_relevance", ("always", "true")), ("rmap_omit", ("false",))):
        value = header.get(field)
        if isinstance(value, str) and not (value.startswith("(") and value.endswith(")")) \
                and value.strip().lower() not in exempt:
            report.warn(f"header {field} {value!r} is not parenthesised: CRDS lower-cases it "
                        "and cannot evaluate it, this engine evaluates it as written "
                        "(departure D3); wrap it in parentheses")
    if "hooks" in header:
        report.warn("header 'hooks' (HST plug-ins) is not supported and is ignored")
    required = str(header.get("reffile_required", "NONE")).upper()
    if required not in ("YES", "NO", "NONE"):
        report.warn(f"reffile_required {header['reffile_required']!r} is not YES, NO or NONE; "
                    "it acts as NO (a failed match gives N/A)")


def _check_entries(report: FileReport, ir: MappingIR, header: dict[Any, Any], kind: str) -> None:
    """pmap: instrument → imap; imap: reference type → rmap, N/A or OMIT."""
    observatory = str(header.get("observatory", "")).lower()
    _, instruments = load_observatory(observatory)
    instrument = str(header.get("instrument", "")).upper()
    child = ".imap" if kind == "PIPELINE" else ".rmap"
    entries = ir.selector.entries
    for key, value in entries:
        where = f"entry {key!r}"
        if not isinstance(value, str):
            report.error(f"{where}: the value must be a mapping name, not {value!r}")
            continue
        if value in NA_VALUES or value in OMIT_VALUES:
            if kind == "PIPELINE":
                report.error(f"{where} is {value!r}: an instrument of a pipeline context must "
                             "name an imap (the lookup fails otherwise)")
            continue
        if not value.endswith(child):
            report.error(f"{where} names {value!r}, which is not a {child} file")
            continue
        parts = value.split(".")[0].split("_")
        if kind == "PIPELINE":
            if instruments and str(key).upper() not in instruments:
                report.error(f"{where}: {str(key).upper()!r} is not a {observatory.upper()} "
                             f"instrument ({', '.join(instruments)})")
            if len(parts) > 1 and parts[1] != str(key).lower():
                report.error(f"{where} names {value!r}, an imap of another instrument")
        else:
            named = crds_name_parts(value)
            if named is not None and named[2] != str(key).lower():
                report.error(f"{where} names {value!r}, an rmap of type {named[2]!r}")
            known = instruments.get(instrument)
            if known is not None and str(key).lower() not in known.reftypes:
                report.warn(f"{where}: {instrument} has no constraints for this reference type")


def _missing(name: str) -> tuple[str, str, tuple[int, int]]:
    raise FileNotCachedError(name)


_BUILDERS = {"PIPELINE": PipelineMapping, "INSTRUMENT": InstrumentMapping,
             "REFERENCE": ReferenceMapping}


def _check_loads(report: FileReport, ir: MappingIR, kind: str) -> None:
    """Build the mapping as a lookup would; report what fails, unless already reported."""
    loader = MappingLoader(_missing, lambda name: True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _BUILDERS[kind](ir, loader)
        except CsstCrdsError as exc:
            if not report.errors:
                report.error(f"does not load: {str(exc).splitlines()[0]}")
        except (ValueError, TypeError, KeyError) as exc:
            report.error(f"does not load ({type(exc).__name__}): {exc}")
    for warning in caught:
        message = str(warning.message)
        if "'hooks'" not in message:
            report.warn(message)
