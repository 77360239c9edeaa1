"""The console's browse routes (GET only).

Home, contexts, rules, references, diff, coverage, explain, search and the audit log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from csst_crds_plugin.web.render import Renderer
    from csst_crds_plugin.web.view import CacheView



class Console(Protocol):
    """What the browse routes use of the console (`csst_crds_plugin.web.app.Console`)."""

    view: CacheView

    def renderer(self) -> Renderer:
        """Return a renderer of the cache's pages (made for each request)."""

__all__ = ["browse_routes", "parse_parameters"]


def parse_parameters(text: str) -> dict[str, str]:
    """``KEY=VALUE`` pairs, one a line or separated by spaces."""
    found = {}
    for item in text.split():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"parameter {item!r} is not KEY=VALUE (e.g. DETECTOR=06)")
        found[key.upper()] = value
    return found


def browse_routes(console: Console) -> list[Route]:
    """Return the GET routes over `console`'s cache."""

    def html(render: Any, *args: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            values = [request.path_params[a] for a in args]
            text = await run_in_threadpool(lambda: render(console.renderer(), *values))
            return HTMLResponse(text)
        return endpoint

    async def diff(request: Request) -> Response:
        old, new = request.query_params.get("a", ""), request.query_params.get("b", "")
        text = await run_in_threadpool(lambda: console.renderer().diff(old, new, 0))
        return HTMLResponse(text)

    async def coverage(request: Request) -> Response:
        from csst_crds_plugin.tools.coverage import coverage as compute

        date = request.query_params.get("date", "").strip()
        context = request.query_params.get("context", "").strip() or None
        max_age_text = request.query_params.get("max_age", "").strip()
        limits = {}
        for item in filter(None, (p.strip() for p in max_age_text.split(","))):
            reftype, sep, days = item.partition("=")
            if not sep:
                raise ValueError(f"max age {item!r} is not TYPE=DAYS (e.g. bias=1)")
            limits[reftype.strip()] = float(days)

        def render() -> str:
            report = compute(console.view.layout.root, context=context, date=date or None,
                             max_age=limits)
            return console.renderer().coverage(report, date, max_age_text)

        return HTMLResponse(await run_in_threadpool(render))

    async def explain(request: Request) -> Response:
        from csst_crds_plugin.provider import ReferenceProvider

        reftype = request.query_params.get("type", "").strip()
        params = request.query_params.get("params", "")
        context = request.query_params.get("context", "").strip() or None
        explanation = ""
        if reftype:
            parameters = parse_parameters(params)

            def run() -> str:
                provider = ReferenceProvider(cache=console.view.layout.root, context=context,
                                             observatory=console.view.layout.observatory)
                return str(provider.explain(parameters, reftype))

            explanation = await run_in_threadpool(run)
        text = console.renderer().page("explain.html", "Explain a selection", 0,
                                       reftype=reftype, params=params, context=context,
                                       explanation=explanation)
        return HTMLResponse(text)

    async def search(request: Request) -> Response:
        q = request.query_params.get("q", "")
        renderer = console.renderer()
        hits = await run_in_threadpool(renderer.view.search, q)
        return HTMLResponse(renderer.page("search.html", "Search", 0, q=q, hits=hits))

    return [
        Route("/", html(lambda r: r.home()), methods=["GET"]),
        Route("/context/{name}", html(lambda r, n: r.context(n), "name"), methods=["GET"]),
        Route("/rmap/{name}", html(lambda r, n: r.rmap(n), "name"), methods=["GET"]),
        Route("/reference/{name}", html(lambda r, n: r.reference(n), "name"), methods=["GET"]),
        Route("/references", html(lambda r: r.references()), methods=["GET"]),
        Route("/audit", html(lambda r: r.audit()), methods=["GET"]),
        Route("/diff", diff, methods=["GET"]),
        Route("/coverage", coverage, methods=["GET"]),
        Route("/explain", explain, methods=["GET"]),
        Route("/search", search, methods=["GET"]),
    ]
