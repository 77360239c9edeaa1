"""``csst-crds sync``: copy context closures from a mirror, verify, repair.

Order of writes, so that readers never see an incomplete context: references first (with
``--references``), then rmaps, imaps and pmaps, then the manifest entries, then the config that
may name a new operational context. Every file is verified (mirror manifest SHA-256 and size, or
a mapping's ``sha1sum``) while it is written to a temporary name, and renamed only if it passes.
If any file failed (a full disk, the network), no pmap and no config is written: the contexts the
cache names keep their whole closure. A sync that was killed is finished by running it again:
every file it keeps, fetched now or found already present, is recorded in the manifest (a
present file not recorded yet is hashed and compared with the mirror's manifest first).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csst_crds_plugin.cache import CacheLayout, check_name, instrument_of_name
from csst_crds_plugin.cache.config import (
    CONFIG_FILES,
    CONTEXTS_NAME,
    CacheConfig,
    config_from_files,
    render_contexts_json,
    resolve_context,
)
from csst_crds_plugin.cache.killpoint import kill_point
from csst_crds_plugin.cache.manifest import (
    MANIFEST_NAME,
    Digest,
    digest_file,
    parse_manifest,
    read_manifest,
    update_manifest,
)
from csst_crds_plugin.context import InstrumentMapping, PipelineMapping, ReferenceMapping
from csst_crds_plugin.errors import CacheError, ConfigurationError, CsstCrdsError, IntegrityError
from csst_crds_plugin.loader import MappingLoader
from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY
from csst_crds_plugin.progress import Progress
from csst_crds_plugin.rules import compute_sha1sum, parse_mapping, sha1sum_problem
from csst_crds_plugin.rules.ir import MAPPING_EXTENSIONS
from csst_crds_plugin.settings import get_settings
from csst_crds_plugin.tools.delivery.lock import rules_lock
from csst_crds_plugin.tools.mirrors import open_mirror
from csst_crds_plugin.tools.verify import Problem, Verification, verify_cache, verify_everything

__all__ = ["SyncReport", "Syncer", "sync"]

log = logging.getLogger(__name__)
_CHUNK = 1 << 20


@dataclass
class SyncReport:
    """What a sync did."""

    contexts: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    present: int = 0
    bytes: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    seconds: float = 0.0
    verified: Verification | None = None
    """What a verification without a mirror checked (files by kind)."""
    published: bool = True
    """False when a failure kept the new contexts and config from being written."""

    @property
    def ok(self) -> bool:
        """True when nothing failed and no problem remains."""
        return not self.failed and not self.problems

    def summary(self) -> str:
        """Return a one-paragraph summary."""
        lines = [
            f"contexts: {', '.join(self.contexts) or '-'}",
            f"fetched {len(self.fetched)} files ({self.bytes / 1e6:.1f} MB), {self.present} "
            f"already present, {len(self.failed)} failed, in {self.seconds:.1f} s",
        ]
        lines += [f"FAILED {name}: {why}" for name, why in sorted(self.failed.items())]
        if not self.published:
            lines.append("no new context published (its files are not all here); run the sync "
                         "again once the failures are fixed")
        lines += [f"repaired {name}" for name in self.repaired]
        lines += [f"PROBLEM {p}" for p in self.problems]
        return "\n".join(lines)


def _mapping_ok(data: bytes, name: str, expected: Digest | None, check_sha1: bool) -> str | None:
    """Why mapping bytes are wrong, or None."""
    if expected is not None:
        actual = Digest(hashlib.sha256(data).hexdigest(), len(data))
        if actual != expected:
            return f"sha256/size differ from the mirror manifest ({actual.size} bytes)"
    if check_sha1:
        try:
            text = data.decode("utf-8")
            header = parse_mapping(text, name).header_dict()
        except (UnicodeDecodeError, CsstCrdsError) as exc:
            return f"unreadable: {str(exc).splitlines()[0]}"
        return sha1sum_problem(header, compute_sha1sum(text), name)
    return None


class Syncer:
    """One sync from a mirror into a cache: the mirror's manifest and configuration, read once.

    `sync` drives it; the command line's ``--dry-run`` uses `contexts` and `closure` alone
    to list what a sync would fetch without writing anything.

    Parameters
    ----------
    layout : CacheLayout
        The cache written into.
    source : str
        The mirror: a directory or an ``http(s)://`` URL.
    jobs : int
        Parallel downloads (at least one).
    check_sha1 : bool
        Check each mapping's recorded ``sha1sum``.
    progress : Progress
        Where the counts go.
    """

    def __init__(self, layout: CacheLayout, source: str, jobs: int, check_sha1: bool,
                 progress: Progress) -> None:
        self.layout = layout
        self.mirror = open_mirror(source)
        self.jobs = max(1, jobs)
        self.check_sha1 = check_sha1
        self.progress = progress
        self.report = SyncReport()
        obs = layout.observatory
        self.obs = obs
        raw = self.mirror.read(f"config/{obs}/{MANIFEST_NAME}")
        self.manifest = parse_manifest(raw, f"{self.mirror.label}/config/{obs}/{MANIFEST_NAME}") \
            if raw is not None else {}
        self.config_files = {name: data for name in (*CONFIG_FILES, "ref_cache_subdir_mode")
                             if (data := self.mirror.read(f"config/{obs}/{name}")) is not None}
        self.config: CacheConfig = config_from_files(
            obs, {k: v for k, v in self.config_files.items() if k in CONFIG_FILES},
            f"{self.mirror.label}/config/{obs}")
        self.texts: dict[str, bytes] = {}
        self.new_mappings: dict[str, bytes] = {}
        self.digests: dict[str, Digest] = {}
        self.local = dict(read_manifest(layout))
        self.lock = threading.Lock()

    def _map(self, function: Callable[[str], None], names: Iterable[str]) -> None:
        names = list(names)
        self.progress.add(len(names), "sync: mappings")
        _run_all(self.jobs, function, names)

    # -- contexts ------------------------------------------------------------------------------
    def contexts(self, specs: Sequence[str], all_contexts: bool) -> list[str]:
        """Pick the pmaps to sync: all the mirror's, those `specs` name, or the operational one."""
        if all_contexts:
            names = set(e.context for e in self.config.history)
            names.update(n for n in (self.config.operational, self.config.latest) if n)
            listed = self.mirror.list_names(f"mappings/{self.obs}")
            names.update(n for n in (listed or self.manifest) if n.endswith(".pmap"))
            return sorted(names)
        if specs:
            return [resolve_context(spec, self.config, "--contexts") for spec in specs]
        if not self.config.operational:
            raise ConfigurationError(
                f"the mirror {self.mirror.label} names no operational context in "
                f"config/{self.obs}/; pass --contexts NAME.pmap or --all")
        return [self.config.operational]

    # -- mappings ------------------------------------------------------------------------------
    def _get_mapping(self, name: str) -> None:
        try:
            path = self.layout.mapping_path(name)
            expected = self.manifest.get(name)
            if path.is_file():
                data = self.layout.inside(path).read_bytes()
                if _mapping_ok(data, name, expected, self.check_sha1) is None:
                    self.texts[name] = data
                    digest = Digest(hashlib.sha256(data).hexdigest(), len(data))
                    if self.local.get(name) != digest:  # kept, so recorded
                        self.digests[name] = digest
                    self.report.present += 1
                    self.progress.step()
                    return
            fetched = self.mirror.read(f"mappings/{self.obs}/{name}")
            if fetched is None:
                raise CacheError(f"not on the mirror {self.mirror.label}")
            data = fetched
            why = _mapping_ok(data, name, expected, self.check_sha1)
            if why:
                raise IntegrityError(f"mirror copy refused: {why}")
            self.texts[name] = self.new_mappings[name] = data
            self.digests[name] = Digest(hashlib.sha256(data).hexdigest(), len(data))
            with self.lock:
                self.report.bytes += len(data)
                self.progress.step(len(data))
        except (CsstCrdsError, OSError) as exc:
            self.report.failed[name] = str(exc).splitlines()[0]
            self.progress.step()

    def closure(self, contexts: list[str]) -> dict[str, str | None]:
        """Fetch mappings level by level; return {reference: instrument} they can select."""
        def source(name: str) -> tuple[str, str, tuple[int, int]]:
            data = self.texts[name]
            return (f"{self.mirror.label}/mappings/{self.obs}/{name}", data.decode("utf-8"),
                    (len(data), int(hashlib.sha256(data).hexdigest()[:15], 16)))

        loader = MappingLoader(source, self.texts.__contains__, ignore_checksum=True,
                               label=self.mirror.label)
        references: dict[str, str | None] = {}
        level = contexts
        while level:
            self._map(self._get_mapping, [n for n in dict.fromkeys(level) if n not in self.texts])
            following: list[str] = []
            for name in level:
                if name not in self.texts:
                    continue
                try:
                    mapping = loader.load(name)
                except CsstCrdsError as exc:
                    self.report.failed[name] = str(exc).splitlines()[0]
                    continue
                # the loader builds each kind from the name's extension
                if isinstance(mapping, PipelineMapping):
                    following += [v for v in mapping.entries.values()
                                  if v.lower() not in ("n/a", "omit")]
                elif isinstance(mapping, InstrumentMapping):
                    following += mapping.rmap_names()
                elif isinstance(mapping, ReferenceMapping):
                    instrument = str(mapping.header.get("instrument", "")).lower() or None
                    for ref in mapping.reference_names():
                        references.setdefault(ref, instrument)
            level = [n for n in dict.fromkeys(following) if n not in self.texts]
        return references

    # -- references ----------------------------------------------------------------------------
    def _mirror_paths(self, name: str, instrument: str | None) -> list[str]:
        base = f"references/{self.obs}"
        instrument = instrument or instrument_of_name(name)
        mode = self.config_files.get("ref_cache_subdir_mode", b"").decode().strip()
        paths = [f"{base}/{name}"]
        if instrument:
            paths.insert(0 if mode != "flat" else 1, f"{base}/{instrument}/{name}")
        return paths

    def _get_reference(self, name: str, instrument: str | None, force: bool = False) -> None:
        try:
            check_name(name, "reference")
            expected = self.manifest.get(name)
            found = self.layout.find_reference(name, instrument)
            if found is not None and not force and self._keep(name, found, expected):
                self.report.present += 1
                self.progress.step()
                return
            target = found or self.layout.reference_target(name, instrument)
            for relpath in self._mirror_paths(name, instrument):
                try:
                    digest = self._download(relpath, target, expected)
                except FileNotFoundError:
                    continue
                self.digests[name] = digest
                self.report.fetched.append(name)
                self.progress.step(digest.size)
                kill_point("sync-reference-written")
                return
            raise CacheError(f"not on the mirror {self.mirror.label}")
        except (CsstCrdsError, OSError) as exc:
            self.report.failed[name] = str(exc).splitlines()[0]
            self.progress.step()

    def _keep(self, name: str, found: Path, expected: Digest | None) -> bool:
        """Whether a present reference is kept (and then recorded), or fetched again."""
        if expected is not None and found.stat().st_size != expected.size:
            return False
        if self.local.get(name) == expected and expected is not None:
            return True
        if expected is None and name in self.local:
            return True
        digest = digest_file(found)  # present but not recorded: an interrupted sync's file
        if expected is not None and digest != expected:
            return False
        self.digests[name] = digest
        return True

    def _download(self, relpath: str, target: Path, expected: Digest | None) -> Digest:
        with self.mirror.stream(relpath) as (stream, length), \
                self.layout.atomic_writer(target) as out:
            sha = hashlib.sha256()
            size = 0
            while chunk := stream.read(_CHUNK):
                sha.update(chunk)
                out.write(chunk)
                size += len(chunk)
            digest = Digest(sha.hexdigest(), size)
            if expected is not None and digest != expected:
                raise IntegrityError(
                    f"{self.mirror.label}/{relpath}: sha256/size {digest.sha256[:12]}/{size} "
                    f"differ from the mirror manifest {expected.sha256[:12]}/{expected.size}")
            if expected is None and length is not None and size != length:
                raise IntegrityError(f"{self.mirror.label}/{relpath}: truncated ({size} of "
                                     f"{length} bytes)")
            if expected is None:
                log.warning("%s: not in the mirror's manifest; checked by size only", relpath)
        with self.lock:
            self.report.bytes += size
        return digest

    def references(self, wanted: dict[str, str | None]) -> None:
        """Fetch the `wanted` references (name: instrument or None), `jobs` at a time."""
        self.progress.add(len(wanted), "sync: references")
        _run_all(self.jobs, lambda item: self._get_reference(*item), sorted(wanted.items()))

    # -- finish --------------------------------------------------------------------------------
    def write_mappings(self) -> None:
        """Bottom-up, so that a visible pmap has its closure; no pmap if any file failed."""
        order = {".rmap": 0, ".imap": 1, ".pmap": 2}
        for name in sorted(self.new_mappings, key=lambda n: (order.get(n[-5:], 0), n)):
            if name.endswith(".pmap") and self.report.failed:
                continue
            self.layout.write_bytes(self.layout.mapping_path(name), self.new_mappings[name])
            self.report.fetched.append(name)
            kill_point("sync-mapping-written")

    def write_config(self) -> None:
        """Manifest entries, then the config (not when a file failed: see the module doc)."""
        update_manifest(self.layout, self.digests)
        kill_point("sync-manifest-written")
        if self.report.failed:
            self.report.published = False
            return
        with self.layout.config_lock():
            for name, data in self.config_files.items():
                if name == "ref_cache_subdir_mode" or name == CONTEXTS_NAME:
                    continue
                self.layout.write_bytes(self.layout.config_dir / name, data)
            config = CacheConfig(
                observatory=self.obs, operational=self.config.operational,
                latest=self.config.latest if CONTEXTS_NAME in self.config_files else None,
                history=self.config.history, mirror=self.mirror.label,
                bad_files=self.config.bad_files if CONTEXTS_NAME in self.config_files
                else frozenset())
            self.layout.write_bytes(self.layout.config_dir / CONTEXTS_NAME,
                                    render_contexts_json(config))


