"""Logging in and out (pages and API), and the start page each role lands on."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from yomitori.review_ui import auth, session_store
from yomitori.review_ui.deps import CSRF, AnyUser, Repo, SessionDep, State, render
from yomitori.store.db import StoreError
from yomitori.store.models import Role

router = APIRouter(include_in_schema=False)

HOME = {Role.operator: "/batches", Role.reviewer: "/review", Role.administrator: "/admin/users",
        Role.auditor: "/audit"}


def _safe_next(target: str | None) -> str | None:
    """Only a path of this site (never //host or a URL) may follow the login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _tenant_field(state: State) -> dict[str, object]:
    """The login form asks for a tenant code only where there are several (a single-tenant install never asks)."""
    try:
        return {"tenant": state.store.default_tenant(), "ask_tenant": False}
    except StoreError:
        return {"tenant": "", "ask_tenant": True}


def _tenant(state: State, typed: str | None) -> str:
    """The tenant typed, or the only one there is; "" where several exist and none was typed (login fails)."""
    if typed and typed.strip():
        return typed.strip()
    try:
        return state.store.default_tenant()
    except StoreError:
        return ""


@router.get("/login")
def login_form(request: Request, state: State, next: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(state, request, "login.html", {"next": _safe_next(next) or "", "login_csrf": token,
                                                     "message": ""} | _tenant_field(state))
    response.set_cookie(auth.LOGIN_CSRF_COOKIE, token, max_age=3600, **state.sessions.cookie_args())
    return response


@router.post("/login")
def login_submit(request: Request, state: State, username: Annotated[str, Form()],
                 password: Annotated[str, Form()], tenant: Annotated[str, Form()] = "",
                 csrf_token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "") -> Response:
    asked = _tenant_field(state) | ({"tenant": tenant} if tenant else {})
    if not auth.same_token(csrf_token, request.cookies.get(auth.LOGIN_CSRF_COOKIE)):
        return render(state, request, "login.html", {"next": next, "login_csrf": csrf_token,
                                                     "message": "画面の有効期限が切れました。もう一度入力してください"}
                      | asked, 400)
    tenant = _tenant(state, tenant)
    if not tenant:
        return render(state, request, "login.html", {"next": next, "login_csrf": csrf_token, "username": username,
                                                     "message": "自治体コードを入力してください"} | asked, 401)
    result = auth.login(state.store, state.settings, tenant, username, password)
    if result.user is None:
        return render(state, request, "login.html", {"next": next, "login_csrf": csrf_token,
                                                     "username": username, "message": result.message} | asked, 401)
    session = state.sessions.new(result.user, tenant, result.token)
    response = RedirectResponse(_safe_next(next) or HOME[result.user.role], status_code=303)
    response.set_cookie(auth.SESSION_COOKIE, state.sessions.dumps(session), **state.sessions.cookie_args())
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout", dependencies=[CSRF])
def logout(request: Request, repo: Repo, user: AnyUser, s: SessionDep) -> Response:
    session_store.end_session(repo, s.sid)  # the cookie is worth nothing from now on, even if kept
    request.state.logged_out = True
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(user: AnyUser) -> Response:
    return RedirectResponse(HOME[user.role], status_code=303)


# ---------------------------------------------------------------- API


class Credentials(BaseModel):
    tenant: str | None = None  # needed only where the installation has several tenants
    username: str
    password: str


class SessionOut(BaseModel):
    username: str
    role: str
    tenant: str
    csrf_token: str  # send as X-CSRF-Token on every POST


api_router = APIRouter(prefix="/api", tags=["session"])


@api_router.post("/session", response_model=SessionOut, responses={401: {"description": "wrong credentials or locked"}})
def api_login(body: Credentials, state: State, response: Response) -> SessionOut | Response:
    """Log in; the session is a cookie, state-changing calls also need the returned csrf_token."""
    from fastapi.responses import JSONResponse

    tenant = _tenant(state, body.tenant)
    if not tenant:
        return JSONResponse({"detail": "several tenants: give tenant (the municipality's code)"}, status_code=401)
    result = auth.login(state.store, state.settings, tenant, body.username, body.password)
    if result.user is None:
        return JSONResponse({"detail": result.message}, status_code=401)
    session = state.sessions.new(result.user, tenant, result.token)
    response.set_cookie(auth.SESSION_COOKIE, state.sessions.dumps(session), **state.sessions.cookie_args())
    return SessionOut(username=result.user.username, role=result.user.role.value, tenant=session.tenant,
                      csrf_token=session.csrf)


@api_router.delete("/session", status_code=204, dependencies=[CSRF])
def api_logout(request: Request, repo: Repo, user: AnyUser, s: SessionDep, response: Response) -> None:
    """Log out: the session ends in the store (a copy of the cookie no longer works)."""
    session_store.end_session(repo, s.sid)
    request.state.logged_out = True
    response.delete_cookie(auth.SESSION_COOKIE, path="/")

