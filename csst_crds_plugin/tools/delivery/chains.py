"""Dependency chains in one delivery: a dark naming the bias submitted beside it, and so on.

A reference's dependency keywords (``R_BIAS``, ``R_DARK``, and any keyword the certify
constraints declare with ``format = "reference"``) may name a reference already in the cache or,
by its file name, another file of the same submission. :func:`order_submissions` checks every
dependency (present, same instrument and chip, no cycle) and returns the submission in an order
where each file comes after the files it depends on. Under the rules lock, once every file has
its unique name, :func:`rewrite_dependencies` writes the assigned names into the dependants'
headers (temporary file, fsync, rename; the new digest journalled first) and hashes them again,
so the manifest and the cache hold the rewritten files.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from csst_crds_plugin.cache.layout import CacheLayout, atomic_open
from csst_crds_plugin.cache.manifest import Digest
from csst_crds_plugin.tools.certify.constraints import constraints_for
from csst_crds_plugin.tools.delivery.errors import DependencyError
from csst_crds_plugin.tools.delivery.journal import note_created
from csst_crds_plugin.tools.delivery.submission import DEPENDENCIES, Submission, read_header

__all__ = ["dependency_keywords", "order_submissions", "rewrite_dependencies"]

_CHIP_KEYWORDS = ("INSTRUME", "DETECTOR")


class _Staged(Protocol):
    submission: Submission
    temp: Path
    digest: Digest
    name: str


def dependency_keywords(observatory: str, instrument: str, reftype: str,
                        header: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Return the dependency keywords of a reference: (required, present in `header`)."""
    rules = constraints_for(observatory, instrument, reftype).keywords
    declared = {name for name, rule in rules.items() if rule.format == "reference"}
    required = set(DEPENDENCIES.get(reftype, ())) | {
        name for name in declared if rules[name].presence == "required"}
    declared |= set(DEPENDENCIES.get(reftype, ()))
    present = [name for name in sorted(declared) if name in header]
    return sorted(required), present


def _value(header: Mapping[str, Any], keyword: str) -> str:
    value = header.get(keyword)
    return "" if value is None else str(value).strip().removeprefix("crds://")


def _same(one: Any, other: Any) -> bool:
    return str(one).strip().upper() == str(other).strip().upper()


def _cached_header(layout: CacheLayout, name: str, instrument: str) -> dict[str, Any] | None:
    try:
        path = layout.find_reference(Path(name).name, instrument)
    except OSError:  # an unsafe name is not a reference of the cache
        return None
    return None if path is None else read_header(path)


def order_submissions(layout: CacheLayout,
                      submissions: Sequence[Submission]) -> list[Submission]:
    """Check every dependency and return `submissions` with each file after its dependencies.

    Raises DependencyError naming every problem: a required keyword missing, a name neither
    cached nor submitted, a dependency of another instrument or chip, or a cycle.
    """
    by_name: dict[str, Submission] = {}
    for item in submissions:
        if item.path.name in by_name:
            raise DependencyError(f"{item.path} and {by_name[item.path.name].path} have the same "
                                  "file name; dependencies name siblings by file name, so give "
                                  "each file of a delivery a distinct name")
        by_name[item.path.name] = item
    problems: list[str] = []
    edges: dict[str, set[str]] = {item.path.name: set() for item in submissions}
    for item in submissions:
        required, present = dependency_keywords(layout.observatory, item.instrument,
                                                item.reftype, item.header)
        for keyword in sorted(set(required) | set(present)):
            name = _value(item.header, keyword)
            if not name:
                problems.append(f"{item.path}: a {item.reftype} must name the reference it was "
                                f"built from in {keyword} (its name in the cache, the file name "
                                "of another file of this delivery, or 'N/A')")
                continue
            if name.upper() == "N/A":
                continue
            if name in by_name:  # a file of this delivery (itself: a cycle of one)
                edges[item.path.name].add(name)
                other: Mapping[str, Any] | None = by_name[name].header
            else:
                other = _cached_header(layout, name, item.instrument)
            if other is None:
                problems.append(f"{item.path}: {keyword}={name!r} is neither a reference in the "
                                f"cache {layout.references_dir} nor a file of this delivery; "
                                "deliver it first or add it to this delivery")
                continue
            for field in _CHIP_KEYWORDS:
                mine, theirs = item.header.get(field), other.get(field)
                if mine is not None and theirs is not None and not _same(mine, theirs):
                    problems.append(f"{item.path}: {keyword}={name!r} is of {field} {theirs!r}, "
                                    f"but this reference has {field} {mine!r}; a reference must "
                                    f"be built from references of its own {field}")
    if problems:
        raise DependencyError("; ".join(problems))
    return [by_name[name] for name in _topological(edges)]


