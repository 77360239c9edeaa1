"""Rendering the console's pages with Jinja2, for the server and for the static site.

Every link is relative to the page it is on (``url()`` prefixes ``../`` per folder level), so the
same templates serve ``csst-crds serve`` (``context/csst_0003.pmap``) and a static copy opened
from disk (``context/csst_0003.pmap.html``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import ChainableUndefined, Environment, PackageLoader, select_autoescape

from csst_crds_plugin.tools.diffing.report import diff_files
from csst_crds_plugin.tools.diffing.rules import RuleChange
from csst_crds_plugin.web.view import CacheView

__all__ = ["Renderer", "diff_rows"]

_PAGES = {"context", "rmap", "reference"}
_SITE_PAGES = {"home": "index.html", "coverage": "coverage.html", "audit": "audit.html",
               "references": "references.html"}


def diff_rows(view: CacheView, old: str, new: str) -> list[dict[str, Any]]:
    """Return the differences between two contexts, rule by rule, as table rows."""
    for name in (old, new):
        view.mapping(name)  # NotFoundError unless both are cached mappings
    report = diff_files(old, new, cache=view.layout.root, observatory=view.layout.observatory)
    rows = []
    for change in report.differences:
        data = change.to_dict()
        if isinstance(change, RuleChange):
            rows.append({"mapping": change.rmap, "action": change.action,
                         "where": " / ".join(str(k) for k in change.path),
                         "old": data.get("old") or "", "new": data.get("new") or "",
                         "old_files": change.old_files(), "new_files": change.new_files()})
        else:
            rows.append({"mapping": str(data.get("new_mapping") or data.get("old_mapping")),
                         "action": str(data.get("action", "")), "where": str(data.get("key")),
                         "old": data.get("old") or "", "new": data.get("new") or "",
                         "old_files": [], "new_files": []})
    return rows


class Renderer:
    """Renders pages of one cache; `live` for the server (forms), else the static site."""

    def __init__(self, view: CacheView, *, live: bool) -> None:
        self.view, self.live = view, live
        self.env = Environment(loader=PackageLoader("csst_crds_plugin.web", "templates"),
                               autoescape=select_autoescape(default=True),
                               undefined=ChainableUndefined)  # absent header keys: empty

    def url_builder(self, depth: int) -> Callable[..., str]:
        """``url(kind, *names)`` for a page `depth` folders below the root."""
        root = "../" * depth

        def url(kind: str, *names: str) -> str:
            if self.live:
                if kind == "home":
                    return root or "./"
                if kind == "diff" and len(names) == 2:
                    return f"{root}diff?{urlencode({'a': names[0], 'b': names[1]})}"
                tail = "/".join(quote(n, safe="") for n in names)
                return f"{root}{kind}/{tail}" if tail else f"{root}{kind}"
            if kind in _SITE_PAGES:
                return root + _SITE_PAGES[kind]
            if kind == "diff" and len(names) == 2:
                return f"{root}diff/{quote(names[0], safe='')}__{quote(names[1], safe='')}.html"
            if kind in _PAGES and len(names) == 1:
                return f"{root}{kind}/{quote(names[0], safe='')}.html"
            raise ValueError(f"the static site has no {kind} page")

        return url

    def page(self, template: str, title: str, depth: int, **context: Any) -> str:
        """Render `template` for a page `depth` folders below the root."""
        return self.env.get_template(template).render(
            title=title, live=self.live, url=self.url_builder(depth), **context)

    # -- the browse pages, shared by server and site -------------------------------------------
    def home(self) -> str:
        """Operational and latest context, history, every context."""
        view = self.view
        return self.page("home.html", "Contexts", 0, config=view.config,
                         contexts=view.contexts(),
                         observatory=view.layout.observatory)

    def context(self, name: str) -> str:
        """Return a context as instruments -> types -> rmaps."""
        view = self.view
        header = view.mapping(name).header_dict()
        config = view.config
        marks = [m for m, n in (("operational", config.operational),
                                ("latest", config.latest_context)) if n == name]
        return self.page("context.html", name, 1, name=name, header=header, marks=marks,
                         tree=view.context_tree(name), config=config)

    def rmap(self, name: str) -> str:
        """Return an rmap's rules as a table."""
        header, columns, rows = self.view.rules(name)
        return self.page("rmap.html", name, 1, header=header, columns=columns, rows=rows,
                         bad=self.view.config.bad_files)

    def reference(self, name: str) -> str:
        """Return a reference's page."""
        return self.page("reference.html", name, 1, page=self.view.reference(name))

    def references(self) -> str:
        """Every cached reference."""
        return self.page("references.html", "References", 0,
                         names=self.view.reference_names(), bad=self.view.config.bad_files)

    def diff(self, old: str, new: str, depth: int) -> str:
        """Return the differences between two contexts (a form without them, on the server)."""
        changes = diff_rows(self.view, old, new) if old and new else []
        title = f"{old} → {new}" if old and new else "Compare two contexts"
        return self.page("diff.html", title, depth, a=old, b=new, changes=changes,
                         contexts=self.view.contexts())

    def coverage(self, report: Any, date_value: str = "", max_age_value: str = "") -> str:
        """Return the coverage table."""
        return self.page("coverage.html", "Coverage", 0, report=report, date_value=date_value,
                         max_age_value=max_age_value,
                         references=set(self.view.reference_names()))

    def audit(self) -> str:
        """Return the audit log, newest first."""
        from csst_crds_plugin.tools.audit import read_audit

        return self.page("audit.html", "Audit log", 0,
                         entries=list(reversed(read_audit(self.view.layout))))
