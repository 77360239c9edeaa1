"""``csst-crds site``: the console's browse pages as static HTML, links relative.

Writes ``index.html`` (contexts and history), ``context/<pmap>.html``, ``rmap/<rmap>.html``,
``reference/<name>.html``, ``diff/<old>__<new>.html`` for each context and the one it was
derived from, ``coverage.html``, ``references.html`` and ``audit.html``. Every file is written
atomically; pages of files no longer in the cache are removed, so regenerating is safe.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from csst_crds_plugin.cache.layout import atomic_open
from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY
from csst_crds_plugin.web.render import Renderer
from csst_crds_plugin.web.view import CacheView

__all__ = ["SITE_MARK", "write_site"]

SITE_MARK = ".csst-crds-site"
"""A file marking a folder as written by ``csst-crds site`` (only such a folder is pruned)."""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as stream:
        stream.write(text.encode("utf-8"))


def write_site(cache: str | Path, out: str | Path, *, observatory: str = DEFAULT_OBSERVATORY,
               date: str | None = None, certify: bool = True) -> list[Path]:
    """Write the static site of `cache` into `out`; return the pages written."""
    from csst_crds_plugin.tools.coverage import coverage

    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / SITE_MARK).exists():
        raise CsstCrdsError(f"{out} is not empty and was not written by `csst-crds site`; give "
                            "an empty or new folder")
    out.mkdir(parents=True, exist_ok=True)
    (out / SITE_MARK).touch()
    view = CacheView(cache, observatory)
    renderer = Renderer(view, live=False)
    pages: dict[Path, str] = {out / "index.html": renderer.home(),
                              out / "references.html": renderer.references(),
                              out / "audit.html": renderer.audit(),
                              out / "coverage.html": renderer.coverage(
                                  coverage(view.layout.root, date=date,
                                           context=view.config.operational))}
    for info in view.contexts():
        pages[out / "context" / f"{info.name}.html"] = renderer.context(info.name)
        if info.derived_from.endswith(".pmap") and view.layout.has_mapping(info.derived_from):
            pages[out / "diff" / f"{info.derived_from}__{info.name}.html"] = renderer.diff(
                info.derived_from, info.name, 1)
    for name in view.mapping_names(".rmap"):
        pages[out / "rmap" / f"{name}.html"] = renderer.rmap(name)
    for name in view.reference_names():
        page = view.reference(name, with_certify=certify)
        pages[out / "reference" / f"{name}.html"] = renderer.page(
            "reference.html", name, 1, page=page)
    for path, text in pages.items():
        _write(path, text)
    for folder in ("context", "rmap", "reference", "diff"):
        for stale in (out / folder).glob("*.html"):
            if stale not in pages:
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()
    return sorted(pages)
