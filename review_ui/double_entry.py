"""Proof of a blind first entry: the server signs it, so a second entry can never come without a first one.

A critical field (settings.double_entry) is saved only when typed twice alike, or once alike the reading. The first
entry's answer carries a token signed by the server, bound to the session, the field and (as an HMAC) the text
typed; the second entry must bring it back, on the review page and the API alike.
"""

from __future__ import annotations

import hashlib
import hmac

from itsdangerous import BadSignature, URLSafeTimedSerializer

from yomitori.review_ui.auth import SessionData, _secret
from yomitori.review_ui.settings import UISettings

MAX_AGE = 30 * 60  # a first entry older than this must be typed again


class EntryTokens:
    def __init__(self, settings: UISettings) -> None:
        self._key = _secret(settings).encode()
        self._signer = URLSafeTimedSerializer(self._key, salt="yomitori-first-entry")

    def _mac(self, *parts: object) -> str:
        return hmac.new(self._key, "\x1f".join(map(str, parts)).encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, s: SessionData, field_id: int, first: str) -> str:
        return self._signer.dumps({"f": field_id, "m": self._mac(s.sid, field_id, first.strip())})

    def proves(self, token: str | None, s: SessionData, field_id: int, first: str | None) -> bool:
        """Whether `first` was typed as this field's first entry in this session (within MAX_AGE)."""
        if not token or first is None:
            return False
        try:
            raw = self._signer.loads(token, max_age=MAX_AGE)
        except BadSignature:
            return False
        return (isinstance(raw, dict) and raw.get("f") == field_id
                and hmac.compare_digest(str(raw.get("m")), self._mac(s.sid, field_id, first.strip())))


def entry_tokens(state: object) -> EntryTokens:
    """The app's EntryTokens (made once per app: the key is read from the settings)."""
    tokens = getattr(state, "_entry_tokens", None)
    if tokens is None:
        tokens = EntryTokens(state.settings)  # type: ignore[attr-defined]
        setattr(state, "_entry_tokens", tokens)  # noqa: B010 - AppState has no slot for it
    return tokens
