"""Accounts: argon2 password hashes, login with lockout, signed session cookies with expiry, CSRF tokens."""

from __future__ import annotations

import hmac
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from yomitori.review_ui import session_store
from yomitori.review_ui.settings import UISettings
from yomitori.store.db import StoreError
from yomitori.store.models import User
from yomitori.store.repo import Store, TenantRepo

SESSION_COOKIE = "yomitori_session"
LOGIN_CSRF_COOKIE = "yomitori_login_csrf"
MIN_PASSWORD = 10

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone")  # verified against when the user does not exist (timing)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"パスワードは{MIN_PASSWORD}文字以上にしてください")
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def _aware(t: datetime | None) -> datetime | None:
    return t if t is None or t.tzinfo else t.replace(tzinfo=UTC)


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    message: str = ""  # why not, in Japanese (never says whether the user exists)
    token: str = ""  # the new server-side session's token (review_ui.session_store)


FAILED = "テナント、ユーザー名またはパスワードが正しくありません"


def login(store: Store, settings: UISettings, tenant: str, username: str, password: str) -> LoginResult:
    """Check a password; count failures and lock the account after `lockout_failures` of them in a row."""
    try:
        with store.tenant(tenant.strip()) as repo:
            return _check(repo, settings, username.strip(), password)
    except StoreError:  # unknown tenant: same answer, same time as a wrong password
        verify_password(None, password)
        return LoginResult(None, FAILED)


def _check(repo: TenantRepo, settings: UISettings, username: str, password: str) -> LoginResult:
    user = repo.user(username)
    now = datetime.now(UTC)
    if user is None or not user.active:
        verify_password(None, password)
        return LoginResult(None, FAILED)
    locked = _aware(user.locked_until)
    if locked and locked > now:
        repo.audit(user.username, "auth.login_refused", user, reason="locked")
        return LoginResult(None, f"ログインの失敗が続いたためロックされています。{settings.lockout_minutes}分後に"
                                 "もう一度お試しいただくか、管理者に解除を依頼してください")
    if not verify_password(user.password_hash, password):
        if count_failure(repo, user, settings, now):
            repo.audit(user.username, "auth.locked", user, minutes=settings.lockout_minutes)
        else:
            repo.audit(user.username, "auth.login_failed", user)
        return LoginResult(None, FAILED)
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = _hasher.hash(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    repo.audit(user.username, "auth.login", user)
    repo.session.flush()
    return LoginResult(user, token=session_store.open_session(repo, user))


def count_failure(repo: TenantRepo, user: User, settings: UISettings, now: datetime) -> bool:
    """One more failed login, counted in one UPDATE … RETURNING (parallel attempts cannot overwrite each other's
    count on SQLite or PostgreSQL); the failure that reaches `lockout_failures` locks the account. True if it did."""
    limit = settings.lockout_failures
    reached = User.failed_logins + 1 >= limit
    failed = repo.session.execute(
        sa.update(User).where(User.id == user.id)
        .values(failed_logins=sa.case((reached, 0), else_=User.failed_logins + 1),
                locked_until=sa.case((reached, now + timedelta(minutes=settings.lockout_minutes)),
                                     else_=User.locked_until))
        .returning(User.failed_logins).execution_options(synchronize_session=False)).scalar_one()
    repo.session.expire(user, ["failed_logins", "locked_until"])
    if failed == 0:
        session_store.end_sessions(repo, user.id, "locked")
    return failed == 0


# ---------------------------------------------------------------- sessions


@dataclass(frozen=True)
class SessionData:
    user_id: int
    tenant: str
    csrf: str
    issued: float  # login time (absolute expiry)
    key: str  # a fingerprint of the password hash: a password change ends every session
    sid: str  # the server-side session's token, checked on every request (review_ui.session_store)


def password_key(user: User) -> str:
    return (user.password_hash or "")[-12:]


class Sessions:
    """A signed, timestamped cookie naming a server-side session: expiry is in the cookie, ending it in the store."""

    def __init__(self, settings: UISettings) -> None:
        self.settings = settings
        self._signer = URLSafeTimedSerializer(_secret(settings), salt="yomitori-session")

    def new(self, user: User, tenant: str, sid: str) -> SessionData:
        return SessionData(user.id, tenant, secrets.token_urlsafe(32), time.time(), password_key(user), sid)

    def dumps(self, s: SessionData) -> str:
        return self._signer.dumps({"u": s.user_id, "t": s.tenant, "c": s.csrf, "i": s.issued, "k": s.key,
                                   "s": s.sid})

    def loads(self, cookie: str | None) -> SessionData | None:
        """The session, or None when absent, forged, idle too long or past its absolute lifetime."""
        if not cookie:
            return None
        try:
            raw: dict[str, Any] = self._signer.loads(cookie, max_age=self.settings.session_idle_minutes * 60)
            s = SessionData(int(raw["u"]), str(raw["t"]), str(raw["c"]), float(raw["i"]), str(raw["k"]),
                            str(raw["s"]))
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        if time.time() - s.issued > self.settings.session_max_hours * 3600:
            return None
        return s

    def cookie_args(self) -> dict[str, Any]:
        return {"httponly": True, "samesite": "lax", "secure": self.settings.secure_cookies, "path": "/"}


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def _secret(settings: UISettings) -> str:
    """The signing key: from the settings, else made once and kept beside the embedded database."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    path = Path(settings.data_dir) / "session-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another server process made it a moment ago
            pass
        else:
            with os.fdopen(fd, "w") as fp:
                fp.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
