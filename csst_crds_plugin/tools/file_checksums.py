"""``csst-crds checksum``: the reference manifest, and mapping ``sha1sum`` added, fixed or verified.

Mappings carry their own ``sha1sum`` (RULES.md §1.4); references are recorded by SHA-256 and size
in ``config/<obs>/manifest.json``. A mapping whose header has a ``sha1sum`` keeps its text and
only the value changes; one without gets the canonical rewrite CRDS ``checksum`` does (comments
dropped), refused when duplicate keys would be merged silently.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csst_crds_plugin.cache import CacheLayout, digest_file, read_manifest, update_manifest
from csst_crds_plugin.cache.layout import atomic_open
from csst_crds_plugin.cache.manifest import Digest
from csst_crds_plugin.errors import (
    CacheError,
    CsstCrdsError,
    ReadOnlyCacheError,
    RuleValidationError,
)
from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY
from csst_crds_plugin.rules import (
    DictNode,
    MappingIR,
    SelectorNode,
    compute_sha1sum,
    format_mapping,
    parse_mapping,
    set_sha1sum,
    sha1sum_problem,
)
from csst_crds_plugin.rules.ir import MAPPING_EXTENSIONS
from csst_crds_plugin.settings import get_settings
from csst_crds_plugin.tools.verify import iter_references

__all__ = ["FileCheck", "ManifestUpdate", "rewrite_sha1sums", "verify_files", "write_manifest"]



@dataclass
class ManifestUpdate:
    """What ``write_manifest`` recorded."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged}


