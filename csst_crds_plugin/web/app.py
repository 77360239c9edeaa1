"""``csst-crds serve``: the console as a Starlette application.

Browsing is open. Submitting (``submit`` role), activating (``activate``) and marking bad files
(``bad``) need the token of a user with that role, given in the form's ``token`` field or an
``Authorization: Bearer`` header. A refused request (no or wrong token, oversize upload, a path
in a file name, a stale form) gets an error page and changes nothing. Deliveries go through the
same transaction as the CLI, in a worker thread, so parallel submissions are safe.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from csst_crds_plugin.errors import CsstCrdsError
from csst_crds_plugin.observatories import DEFAULT_OBSERVATORY
from csst_crds_plugin.tools.audit import audit_delivery
from csst_crds_plugin.tools.users import User, authenticate
from csst_crds_plugin.web.render import Renderer
from csst_crds_plugin.web.view import CacheView, NotFoundError

__all__ = ["Console", "RequestRefused", "create_app"]

_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,199}")
_UPLOAD_TTL = 3600.0
_CHUNK = 1 << 20


class RequestRefused(Exception):  # noqa: N818 (a refusal shown as a page, not a fault)
    """A request the console refuses: its HTTP status and the message shown."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Upload:
    folder: Path
    files: list[Path]
    user: str
    description: str
    activate: bool
    created: float = field(default_factory=time.monotonic)


class Console:
    """The console's state: the cache, the renderer and the uploads awaiting confirmation."""

    def __init__(self, cache: str | Path, *, observatory: str = DEFAULT_OBSERVATORY,
                 max_upload_mb: float = 1024.0, upload_dir: str | Path | None = None) -> None:
        self.view = CacheView(cache, observatory)
        self.max_upload = int(max_upload_mb * 1024 * 1024)
        self.max_upload_mb = max_upload_mb
        self.upload_dir = Path(upload_dir) if upload_dir else None
        self.uploads: dict[str, _Upload] = {}
        self._lock = threading.Lock()

    @property
    def layout(self) -> Any:
        """The cache layout (writable: the console changes the cache)."""
        from csst_crds_plugin.cache.layout import CacheLayout

        return CacheLayout(self.view.layout.root, self.view.layout.observatory)

    def renderer(self) -> Renderer:
        """Return a renderer over a fresh view (so each request reads the cache as it is now)."""
        return Renderer(CacheView(self.view.layout.root, self.view.layout.observatory),
                        live=True)

    # -- uploads --------------------------------------------------------------------------------
    def keep_upload(self, upload: _Upload) -> str:
        """Remember an upload until it is confirmed; return its one-time id."""
        key = secrets.token_urlsafe(16)
        with self._lock:
            self._expire()
            self.uploads[key] = upload
        return key

    def take_upload(self, key: str, user: User) -> _Upload:
        """Return the upload `key` (once only), if it is the user's; else a stale-form refusal."""
        with self._lock:
            self._expire()
            upload = self.uploads.get(key)
            if upload is None or upload.user != user.name:
                raise RequestRefused(409, "this form is stale: the upload it confirms is "
                                          "unknown, expired or already delivered; upload the "
                                          "files again")
            del self.uploads[key]
        return upload

    def _expire(self, ttl: float = _UPLOAD_TTL) -> None:
        now = time.monotonic()
        for key, upload in list(self.uploads.items()):
            if now - upload.created >= ttl:
                shutil.rmtree(upload.folder, ignore_errors=True)
                del self.uploads[key]

    def drop_uploads(self) -> None:
        """Remove every upload still waiting for confirmation (when the server stops)."""
        with self._lock:
            self._expire(ttl=0.0)


def _token(request: Request, form: Any) -> str:
    value = form.get("token") if form is not None else None
    if isinstance(value, str) and value.strip():
        return value.strip()
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def _require(console: Console, request: Request, form: Any, role: str) -> User:
    token = _token(request, form)
    if not token:
        raise RequestRefused(401, f"a token is required to {role}: give the token of a user "
                                  f"with the '{role}' role (`csst-crds users add NAME --role "
                                  f"{role}`)")
    user = authenticate(console.view.layout, token)
    if user is None:
        raise RequestRefused(401, "the token is not valid for this cache; ask for a new one "
                                  "(`csst-crds users token NAME`)")
    if not user.may(role):
        raise RequestRefused(403, f"user {user.name} does not have the '{role}' role")
    return user


