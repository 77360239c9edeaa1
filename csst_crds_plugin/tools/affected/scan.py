"""Build a catalogue by scanning FITS and ASDF files: one row per file (one detector-exposure).

The engine does not import the data models, so headers are read here with astropy and asdf
directly and mapped to selection parameters by :data:`KEYWORDS`, and INSTRUME, DETECTOR and
FILTER are normalised (:func:`normalise_row`), both from the observatory description the data
models read too: for any file, the row equals the matching entries of
``get_crds_parameters()`` of the data models. Each keyword is looked for in the
header the data models write it to, then in the other one (primary or the ``SCI`` extension,
else the first image extension), then under its aliases; an ASDF file is read from its
``meta`` tree. An ISO ``DATE-OBS`` holding a time is split into ``DATE-OBS`` and ``TIME-OBS``
(as the data models do). Values are otherwise taken as written.

Another reader can be plugged in: any callable ``path -> {keyword: value}``, e.g. one that
opens the file with the data models and returns ``get_crds_parameters()``.
"""

from __future__ import annotations

import importlib
import multiprocessing
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csst_crds_plugin.errors import InputLimitError
from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY, get_observatory
from csst_crds_plugin.observatories.keywords import (
    normalise_detector,
    normalise_filter,
    normalise_instrument,
)
from csst_crds_plugin.progress import Phase, Progress
from csst_crds_plugin.tools.affected.catalog import Catalog, CatalogError
from csst_crds_plugin.tools.inputs import check_asdf, read_fits_headers

__all__ = [
    "KEYWORDS",
    "SUFFIXES",
    "Keyword",
    "build_catalog",
    "load_reader",
    "normalise_row",
    "scan_file",
]

SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".asdf")
"""Files the scan reads."""


@dataclass(frozen=True)
class Keyword:
    """A selection keyword: where the data models keep it in FITS and in ASDF ``meta``."""

    name: str
    meta_path: tuple[str, ...]
    in_sci: bool = False
    aliases: tuple[str, ...] = ()


def _described_keywords() -> tuple[Keyword, ...]:
    described = get_observatory(DEFAULT_OBSERVATORY)
    return tuple(Keyword(k.name, tuple(k.path.split(".")), in_sci=k.header == "SCI",
                         aliases=k.aliases) for k in described.keywords)


KEYWORDS: tuple[Keyword, ...] = _described_keywords()
"""The selection keywords a scan reads: the observatory description's (``csst.toml``), the
same declaration the data models write them by."""

Reader = Callable[[Path], Mapping[str, object]]


def _fits_headers(path: Path) -> list[Any]:
    """Return the primary header and the SCI one (else the first image extension with data).

    Headers only, read with limits (tools/inputs.py): data sections are skipped, never read.
    """
    hdus = read_fits_headers(path, stop=lambda hdu: hdu.index > 0 and hdu.name == "SCI")
    sci = next((h.header for h in hdus[1:] if h.name == "SCI"), None)
    first = next((h.header for h in hdus[1:] if h.is_image and h.header.get("NAXIS")), None)
    return [hdus[0].header, sci if sci is not None else first]


def _scalar(value: object) -> object:
    item = getattr(value, "item", None)
    if item is not None:  # numpy scalars from ASDF
        value = item()
    return value if isinstance(value, (str, int, float, bool)) else None


def _read_fits(path: Path, extra: Sequence[str]) -> dict[str, object]:
    primary, sci = _fits_headers(path)
    found: dict[str, object] = {}
    for keyword in (*KEYWORDS, *(Keyword(k.upper(), ()) for k in extra)):
        order = [sci, primary] if keyword.in_sci else [primary, sci]
        for name in (keyword.name, *keyword.aliases):
            value = next((h[name] for h in order if h is not None and name in h), None)
            value = _scalar(value)
            if value is not None:
                found[keyword.name] = value.strip() if isinstance(value, str) else value
                break
    return found


def _read_asdf(path: Path, extra: Sequence[str]) -> dict[str, object]:
    import asdf

    check_asdf(path)
    with asdf.open(path, lazy_load=True, memmap=False) as af:
        meta = af.tree.get("meta") or {}
        found: dict[str, object] = {}
        for keyword in KEYWORDS:
            node: Any = meta
            for part in keyword.meta_path:
                node = node.get(part) if isinstance(node, Mapping) else None
            value = _scalar(node)
            if value is not None:
                found[keyword.name] = value
        cards = {str(c[0]).upper(): c[1] for cs in (af.tree.get("extra_fits") or {}).values()
                 for c in cs if isinstance(c, (list, tuple)) and len(c) >= 2}
        for name in extra:
            value = _scalar(cards.get(name.upper()))
            if value is not None:
                found[name.upper()] = value
    return found


