"""certify_files and certify_context: the entry points of certify."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from csst_crds_plugin.cache import CacheLayout
from csst_crds_plugin.tools.certify.mapping_checks import MAPPING_EXTENSIONS, certify_mapping
from csst_crds_plugin.tools.certify.reference_checks import certify_reference
from csst_crds_plugin.tools.certify.report import CertifyReport, FileReport

__all__ = ["certify_context", "certify_files"]


def certify_files(paths: Iterable[str | Path], *, cache: str | Path | None = None,
                  observatory: str = "csst", context: str | None = None,
                  allow_pickle: bool = False,
                  check_references_present: bool = True) -> CertifyReport:
    """Certify reference files and mapping files (chosen by extension).

    `cache` (a root path) lets mapping checks see which references exist; `context` (a pmap
    name) lets a reference be checked against the rmap that would receive it.
    """
    report = CertifyReport()
    for path in paths:
        if Path(path).suffix.lower() in MAPPING_EXTENSIONS:
            file_report, _ir = certify_mapping(path)
        else:
            file_report = certify_reference(path, allow_pickle=allow_pickle)
        report.files.append(file_report)
    return report


def certify_context(cache: str | Path, context: str, *,
                    observatory: str = "csst") -> CertifyReport:
    """Certify a pmap and every mapping of its closure in a cache (used after each delivery)."""
    layout = CacheLayout(cache, observatory)
    report = CertifyReport()
    pending = [Path(context).name]
    seen: set[str] = set()
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        path = layout.mappings_dir / name
        if not path.is_file():
            missing = FileReport(str(path), "mapping")
            missing.error(f"mapping {name} is named by the context {context} but is not in "
                          f"the cache {layout.mappings_dir}")
            report.files.append(missing)
            continue
        file_report, ir = certify_mapping(path)
        report.files.append(file_report)
        if ir is not None and not name.endswith(".rmap"):
            pending.extend(str(v) for _k, v in ir.selector.entries
                           if isinstance(v, str) and v.endswith((".imap", ".rmap")))
    return report
