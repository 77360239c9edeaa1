"""certify_files and certify_context: the entry points of certify."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from csst_crds_plugin.cache import CacheConfig, CacheLayout, load_config, resolve_context
from csst_crds_plugin.cache.manifest import check_references
from csst_crds_plugin.errors import IntegrityError, ModifiedReferenceError
from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY
from csst_crds_plugin.rules import MappingIR
from csst_crds_plugin.rules.ir import MAPPING_EXTENSIONS
from csst_crds_plugin.settings import get_settings
from csst_crds_plugin.tools.certify.cache_index import CacheIndex
from csst_crds_plugin.tools.certify.mapping_checks import certify_mapping
from csst_crds_plugin.tools.certify.reference_checks import certify_reference
from csst_crds_plugin.tools.certify.report import CertifyReport, FileReport
from csst_crds_plugin.tools.certify.submission_checks import (
    ContextRules,
    Submitted,
    check_against_rules,
    check_batch,
)
from csst_crds_plugin.tools.certify.tree_checks import terminal_names

__all__ = ["certify_context", "certify_files"]


def certify_files(paths: Iterable[str | Path], *, cache: str | Path | None = None,
                  observatory: str = DEFAULT_OBSERVATORY, context: str | None = None,
                  allow_pickle: bool = False,
                  check_references_present: bool = True) -> CertifyReport:
    """Certify reference files and mapping files (chosen by extension).

    `cache` (a root path) lets mapping checks see which references exist; `context` (a pmap
    name) lets a reference be checked against the rmap that would receive it (in `cache`, by
    default the settings' cache root).
    """
    if cache is None and (context is not None or _cache_named_by_environment()):
        cache = get_settings().cache_root
    index = CacheIndex(cache, observatory) if cache is not None else None
    rules = None
    if context is not None and index is not None:
        rules = ContextRules(index, _resolve(index, context))
    report = CertifyReport()
    submitted: list[Submitted] = []
    for path in paths:
        if Path(path).suffix.lower() in MAPPING_EXTENSIONS:
            file_report, ir = certify_mapping(path)
            if ir is not None and index is not None and check_references_present:
                _check_names_present(file_report, ir, index)
        else:
            file_report, content = certify_reference(path, observatory=observatory,
                                                     allow_pickle=allow_pickle)
            if content is not None:
                submitted.append(Submitted(file_report, content.header))
        report.files.append(file_report)
    keys = {}
    if rules is not None:
        keys = {i: check_against_rules(item, rules) for i, item in enumerate(submitted)}
    check_batch(submitted, keys, index if check_references_present else None)
    return report


def _cache_named_by_environment() -> bool:
    """Return True when ``CSST_CRDS_PATH`` (or ``CRDS_PATH``) names an existing cache."""
    named = any(os.environ.get(name, "").strip() for name in ("CSST_CRDS_PATH", "CRDS_PATH"))
    return named and get_settings().cache_root.is_dir()


def certify_context(cache: str | Path, context: str, *,
                    observatory: str = DEFAULT_OBSERVATORY) -> CertifyReport:
    """Certify a pmap and every mapping of its closure in a cache (used after each delivery).

    Besides each file's own checks: every named mapping and reference is present, and each
    imap and rmap agrees with the entry naming it (instrument, reference type, observatory).
    """
    index = CacheIndex(cache, observatory)
    pmap = _resolve(index, context)
    report = CertifyReport()
    pending: list[tuple[str, str, str]] = [(pmap, "", "")]  # (name, instrument, reftype)
    seen: set[str] = set()
    while pending:
        name, instrument, reftype = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        path = index.layout.mappings_dir / name
        if name not in index.mappings:
            missing = FileReport(str(path), "mapping")
            missing.error(f"mapping {name} is named by the context {pmap} but is not in the "
                          f"cache {index.layout.mappings_dir}")
            report.files.append(missing)
            continue
        file_report, ir = certify_mapping(path)
        report.files.append(file_report)
        if ir is None:
            continue
        _check_parent(file_report, ir, observatory, instrument, reftype)
        if name.endswith(".rmap"):
            _check_names_present(file_report, ir, index)
            continue
        for key, value in ir.selector.entries:
            if isinstance(value, str) and value.endswith((".imap", ".rmap")):
                child = (str(key), "") if name.endswith(".pmap") else (instrument, str(key))
                pending.append((value, *child))
    return report


def _resolve(index: CacheIndex, context: str) -> str:
    """Resolve a pmap name, or a spec such as ``csst-operational`` from the cache's config."""
    if context.strip().endswith(".pmap"):
        return Path(context.strip()).name
    config: CacheConfig = load_config(index.layout)
    return resolve_context(context, config, "the context argument")


def _check_names_present(report: FileReport, ir: MappingIR, index: CacheIndex) -> None:
    """Every reference an rmap names, and every mapping a pmap/imap names, is in the cache.

    The references present must match their manifest entries (size and SHA-256).
    """
    if Path(report.path).suffix.lower() == ".rmap":
        names = terminal_names(ir.selector)
        missing = sorted(names - index.references.keys())
        what, where = "reference", index.layout.references_dir
        layout = CacheLayout(index.layout.root, index.layout.observatory,
                             readonly=get_settings().readonly)
        for path, exc in check_references(layout, [(name, Path(index.references[name]))
                                                   for name in sorted(names - set(missing))]):
            report.error(_refused(path, exc))
    else:
        missing = sorted(terminal_names(ir.selector) - index.mappings)
        what, where = "mapping", index.layout.mappings_dir
    for name in missing:
        report.error(f"names the {what} {name}, which is not in the cache {where}")


def _refused(path: Path, exc: OSError) -> str:
    """Word a reference refused by the manifest check briefly (the message must fit the report)."""
    if isinstance(exc, ModifiedReferenceError):
        why = "its content differs from its manifest entry (modified or corrupted)"
    elif isinstance(exc, IntegrityError):
        why = "its size differs from its manifest entry (truncated or corrupt)"
    else:
        return f"names {path}, which cannot be read: {exc}"
    return (f"names {path}, but {why}; repair it with "
            "`csst-crds sync --source MIRROR --verify --repair`")


def _check_parent(report: FileReport, ir: MappingIR, observatory: str, instrument: str,
                  reftype: str) -> None:
    """Check that an imap or rmap agrees with the pmap/imap entry that names it."""
    header = ir.header_dict()
    found = str(header.get("observatory", "")).lower()
    if found and found != observatory.lower():
        report.error(f"header observatory {found!r} differs from the context's {observatory!r}")
    for field, expected in (("instrument", instrument), ("filekind", reftype)):
        value = str(header.get(field, "")).lower()
        if expected and value and value != expected.lower():
            report.error(f"header {field} {value!r} differs from the entry {expected!r} that "
                         "names this mapping")