def sync(cache: str | Path | None, source: str | None, *, observatory: str = DEFAULT_OBSERVATORY,
         contexts: Sequence[str] = (), all_contexts: bool = False, references: bool = False,
         files: Sequence[str] = (), verify: bool = False, repair: bool = False, jobs: int = 4,
         progress: Progress | None = None) -> SyncReport:
    """Copy the closure of `contexts` (default: the mirror's operational one) from `source`.

    Parameters
    ----------
    cache, source : path or URL
        The cache root (default: the settings' root) and the mirror (directory or http(s) URL).
    contexts, all_contexts : context specs, or every context the mirror knows.
    references : also fetch every reference the contexts can select.
    files : extra reference names to fetch.
    verify, repair : check the whole cache afterwards; refetch what fails.
    jobs : parallel transfers.
    """
    settings = get_settings()
    layout = CacheLayout(cache if cache is not None else settings.cache_root, observatory,
                         readonly=settings.readonly)
    progress = progress or Progress(enabled=False)
    started = time.monotonic()
    if not layout.readonly and (source is not None or layout.root.is_dir()):
        # (verifying a missing cache must not create it: verify reports it missing)
        with rules_lock(layout):  # finish or roll back an update a killed process left
            pass
    if source is None:
        if repair or not verify:
            raise ConfigurationError("--source DIR|URL is needed to fetch or repair files")
        found = verify_everything(layout, ignore_checksum=settings.ignore_checksum)
        report = SyncReport(problems=found.problems, verified=found)
        report.seconds = time.monotonic() - started
        return report
    layout.require_writable("files fetched from the mirror")
    layout.clean_stale_temps()
    syncer = Syncer(layout, source, jobs, not settings.ignore_checksum, progress)
    mode_file = layout.config_dir / "ref_cache_subdir_mode"
    if not mode_file.exists():
        layout.write_bytes(mode_file, f"{layout.subdir_mode()}\n".encode())
    names = syncer.contexts(contexts, all_contexts) if (contexts or all_contexts or not files) \
        else []
    syncer.report.contexts = names
    wanted = syncer.closure(names)
    chosen = dict(wanted) if references else {}
    chosen.update({name: None for name in files if name not in chosen})
    syncer.references(chosen)
    syncer.write_mappings()
    syncer.write_config()
    progress.close()
    report = syncer.report
    if verify:
        report.problems = verify_cache(layout, ignore_checksum=settings.ignore_checksum)
        if repair and report.problems:
            _repair(syncer, report, wanted)
    report.seconds = time.monotonic() - started
    return report


def _repair(syncer: Syncer, report: SyncReport, known: dict[str, str | None]) -> None:
    for problem in report.problems:
        name = problem.name
        if name.endswith(MAPPING_EXTENSIONS):
            syncer.texts.pop(name, None)
            syncer._get_mapping(name)
            if name in syncer.new_mappings:
                syncer.layout.write_bytes(syncer.layout.mapping_path(name),
                                          syncer.new_mappings.pop(name))
        else:
            syncer._get_reference(name, known.get(name), force=True)
        if name not in report.failed:
            report.repaired.append(name)
    update_manifest(syncer.layout, {k: v for k, v in syncer.digests.items()
                                    if k in report.repaired})
    report.problems = verify_cache(syncer.layout, ignore_checksum=not syncer.check_sha1)


def _run_all(jobs: int, function: Callable[[Any], None], items: Iterable[Any]) -> None:
    """Run `function` on every item with `jobs` threads.

    On Ctrl-C, start no new item and let the running ones finish (each writes its file whole or
    not at all).
    """
    pool = ThreadPoolExecutor(jobs)
    try:
        list(pool.map(function, items))
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
