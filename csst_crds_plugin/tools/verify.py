"""Whole-cache integrity check.

Mappings are checked by ``sha1sum``, references by manifest SHA-256 and size, and the
configuration: ``contexts.json`` and ``server_config`` parse, are well typed, and every context
they name is cached and loads (its whole closure), the operational one included.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from csst_crds_plugin.cache import TEMP_PREFIX, CacheLayout, digest_file, read_manifest
from csst_crds_plugin.cache.config import (
    CONFIG_FILES,
    CONTEXTS_NAME,
    SERVER_CONFIG_NAME,
    config_from_files,
)
from csst_crds_plugin.errors import CacheError, CsstCrdsError, FileNotCachedError
from csst_crds_plugin.provider import ReferenceProvider
from csst_crds_plugin.rules import compute_sha1sum, parse_mapping, sha1sum_problem
from csst_crds_plugin.rules.ir import MAPPING_EXTENSIONS
from csst_crds_plugin.selectors.values import is_na_value, is_omit_value
from csst_crds_plugin.tools.delivery.journal import JOURNAL_NAME

__all__ = ["Problem", "Verification", "absent_mappings", "count_verifiable", "iter_references",
           "verify_cache", "verify_config", "verify_everything"]



@dataclass(frozen=True, slots=True)
class Problem:
    """One file that failed verification."""

    name: str
    path: str
    problem: str

    def __str__(self) -> str:
        """Render the problem as one line naming the file."""
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
    return sha1sum_problem(header, compute_sha1sum(text), path.name)


def count_verifiable(layout: CacheLayout) -> int:
    """How many files `verify_cache` checks: every mapping and every reference."""
    mappings = sum(1 for path in layout.mappings_dir.iterdir()
                   if not path.name.startswith(".") and path.name.endswith(MAPPING_EXTENSIONS)) \
        if layout.mappings_dir.is_dir() else 0
    return mappings + len(iter_references(layout))


def _named_mappings(path: Path) -> list[str]:
    """Return the mapping names a pmap or imap selects (its selector's values), in order."""
    try:
        ir = parse_mapping(path.read_bytes().decode("utf-8"), str(path))
        values = ir.selector.as_dict().values()  # type: ignore[union-attr]  # AttributeError caught
    except (UnicodeDecodeError, CsstCrdsError, AttributeError):
        return []  # reported as unreadable by the mapping check
    return [str(v) for v in values if str(v).endswith(MAPPING_EXTENSIONS)]


def absent_mappings(layout: CacheLayout) -> list[Problem]:
    """Return the mappings a cached pmap names (directly or through its imaps) but the cache lacks.

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


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of a whole-cache check: the problems and how many files were checked."""

    problems: list[Problem]
    mappings: int
    references: int
    config_files: int

    @property
    def checked(self) -> int:
        """Files checked in all."""
        return self.mappings + self.references + self.config_files


def _load_closure(layout: CacheLayout, name: str) -> None:
    """Load context `name` and every imap and rmap of its closure (CsstCrdsError if one fails)."""
    pmap = ReferenceProvider(cache=layout.root, context=name, observatory=layout.observatory,
                             ignore_checksum=True).pmap
    missing = [n for n in pmap.mapping_names() if not layout.has_mapping(n)]
    if missing:  # checked here: loaded mappings are shared, a deleted file may still be in memory
        raise FileNotCachedError(f"names mapping files absent from the cache: "
                                 f"{', '.join(missing)}")
    for instrument, imap_name in sorted(pmap.entries.items()):
        if not (is_na_value(imap_name) or is_omit_value(imap_name)):
            pmap.imap(instrument).required_keys  # noqa: B018 (loads and builds every rmap)


def verify_config(layout: CacheLayout) -> tuple[list[Problem], int]:
    """Check ``config/<obs>/``: return (problems, number of configuration files read)."""
    files: dict[str, bytes] = {}
    problems: list[Problem] = []
    for name in CONFIG_FILES:
        try:
            files[name] = (layout.config_dir / name).read_bytes()
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems.append(Problem(name, str(layout.config_dir / name),
                                    f"unreadable: {exc.strerror or exc}"))
    where = str(layout.config_dir)
    try:
        config = config_from_files(layout.observatory, files, where)
    except (CsstCrdsError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0]
        for name in (SERVER_CONFIG_NAME, CONTEXTS_NAME):  # name the file that fails alone
            try:
                config_from_files(layout.observatory, {name: files[name]}, where)
            except (CsstCrdsError, UnicodeDecodeError) as alone:
                first = str(alone).splitlines()[0]
                return problems + [Problem(name, str(layout.config_dir / name),
                                           f"invalid: {first}")], len(files)
            except KeyError:
                continue
        return problems + [Problem("config", where, f"invalid: {first}")], len(files)
    named: dict[str, list[str]] = {}
    for role, context in (("operational", config.operational), ("latest", config.latest),
                          ("edit", config.edit), ("versions", config.versions)):
        if context:
            named.setdefault(context, []).append(role)
    for entry in config.history:
        named.setdefault(entry.context, []).append("history")
    if files and not config.operational:
        problems.append(Problem("config", where, "names no operational context; lookups "
                                                 "without an explicit context will fail"))
    for context, roles in sorted(named.items()):
        origin = f"named as {'/'.join(dict.fromkeys(roles))} by {', '.join(config.sources)}"
        if not layout.has_mapping(context):
            if set(roles) == {"history"}:
                continue  # a cache may hold only some past contexts (sync --purge-mappings)
            problems.append(Problem(context, str(layout.mappings_dir),
                                    f"{origin}, but not in the cache"))
            continue
        try:
            # Each mapping's sha1sum is checked below, once; a context is "loadable" when its
            # closure is present and parses.
            _load_closure(layout, context)
        except CsstCrdsError as exc:
            problems.append(Problem(context, str(layout.mapping_path(context)),
                                    f"{origin}, but does not load: "
                                    f"{str(exc).splitlines()[0]}"))
    return problems, len(files)


def verify_cache(layout: CacheLayout, *, ignore_checksum: bool = False) -> list[Problem]:
    """Check the configuration, every mapping and every reference; the problems, by name."""
    return verify_everything(layout, ignore_checksum=ignore_checksum).problems


def verify_everything(layout: CacheLayout, *, ignore_checksum: bool = False) -> Verification:
    """Check the configuration, every mapping and every reference (see the module docstring)."""
    problem = layout.root_problem()
    if problem is not None:
        return Verification([Problem("cache", str(layout.root), problem)], 0, 0, 0)
    problems, config_files = verify_config(layout)
    mappings = references = 0
    config_files += (layout.config_dir / "manifest.json").is_file()
    try:
        manifest = read_manifest(layout)
    except CacheError as exc:  # nothing can be compared with it
        problems.append(Problem("manifest.json", str(layout.config_dir / "manifest.json"),
                                str(exc).splitlines()[0]))
        return Verification(problems, 0, 0, config_files + 1)
    if layout.mappings_dir.is_dir():
        for path in sorted(layout.mappings_dir.iterdir()):
            if path.name.startswith(".") or not path.name.endswith(MAPPING_EXTENSIONS):
                continue
            mappings += 1
            why = _check_mapping(path, ignore_checksum)
            expected = manifest.get(path.name)
            if why is None and expected is not None and digest_file(path) != expected:
                why = "sha256/size differ from the manifest"
            if why:
                problems.append(Problem(path.name, str(path), why))
    seen = set()
    for path in iter_references(layout):
        references += 1
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
        if name not in seen and not name.endswith(MAPPING_EXTENSIONS):
            problems.append(Problem(name, str(layout.references_dir), "in the manifest but "
                                                                     "missing from the cache"))
        elif name.endswith(MAPPING_EXTENSIONS) and not layout.has_mapping(name):
            problems.append(Problem(name, str(layout.mappings_dir), "in the manifest but "
                                                                   "missing from the cache"))
    journal = layout.config_dir / JOURNAL_NAME
    if journal.is_file():
        problems.append(Problem(JOURNAL_NAME, str(journal), (
            "an interrupted delivery is pending; the next command that writes the cache (e.g. "
            "`csst-crds sync --verify` on a writable cache) finishes or rolls it back")))
    return Verification(sorted(problems, key=lambda p: p.name), mappings, references,
                        config_files)