def _page(console: Console, status: int, message: str) -> HTMLResponse:
    html = console.renderer().page("error.html", "Request refused", 0, message=message)
    return HTMLResponse(html, status_code=status)


def _check_length(console: Console, request: Request) -> None:
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise RequestRefused(411, "the request must state its length (Content-Length)")
    if int(length) > console.max_upload:
        raise RequestRefused(413, f"the upload is {int(length) / 2**20:.1f} MB; at most "
                                  f"{console.max_upload_mb:g} MB per request")


def _upload_name(item: UploadFile) -> str:
    name = item.filename or ""
    if not _FILE_NAME.fullmatch(name) or ".." in name:
        raise RequestRefused(400, f"file name {name!r} is not a plain file name (letters, "
                                  "digits, '_', '.', '+', '-'; no folder or path); rename the "
                                  "file and upload it again")
    return name


async def _save_uploads(console: Console, form: Any) -> tuple[Path, list[Path]]:
    items = [i for i in form.getlist("files") if isinstance(i, UploadFile) and i.filename]
    if not items:
        raise RequestRefused(400, "choose one or more reference files to upload")
    names = [_upload_name(item) for item in items]
    if len(set(names)) != len(names):
        raise RequestRefused(400, "two uploaded files have the same name; give each its own")
    folder = Path(tempfile.mkdtemp(prefix="csst-crds-upload-", dir=console.upload_dir))
    paths = []
    try:
        for item, name in zip(items, names, strict=True):
            target = folder / name
            with target.open("xb") as stream:
                while chunk := await item.read(_CHUNK):
                    stream.write(chunk)
            paths.append(target)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, paths


def _preview_rows(console: Console, paths: list[Path]) -> tuple[list[dict[str, Any]], bool]:
    from csst_crds_plugin.tools.certify import certify_files
    from csst_crds_plugin.tools.delivery.chains import order_submissions
    from csst_crds_plugin.tools.delivery.submission import read_submission

    layout = console.view.layout
    latest = console.view.config.latest_context
    report = certify_files(paths, cache=layout.root, observatory=layout.observatory,
                           context=latest)
    rows = []
    for item in report.files:
        messages = [f"error: {m}" for m in item.errors] + [f"warning: {m}" for m in
                                                           item.warnings]
        rows.append({"name": Path(item.path).name, "ok": not item.errors,
                     "messages": messages})
    ok = report.ok
    if ok:
        try:
            order_submissions(layout, [read_submission(p) for p in paths])
        except CsstCrdsError as exc:
            ok = False
            rows.append({"name": "(dependencies)", "ok": False, "messages": [str(exc)]})
    return rows, ok