def scan_file(path: str | Path, extra: Sequence[str] = ()) -> dict[str, object]:
    """Return the selection parameters of one FITS or ASDF file (see the module docstring)."""
    path = Path(path)
    try:
        found = _read_asdf(path, extra) if path.suffix.lower() == ".asdf" \
            else _read_fits(path, extra)
    except InputLimitError as exc:
        raise CatalogError(str(exc)) from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CatalogError(f"{path}: cannot read its header: {exc}") from exc
    except Exception as exc:  # asdf and astropy raise more kinds on a corrupt file
        raise CatalogError(f"{path}: cannot read its header ({type(exc).__name__}: {exc}); "
                           "is it a complete FITS or ASDF file?") from exc
    normalise_row(found)
    date = found.get("DATE-OBS")
    if isinstance(date, str):
        day, sep, time = date.strip().replace(" ", "T", 1).partition("T")
        if sep and time:
            found["DATE-OBS"] = day
            found.setdefault("TIME-OBS", time)
    return found


def normalise_row(found: dict[str, object]) -> dict[str, object]:
    """INSTRUME, DETECTOR and FILTER as the data models normalise them (``CCD06`` → ``06``).

    The rules are the observatory description's, the same the data models apply; a value the
    tables do not accept is kept as written (selection then reports it).
    """
    described = get_observatory(DEFAULT_OBSERVATORY)
    raw = found.get("INSTRUME")
    if not isinstance(raw, str):
        return found
    try:
        instrument = found["INSTRUME"] = normalise_instrument(described, raw)
    except ValueError:
        return found
    detector = found.get("DETECTOR")
    if isinstance(detector, (str, int)) and not isinstance(detector, bool):
        try:
            detector = found["DETECTOR"] = normalise_detector(described, instrument, detector)[0]
        except ValueError:
            detector = None
    try:
        band = normalise_filter(described, instrument,
                                detector if isinstance(detector, str) else None,
                                found.get("FILTER"))[0]
    except ValueError:
        return found
    if band is not None:
        found["FILTER"] = band
    return found


def load_reader(spec: str) -> Reader:
    """Import a reader named ``module:function`` (a plug-in; it runs as the user's code)."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise CatalogError(f"reader {spec!r} is not MODULE:FUNCTION")
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise CatalogError(f"reader {spec!r} cannot be loaded: {exc}") from exc
    if not callable(found):
        raise CatalogError(f"reader {spec!r} is not callable")
    return found  # type: ignore[no-any-return]  # a reader: callable, checked above


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise CatalogError(f"{folder}: not a directory")
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and p.name.lower().endswith(SUFFIXES)
                  and not p.name.startswith("."))


def _scan_batch(paths: Sequence[Path], extra: Sequence[str], reader: str | None,
                skip: bool) -> list[dict[str, object] | str]:
    read = load_reader(reader) if reader else None
    found: list[dict[str, object] | str] = []
    for path in paths:
        try:
            row = dict(read(path)) if read else scan_file(path, extra)
        except Exception as exc:  # a plug-in reader may raise anything
            problem = exc if isinstance(exc, CatalogError) else \
                CatalogError(f"{path}: the reader failed: {type(exc).__name__}: {exc}")
            if not skip:
                raise problem from exc
            found.append(str(problem))
            continue
        found.append(row)
    return found


def _batches(paths: list[Path], size: int) -> Iterator[list[Path]]:
    for start in range(0, len(paths), size):
        yield paths[start:start + size]


def build_catalog(folder: str | Path, *, extra: Sequence[str] = (), reader: str | None = None,
                  jobs: int = 1, skip_unreadable: bool = False, progress: bool | None = False,
                  problems: list[str] | None = None) -> Catalog:
    """Scan `folder` recursively; the id of a row is the file's path relative to `folder`.

    Parameters
    ----------
    extra : sequence of str
        More header keywords to record (FITS headers; ASDF ``extra_fits`` cards).
    reader : str, optional
        ``module:function`` reading one path instead of the built-in scan.
    jobs : int
        Worker processes.
    skip_unreadable : bool
        Skip (and list in `problems`) files that cannot be read, instead of failing.
    """
    folder = Path(folder)
    paths = _files(folder)
    display = Progress(enabled=progress)
    bar = display.phase("catalog", len(paths), "files")
    rows: list[dict[str, object]] = []
    ids: list[str] = []
    batches = list(_batches(paths, 64))
    args = (tuple(extra), reader, skip_unreadable)
    if jobs > 1 and len(batches) > 1:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = pool.map(_scan_batch, batches, *([a] * len(batches) for a in args))
            found = list(_gather(results, batches, bar))
    else:
        found = list(_gather((_scan_batch(b, *args) for b in batches), batches, bar))
    display.close()
    for path, row in found:
        if isinstance(row, str):
            if problems is not None:
                problems.append(row)
            continue
        rows.append(row)
        ids.append(path.relative_to(folder).as_posix())
    return Catalog.from_rows(rows, ids, source=str(folder))


def _gather(results: Any, batches: list[list[Path]], bar: Phase
            ) -> Iterator[tuple[Path, dict[str, object] | str]]:
    for batch, found in zip(batches, results, strict=True):
        bar.advance(len(batch))
        yield from zip(batch, found, strict=True)