@dataclass(frozen=True, slots=True)
class FileCheck:
    """The verification of one file: ``problem`` is None when it passed."""

    name: str
    path: str
    kind: str
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when the file passed."""
        return self.problem is None

    def __str__(self) -> str:
        """Render the result as one line: OK or PROBLEM, the name and why."""
        if self.ok:
            return f"OK {self.name}"
        return f"PROBLEM {self.name}: {self.problem} ({self.path})"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {"name": self.name, "path": self.path, "kind": self.kind, "ok": self.ok,
                "problem": self.problem}


def _layout(cache: str | Path | None, observatory: str) -> CacheLayout:
    settings = get_settings()
    return CacheLayout(cache if cache is not None else settings.cache_root, observatory,
                       readonly=settings.readonly)


def write_manifest(cache: str | Path | None = None, observatory: str = DEFAULT_OBSERVATORY, *,
                   names: Sequence[str] = (), rehash: bool = False) -> ManifestUpdate:
    """Record SHA-256 and size of the cache's files in ``config/<obs>/manifest.json``.

    Files not yet in the manifest are added. A recorded file is re-hashed only when named in
    `names` or with `rehash` (so a corrupted file is never silently blessed).
    """
    layout = _layout(cache, observatory)
    layout.require_writable(str(layout.config_dir / "manifest.json"))
    current = read_manifest(layout)
    files = list(iter_references(layout))
    if layout.mappings_dir.is_dir():
        files += sorted(p for p in layout.mappings_dir.iterdir()
                        if p.suffix in MAPPING_EXTENSIONS and not p.name.startswith("."))
    known = {path.name for path in files}
    missing = [name for name in names if name not in known]
    if missing:
        raise CacheError(f"not in the cache {layout.root}: {', '.join(missing)}")
    result = ManifestUpdate()
    updates: dict[str, Digest] = {}
    for path in files:
        if path.name in current and not rehash and path.name not in names:
            result.unchanged += 1
            continue
        digest = digest_file(path)
        if current.get(path.name) == digest:
            result.unchanged += 1
            continue
        updates[path.name] = digest
        (result.updated if path.name in current else result.added).append(path.name)
    update_manifest(layout, updates)
    return result


def _dicts(value: Any) -> Iterator[DictNode]:
    if isinstance(value, SelectorNode):
        value = value.body
    if isinstance(value, DictNode):
        yield value
        for _key, item in value.entries:
            yield from _dicts(item)
    elif isinstance(value, tuple):
        for item in value:
            yield from _dicts(item)


def _refuse_duplicates(ir: MappingIR) -> None:
    for node in (ir.header, *_dicts(ir.selector)):
        seen: set[object] = set()
        offsets = node.entry_offsets or (node.offset,) * len(node.entries)
        for (key, _value), offset in zip(node.entries, offsets, strict=True):
            if key in seen:
                line = ir.source.locate(offset)[0]
                raise RuleValidationError(
                    f"{ir.path}:{line}: duplicate key {key!r}; the canonical rewrite that adds "
                    "a sha1sum would merge it silently. Remove one of the entries (`csst-crds "
                    "certify` lists them all), then run `csst-crds checksum` again"
                )
            seen.add(key)


def _with_sha1sum(text: str, path: Path) -> str:
    """Return the text with a correct sha1sum: in place if the header has one, else canonical."""
    ir = parse_mapping(text, str(path))  # never checksum a file that does not parse
    if "sha1sum" in {str(k) for k, _v in ir.header.entries}:
        try:
            return set_sha1sum(text)
        except ValueError:  # the value is not a plain one-line string: rewrite canonically
            pass
    _refuse_duplicates(ir)
    return format_mapping(ir, update_checksum=True)


def rewrite_sha1sums(paths: Sequence[str | Path], *, cache: str | Path | None = None,
                     observatory: str = DEFAULT_OBSERVATORY) -> list[str]:
    """Add or fix the ``sha1sum`` of mapping files in place (atomically); return changed paths.

    A rewritten mapping of the cache that the manifest records is re-recorded there too.
    """
    if get_settings().readonly:
        raise ReadOnlyCacheError("CSST_CRDS_READONLY is set: mapping files cannot be rewritten")
    layout = _layout(cache, observatory)
    changed = []
    recorded: dict[str, Digest] = {}
    manifest = read_manifest(layout)
    for item in paths:
        path = Path(item)
        if str(item) == path.name and not path.exists() and layout.has_mapping(path.name):
            path = layout.mapping_path(path.name)  # a bare name: the cache's mapping
        if not path.name.endswith(MAPPING_EXTENSIONS):
            raise RuleValidationError(f"{path}: not a mapping (.pmap, .imap, .rmap); record "
                                      "references with `csst-crds checksum --update NAME`")
        try:
            text = path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            raise CacheError(f"{path}: no such mapping file") from None
        except UnicodeDecodeError as exc:
            raise RuleValidationError(f"{path}: not UTF-8 text ({exc})") from exc
        new = _with_sha1sum(text, path)
        if new == text:
            continue
        with atomic_open(path) as stream:
            stream.write(new.encode("utf-8"))
        changed.append(str(path))
        if path.name in manifest and _same_file(path, layout.mapping_path(path.name)):
            recorded[path.name] = digest_file(path)
    if recorded:
        update_manifest(layout, recorded)
    return changed


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _check_mapping(path: Path) -> str | None:
    try:
        text = path.read_bytes().decode("utf-8")
        header = parse_mapping(text, str(path)).header_dict()
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text ({exc})"
    except CsstCrdsError as exc:
        return str(exc).splitlines()[0]
    return sha1sum_problem(header, compute_sha1sum(text), str(path))


def verify_files(files: Sequence[str | Path], *, cache: str | Path | None = None,
                 observatory: str = DEFAULT_OBSERVATORY) -> list[FileCheck]:
    """Verify named files: a mapping by its ``sha1sum``, a reference by the cache manifest.

    Each file is a path or a plain name in the cache. A mapping that the manifest records is
    also compared with its entry.
    """
    layout = _layout(cache, observatory)
    manifest = read_manifest(layout)
    checks = []
    for item in files:
        given = Path(item)
        name = given.name
        is_mapping = name.endswith(MAPPING_EXTENSIONS)
        path: Path | None = given if given.is_file() else None
        if path is None and str(item) == name:
            path = (layout.mapping_path(name) if layout.has_mapping(name) else None) \
                if is_mapping else layout.find_reference(name)
        kind = "mapping" if is_mapping else "reference"
        if path is None:
            checks.append(FileCheck(name, str(item), kind, f"no such file (nor in the cache "
                                                           f"{layout.root})"))
            continue
        problem = _check_mapping(path) if is_mapping else None
        expected = manifest.get(name)
        if is_mapping and not _same_file(path, layout.mapping_path(name)):
            expected = None  # a mapping outside the cache: its sha1sum says it all
        if problem is None and expected is None and not is_mapping:
            problem = (f"not in the manifest {layout.config_dir / 'manifest.json'}; record it "
                       f"with `csst-crds checksum --update {name}`")
        elif problem is None and expected is not None:
            actual = digest_file(path)
            if actual != expected:
                problem = (f"sha256/size differ from the manifest (file {actual.sha256[:16]}..., "
                           f"{actual.size} bytes; manifest {expected.sha256[:16]}..., "
                           f"{expected.size} bytes): corrupted or replaced; restore it, or "
                           f"re-record an intended change with `csst-crds checksum --update "
                           f"{name}`")
        checks.append(FileCheck(name, str(path), kind, problem))
    return checks
