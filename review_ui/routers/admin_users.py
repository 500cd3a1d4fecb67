"""Administrators: the tenant's users (create, role, deactivate, unlock, new password)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from yomitori.review_ui import session_store
from yomitori.review_ui.auth import hash_password
from yomitori.review_ui.deps import CSRF, Administrator, Repo, State, render
from yomitori.store.models import Role, User

router = APIRouter(include_in_schema=False)
ROLE_LABELS = {"operator": "オペレーター", "reviewer": "審査者", "administrator": "管理者", "auditor": "監査者"}


def _page(request: Request, state: State, repo: Repo, message: str = "", status: int = 200) -> Response:
    return render(state, request, "admin_users.html", {"title": "ユーザー管理", "users": repo.users(),
                                                       "roles": ROLE_LABELS, "message": message}, status)


@router.get("/admin/users")
def users(request: Request, state: State, repo: Repo, admin: Administrator) -> Response:
    return _page(request, state, repo)


@router.post("/admin/users", dependencies=[CSRF])
def create_user(request: Request, state: State, repo: Repo, admin: Administrator, username: Annotated[str, Form()],
                role: Annotated[str, Form()], password: Annotated[str, Form()],
                display_name: Annotated[str, Form()] = "") -> Response:
    username = username.strip()
    if not username or role not in ROLE_LABELS:
        return _page(request, state, repo, "ユーザー名と役割を入力してください", 400)
    if repo.user(username) is not None:
        return _page(request, state, repo, f"{username} はすでにあります", 400)
    try:
        pw = hash_password(password)
    except ValueError as e:
        return _page(request, state, repo, str(e), 400)
    repo.add_user(username, Role(role), display_name=display_name.strip(), password_hash=pw, actor=admin.username)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}", dependencies=[CSRF])
def change_user(request: Request, state: State, repo: Repo, admin: Administrator, user_id: int,
                action: Annotated[str, Form()], role: Annotated[str, Form()] = "",
                password: Annotated[str, Form()] = "") -> Response:
    user = repo.get(User, user_id)
    if action == "deactivate":
        if user.id == admin.id:
            return _page(request, state, repo, "自分自身は無効にできません", 400)
        user.active = False
    elif action == "activate":
        user.active = True
    elif action == "unlock":
        user.locked_until, user.failed_logins = None, 0
    elif action == "role" and role in ROLE_LABELS:
        user.role = Role(role)
    elif action == "password":
        try:
            user.password_hash = hash_password(password)  # ends the user's sessions (see auth.password_key)
        except ValueError as e:
            return _page(request, state, repo, str(e), 400)
    else:
        return _page(request, state, repo, "操作を選んでください", 400)
    if action in ("deactivate", "role", "password"):  # whoever is logged in as them is logged out
        session_store.end_sessions(repo, user.id, {"deactivate": "deactivated"}.get(action, action))
    repo.audit(admin.username, f"user.{action}", user, username=user.username,
               **({"role": role} if action == "role" else {}))
    return RedirectResponse("/admin/users", status_code=303)
