"""The key of the masters' 個人番号 HMAC: from YOMITORI_MASTER_KEY, else a random key file (0600) in the data dir.

The key lives outside the database, so a copy of the database alone cannot confirm a guessed 個人番号 (12 digits
with a check digit are only 10^11 guesses: an unkeyed hash would be reversed in minutes).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from yomitori.settings import Settings

KEY_FILE = "master-key"
ENV = "YOMITORI_MASTER_KEY"


def master_key(settings: Settings | None = None) -> bytes:
    """The installation's key: YOMITORI_MASTER_KEY when set, else data_dir/master-key (created 0600 if absent)."""
    env = os.environ.get(ENV)
    if env:
        return env.encode()
    settings = settings or Settings()
    path = Path(settings.data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it a moment ago
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_hex(32).encode())
    return path.read_bytes().strip()


def my_number_hmac(key: bytes, tenant: str, my_number: str) -> str:
    """HMAC-SHA256 of a 個人番号 (digits only), bound to the tenant: the only form the masters keep it in."""
    digits = "".join(c for c in my_number if c.isdigit())
    return hmac.new(key, f"{tenant}:{digits}".encode(), hashlib.sha256).hexdigest()