def _topological(edges: Mapping[str, set[str]]) -> list[str]:
    """Names ordered so each comes after the names it depends on; DependencyError on a cycle."""
    done: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            loop = path[path.index(name):] + [name]
            raise DependencyError(f"the delivery's dependencies form a cycle: "
                                  f"{' -> '.join(loop)}; a reference cannot be built, directly "
                                  "or not, from itself")
        state[name] = 1
        for other in sorted(edges[name]):
            visit(other, [*path, name])
        state[name] = 2
        done.append(name)

    for name in edges:
        visit(name, [])
    return done


def rewrite_dependencies(layout: CacheLayout, staged: Iterable[_Staged]) -> dict[str, str]:
    """Write the assigned cache names into the dependants' headers; rehash them.

    Call under the rules lock once every file of `staged` has its unique ``name`` (each file
    lies at ``temp.parent / name``). Returns ``{cache name: keywords rewritten}``.
    """
    items = list(staged)
    assigned = {item.submission.path.name: item.name for item in items}
    done: dict[str, str] = {}
    for item in items:
        sub = item.submission
        _, present = dependency_keywords(layout.observatory, sub.instrument, sub.reftype,
                                         sub.header)
        changes = {keyword: assigned[_value(sub.header, keyword)] for keyword in present
                   if _value(sub.header, keyword) in assigned
                   and assigned[_value(sub.header, keyword)] != item.name}
        if not changes:
            continue
        path = item.temp.parent / item.name
        if sub.extension not in (".fits", ".fit", ".fts"):
            raise DependencyError(
                f"{sub.path}: {', '.join(changes)} name(s) a file of this delivery, but only a "
                "FITS header can be rewritten with the assigned name; deliver the dependency "
                "first and put its cache name in the header")
        item.digest = _rewrite_fits(path, changes)
        done[item.name] = ", ".join(f"{k}={v}" for k, v in changes.items())
    return done


def _rewrite_fits(path: Path, changes: Mapping[str, str]) -> Digest:
    """Set header keywords of a FITS file (every HDU that has them, else the primary).

    The new content's digest is recorded in the delivery's journal before the file is
    replaced, so a rollback (or the recovery after a kill) removes the file whichever content
    it has.
    """
    from astropy.io import fits

    with fits.open(path, memmap=False, lazy_load_hdus=False) as hdus:
        for keyword, value in changes.items():
            holders = [hdu for hdu in hdus if keyword in hdu.header] or [hdus[0]]
            for hdu in holders:
                hdu.header[keyword] = value
        # a header with CHECKSUM/DATASUM gets them recomputed, so they stay true
        checksum = any("CHECKSUM" in hdu.header for hdu in hdus)
        buffer = io.BytesIO()
        hdus.writeto(buffer, output_verify="exception", checksum=checksum)
    data = buffer.getvalue()
    digest = Digest(hashlib.sha256(data).hexdigest(), len(data))
    note_created(path, digest)
    with atomic_open(path) as stream:
        stream.write(data)
    return digest
