"""Request dependencies: the logged-in user, their tenant's repository, role checks, CSRF — as Annotated aliases.

Every route names one of the role aliases (`Reviewer`, `Operator`, …), so who may call it is written on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from yomitori.review_ui import session_store
from yomitori.review_ui.auth import SESSION_COOKIE, SessionData, Sessions, password_key, same_token
from yomitori.review_ui.settings import UISettings
from yomitori.store.db import StoreError
from yomitori.store.models import Role, User
from yomitori.store.repo import Store, TenantRepo

if TYPE_CHECKING:
    from yomitori.review_ui.runner import BatchRunner


@dataclass(frozen=True)
class UserView:
    """The user as pages show it; outlives the request's database session (error pages render after it)."""

    id: int
    username: str
    display_name: str
    role: str


class NotAuthenticated(Exception):
    """No valid session: pages redirect to the login form, the API answers 401."""


class Forbidden(Exception):
    """Logged in, but this role may not do that (or the object belongs to no document it can reach)."""


class NotFound(Exception):
    """Nothing with that id in the user's tenant (another tenant's rows look exactly like missing ones)."""


@dataclass
class AppState:
    settings: UISettings
    store: Store
    sessions: Sessions
    templates: Jinja2Templates
    runner: BatchRunner


def app_state(request: Request) -> AppState:
    return request.app.state.yomitori


State = Annotated[AppState, Depends(app_state)]


def session_data(request: Request, state: State) -> SessionData:
    s = state.sessions.loads(request.cookies.get(SESSION_COOKIE))
    if s is None:
        raise NotAuthenticated()
    request.state.session = s  # re-signed on the way out: the idle timer starts again
    return s


SessionDep = Annotated[SessionData, Depends(session_data)]


def tenant_repo(state: State, s: SessionDep) -> Iterator[TenantRepo]:
    """The logged-in user's tenant; committed before the response is sent."""
    try:
        with state.store.tenant(s.tenant) as repo:
            yield repo
    except StoreError as e:
        if "unknown tenant" in str(e):
            raise NotAuthenticated() from None
        raise


Repo = Annotated[TenantRepo, Depends(tenant_repo, scope="function")]


def current_user(request: Request, repo: Repo, s: SessionDep) -> User:
    try:
        user = repo.get(User, s.user_id)
    except StoreError:
        raise NotAuthenticated() from None
    locked = user.locked_until and (user.locked_until if user.locked_until.tzinfo
                                    else user.locked_until.replace(tzinfo=UTC)) > datetime.now(UTC)
    if not user.active or locked or password_key(user) != s.key or not session_store.is_live(repo, s.sid, user):
        raise NotAuthenticated()
    request.state.user = UserView(user.id, user.username, user.display_name, user.role.value)
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require(*roles: Role) -> Callable[[User], User]:
    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden()
        return user

    check.__name__ = "require_" + "_or_".join(r.value for r in roles)
    return check


async def csrf_protect(request: Request, s: SessionDep) -> None:
    """Every state-changing request carries the session's token (header for scripts, form field for forms)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    token = request.headers.get("x-csrf-token")
    if token is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        token = (await request.form()).get("csrf_token")  # parsed once; the route reads the same form
    if not same_token(token if isinstance(token, str) else None, s.csrf):
        raise Forbidden()


CSRF = Depends(csrf_protect)


# Who may call a route: one of these on every route.
AnyUser = CurrentUser
Operator = Annotated[User, Depends(require(Role.operator, Role.administrator))]  # batches: submit and follow
BatchViewer = Annotated[User, Depends(require(Role.operator, Role.reviewer, Role.administrator))]
Reviewer = Annotated[User, Depends(require(Role.reviewer))]  # corrections and approvals
Administrator = Annotated[User, Depends(require(Role.administrator))]
Auditor = Annotated[User, Depends(require(Role.auditor, Role.administrator))]  # the audit log
Supervisor = Annotated[User, Depends(require(Role.operator, Role.administrator, Role.auditor))]  # productivity
ImageViewer = BatchViewer


def can_unmask(state: AppState, user: User) -> bool:
    return user.role.value in state.settings.unmask_roles


def render(state: AppState, request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Any:
    """A page, with the user, their CSRF token and the navigation their role gets."""
    user: UserView | None = getattr(request.state, "user", None)
    s: SessionData | None = getattr(request.state, "session", None)
    ctx = {"user": user, "csrf": s.csrf if s else "", "role": user.role if user else "", **context}
    return state.templates.TemplateResponse(request, name, ctx, status_code=status_code)