def create_app(cache: str | Path, *, observatory: str = DEFAULT_OBSERVATORY,
               max_upload_mb: float = 1024.0,
               upload_dir: str | Path | None = None) -> Starlette:
    """Return the console application over `cache`."""
    console = Console(cache, observatory=observatory, max_upload_mb=max_upload_mb,
                      upload_dir=upload_dir)
    from csst_crds_plugin.web.routes import browse_routes

    async def submit_form(request: Request) -> Response:
        html = console.renderer().page("submit.html", "Submit references", 0,
                                       max_upload_mb=f"{max_upload_mb:g}")
        return HTMLResponse(html)

    async def submit(request: Request) -> Response:
        _check_length(console, request)
        async with request.form(max_files=200, max_fields=20) as form:
            user = _require(console, request, form, "submit")
            folder, paths = await _save_uploads(console, form)
            description = str(form.get("description") or "")
            activate = form.get("activate") == "1"
        try:
            rows, ok = await run_in_threadpool(_preview_rows, console, paths)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        key = ""
        if ok:
            key = console.keep_upload(_Upload(folder, paths, user.name, description, activate))
        else:
            shutil.rmtree(folder, ignore_errors=True)
        html = console.renderer().page("preview.html", "Certify result", 0, files=rows, ok=ok,
                                       upload=key, token=_token(request, form),
                                       activate=activate)
        return HTMLResponse(html, status_code=200 if ok else 422)

    async def confirm(request: Request) -> Response:
        from csst_crds_plugin.tools.delivery import deliver

        async with request.form(max_files=0, max_fields=10) as form:
            user = _require(console, request, form, "submit")
            upload = console.take_upload(str(form.get("upload") or ""), user)
        try:
            result = await run_in_threadpool(
                deliver, console.view.layout.root, upload.files,
                description=upload.description or None, activate=upload.activate,
                observatory=console.view.layout.observatory)
        finally:
            shutil.rmtree(upload.folder, ignore_errors=True)
        names = [(Path(p).name, n) for p, n in result.names.items()]
        await run_in_threadpool(audit_delivery, console.view.layout.root, result,
                                console.view.layout.observatory, upload.description,
                                user=user.name, source="web")
        html = console.renderer().page(
            "result.html", "Delivered", 0, names=names, context=result.context,
            message=f"{len(names)} file(s) delivered as {result.context}, derived from "
                    f"{result.derived_from}.")
        return HTMLResponse(html)

    async def activate(request: Request) -> Response:
        from csst_crds_plugin.tools.activation import activate_context

        async with request.form(max_files=0, max_fields=10) as form:
            user = _require(console, request, form, "activate")
            context = str(form.get("context") or "")
            expected = str(form.get("expected") or "") or None
            description = str(form.get("description") or "")
        if expected is None and console.view.config.operational is not None:
            raise RequestRefused(409, "this form is stale: it does not say which context was "
                                      "operational when it was shown; reload the page")
        await run_in_threadpool(activate_context, console.layout, context, user=user.name,
                                source="web", description=description,
                                expected_operational=expected)
        html = console.renderer().page("result.html", "Activated", 0, names=[],
                                       context=context,
                                       message=f"{context} is now the operational context.")
        return HTMLResponse(html)

    async def bad(request: Request) -> Response:
        from csst_crds_plugin.tools.badfiles import mark_bad

        async with request.form(max_files=0, max_fields=10) as form:
            user = _require(console, request, form, "bad")
            name = str(form.get("name") or "")
            action = str(form.get("action") or "")
            reason = str(form.get("reason") or "")
        if action not in ("mark", "unmark"):
            raise RequestRefused(400, "action must be 'mark' or 'unmark'")
        changed = await run_in_threadpool(mark_bad, console.layout, [name], action == "mark",
                                          user=user.name, source="web", reason=reason)
        state = "marked bad" if action == "mark" else "no longer bad"
        html = console.renderer().page("result.html", f"{action.title()}ed bad", 0, names=[],
                                       context=None, message=f"{name}: {state}" +
                                       ("" if changed else " (unchanged)") + ".")
        return HTMLResponse(html)

    async def refused(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, RequestRefused):  # registered for RequestRefused only
            raise exc
        return _page(console, exc.status, str(exc))

    async def not_found(request: Request, exc: Exception) -> Response:
        return _page(console, 404, str(exc).splitlines()[0])

    async def domain_error(request: Request, exc: Exception) -> Response:
        status = 409 if type(exc).__name__ == "StaleContextError" else 400
        return _page(console, status, str(exc).splitlines()[0] or type(exc).__name__)

    routes = [*browse_routes(console),
              Route("/submit", submit_form, methods=["GET"]),
              Route("/submit", submit, methods=["POST"]),
              Route("/confirm", confirm, methods=["POST"]),
              Route("/activate", activate, methods=["POST"]),
              Route("/bad", bad, methods=["POST"])]
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        console.drop_uploads()

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        RequestRefused: refused, NotFoundError: not_found, CsstCrdsError: domain_error,
        ValueError: domain_error})
    app.state.console = console
    return app
