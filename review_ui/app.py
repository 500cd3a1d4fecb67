"""The web app factory: review UI pages and the JSON API (/api), one login, one tenant-scoped store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from yomitori.jobs.runtime import Runtime
from yomitori.review_ui import routers
from yomitori.review_ui.auth import SESSION_COOKIE, Sessions
from yomitori.review_ui.deps import AppState, Forbidden, NotAuthenticated, NotFound, render
from yomitori.review_ui.japanese import install as install_japanese
from yomitori.review_ui.runner import BatchRunner
from yomitori.review_ui.settings import UISettings
from yomitori.review_ui.workflow import ReviewError
from yomitori.store.db import StoreError

HERE = Path(__file__).parent
PUBLIC = ("/login", "/static/", "/api/session")  # reachable without a session (a test walks every other route)

# Page headers: nothing from elsewhere, no framing, nothing cached (pages show personal data).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app(settings: UISettings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or UISettings()
    rt = runtime or Runtime.from_settings(settings)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    install_japanese(templates)  # form names, audit actions in words, JST (review_ui/japanese.py)
    state = AppState(settings, rt.store, Sessions(settings), templates, BatchRunner(rt))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.runner.stop()

    app = FastAPI(title="yomitori", summary="読取 AI-OCR: batches, documents, fields, review",
                  description="JSON API of yomitori. Log in with POST /api/session; send the returned csrf_token "
                              "as X-CSRF-Token on every POST.",
                  docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.yomitori = state
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for router in routers.ALL:
        app.include_router(router)
    _errors(app, state)
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + 1024 * 1024)  # + the multipart envelope

    @app.middleware("http")
    async def session_and_headers(request: Request, call_next) -> Response:
        response = await call_next(request)
        session = getattr(request.state, "session", None)
        if session is not None and not getattr(request.state, "logged_out", False):
            response.set_cookie(SESSION_COOKIE, state.sessions.dumps(session), **state.sessions.cookie_args())
        for k, v in SECURITY_HEADERS.items():
            if k != "Cache-Control" or not request.url.path.startswith("/static/"):
                response.headers.setdefault(k, v)
        return response

    return app


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuse a request body over `limit` bytes while it streams in (a declared length is refused before reading)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send)
            return
        seen = 0
        started = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _too_large(send)


async def _too_large(send: Any) -> None:
    body = json.dumps({"detail": "ファイルが大きすぎます（YOMITORI_MAX_UPLOAD_BYTES）"}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "") \
        or request.headers.get("content-type", "").startswith("application/json")


def _errors(app: FastAPI, state: AppState) -> None:
    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, _exc: NotAuthenticated) -> Response:
        if _wants_json(request) or request.method != "GET":
            return JSONResponse({"detail": "ログインが必要です"}, status_code=401)
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, _exc: Forbidden) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "この操作の権限がありません"}, status_code=403)
        return render(state, request, "error.html", {"title": "権限がありません",
                                                     "message": "この画面を使う権限がありません。"}, 403)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, _exc: NotFound) -> Response:
        return _missing(request)

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> Response:
        if str(exc).startswith("no "):  # another tenant's row looks exactly like a missing one
            return _missing(request)
        raise exc

    @app.exception_handler(ReviewError)
    async def review_error(request: Request, exc: ReviewError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=409)
        return render(state, request, "error.html", {"title": "操作できません", "message": str(exc)}, 409)

    def _missing(request: Request) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "見つかりません"}, status_code=404)
        return render(state, request, "error.html", {"title": "見つかりません",
                                                     "message": "指定されたものは見つかりません。"}, 404)
