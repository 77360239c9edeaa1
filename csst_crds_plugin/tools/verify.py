"""Whole-cache integrity check: mappings by ``sha1sum``, references by manifest SHA-256 and size."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from csst_crds_plugin.cache import TEMP_PREFIX, CacheLayout, digest_file, read_manifest
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.rules import compute_sha1sum, parse_mapping
from csst_crds_plugin.tools.delivery.journal import JOURNAL_NAME

__all__ = ["Problem", "absent_mappings", "count_verifiable", "iter_references", "verify_cache"]

_MAPPING_EXTENSIONS = (".pmap", ".imap", ".rmap")


@dataclass(frozen=True, slots=True)
class Problem:
    """One file that failed verification."""

    name: str
    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.name}: {self.problem} ({self.path})"


def iter_references(layout: CacheLayout) -> list[Path]:
    """Every reference file in the cache (flat and instrument folders; temporaries skipped)."""
    found: list[Path] = []
    top = layout.references_dir
    if not top.is_dir():
        return found
    for entry in sorted(os.scandir(top), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            found += sorted(Path(e.path) for e in os.scandir(entry.path)
                            if e.is_file() and not e.name.startswith((".", TEMP_PREFIX)))
        elif entry.is_file():
            found.append(Path(entry.path))
    return found


def _check_mapping(path: Path, ignore_checksum: bool) -> str | None:
    try:
        text = path.read_bytes().decode("utf-8")
        header = parse_mapping(text, str(path)).header_dict()
    except (UnicodeDecodeError, CsstCrdsError) as exc:
        return f"unreadable mapping: {str(exc).splitlines()[0]}"
    if ignore_checksum:
        return None
    recorded = header.get("sha1sum")
    if recorded is None:
        return "no sha1sum in the header"
    actual = compute_sha1sum(text)
    if str(recorded).lower() != actual:
        return f"sha1sum mismatch: header {recorded}, text {actual} (edited or corrupted)"
    return None


def count_verifiable(layout: CacheLayout) -> int:
    """How many files `verify_cache` checks: every mapping and every reference."""
    mappings = sum(1 for path in layout.mappings_dir.iterdir()
                   if not path.name.startswith(".") and path.name.endswith(_MAPPING_EXTENSIONS)) \
        if layout.mappings_dir.is_dir() else 0
    return mappings + len(iter_references(layout))


def _named_mappings(path: Path) -> list[str]:
    """The mapping names a pmap or imap selects (its selector's values), in order."""
    try:
        ir = parse_mapping(path.read_bytes().decode("utf-8"), str(path))
        values = ir.selector.as_dict().values()  # type: ignore[union-attr]
    except (UnicodeDecodeError, CsstCrdsError, AttributeError):
        return []  # reported as unreadable by the mapping check
    return [str(v) for v in values if str(v).endswith(_MAPPING_EXTENSIONS)]


def absent_mappings(layout: CacheLayout) -> list[Problem]:
    """Mappings that a cached pmap names (directly or through its imaps) but the cache lacks.

    Lookups fail only for the instruments that need them; verification reports them all.
    """
    problems: list[Problem] = []
    if not layout.mappings_dir.is_dir():
        return problems
    reported: set[str] = set()
    for pmap in sorted(layout.mappings_dir.glob("*.pmap")):
        for imap in _named_mappings(pmap):
            names = [imap]
            if layout.has_mapping(imap):
                names = _named_mappings(layout.mappings_dir / imap)
            for name in names:
                if name not in reported and not layout.has_mapping(name):
                    reported.add(name)
                    problems.append(Problem(name, str(layout.mappings_dir),
                                            f"named by {pmap.name} but missing from the cache; "
                                            f"fetch it with `csst-crds sync --files {name}`"))
    return problems


def verify_cache(layout: CacheLayout, *, ignore_checksum: bool = False) -> list[Problem]:
    """Check every mapping and every reference; return the problems, in name order."""
    problems: list[Problem] = []
    manifest = read_manifest(layout)
    if layout.mappings_dir.is_dir():
        for path in sorted(layout.mappings_dir.iterdir()):
            if path.name.startswith(".") or not path.name.endswith(_MAPPING_EXTENSIONS):
                continue
            why = _check_mapping(path, ignore_checksum)
            expected = manifest.get(path.name)
            if why is None and expected is not None and digest_file(path) != expected:
                why = "sha256/size differ from the manifest"
            if why:
                problems.append(Problem(path.name, str(path), why))
    seen = set()
    for path in iter_references(layout):
        seen.add(path.name)
        expected = manifest.get(path.name)
        if expected is None:
            problems.append(Problem(path.name, str(path), "not in the manifest; record it "
                                                          "with `csst-crds checksum`"))
            continue
        actual = digest_file(path)
        if actual.size != expected.size:
            problems.append(Problem(path.name, str(path),
                                    f"size {actual.size}, manifest says {expected.size}"))
        elif actual.sha256 != expected.sha256:
            problems.append(Problem(path.name, str(path),
                                    f"sha256 mismatch: file {actual.sha256[:16]}..., manifest "
                                    f"{expected.sha256[:16]}... (corrupted or replaced)"))
    problems.extend(absent_mappings(layout))
    for name in sorted(manifest):
        if name not in seen and not name.endswith(_MAPPING_EXTENSIONS):
            problems.append(Problem(name, str(layout.references_dir), "in the manifest but "
                                                                     "missing from the cache"))
        elif name.endswith(_MAPPING_EXTENSIONS) and not layout.has_mapping(name):
            problems.append(Problem(name, str(layout.mappings_dir), "in the manifest but "
                                                                   "missing from the cache"))
    journal = layout.config_dir / JOURNAL_NAME
    if journal.is_file():
        problems.append(Problem(JOURNAL_NAME, str(journal), (
            "an interrupted delivery is pending; the next command that writes the cache (e.g. "
            "`csst-crds sync --verify` on a writable cache) finishes or rolls it back")))
    return sorted(problems, key=lambda p: p.name)
