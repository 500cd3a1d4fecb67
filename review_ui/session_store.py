"""Server-side sessions: the cookie names a session row, checked on every request, so a session can be ended."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from yomitori.store.models import User, UserSession, utcnow
from yomitori.store.repo import TenantRepo


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(repo: TenantRepo, user: User) -> str:
    """A new session of the user; returns its token (only the cookie holds it)."""
    token = secrets.token_urlsafe(32)
    repo.session.add(UserSession(user_id=user.id, token_hash=_hash(token), role=user.role.value))
    repo.session.flush()
    return token


def is_live(repo: TenantRepo, token: str, user: User) -> bool:
    """The session exists, is the user's, was not ended, and the user still has the role it was opened with."""
    row = repo.session.scalar(sa.select(UserSession).where(UserSession.token_hash == _hash(token)))
    return row is not None and row.ended_at is None and row.user_id == user.id and row.role == user.role.value


def end_session(repo: TenantRepo, token: str, reason: str = "logout") -> None:
    repo.session.execute(sa.update(UserSession).where(UserSession.token_hash == _hash(token),
                                                      UserSession.ended_at.is_(None))
                         .values(ended_at=utcnow(), end_reason=reason).execution_options(synchronize_session=False))


def end_sessions(repo: TenantRepo, user_id: int, reason: str) -> int:
    """End every open session of a user (new password, lock, role change, deactivation); returns how many."""
    done = repo.session.execute(sa.update(UserSession).where(UserSession.user_id == user_id,
                                                             UserSession.ended_at.is_(None))
                                .values(ended_at=utcnow(), end_reason=reason)
                                .execution_options(synchronize_session=False))
    return done.rowcount or 0
