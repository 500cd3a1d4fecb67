"""Field values at rest: AES-256-GCM (`cryptography`), with a key that is never in the database.

Every value the extraction and the reviewers write (fields.value, extracted_value, alternatives and the review
events' old and new values) is stored as "yk1:<key id>:<base64 nonce+ciphertext>". The key is YOMITORI_FIELD_KEY
(base64 of 32 bytes; set the same on every server and worker) or else the file `field-key` (0600) in the data dir,
made on first use. A value stored in clear by an older version is still read, and encrypted when next written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.types import TypeDecorator

from yomitori.errors import YomitoriError

PREFIX = "yk1:"
KEY_FILE = "field-key"
ENV = "YOMITORI_FIELD_KEY"


class FieldKeyError(YomitoriError):
    """No key, a malformed key, or not the key the values were encrypted with."""


class Cipher:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise FieldKeyError(f"{ENV} must be 32 bytes in base64 (make one: openssl rand -base64 32)")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"yomitori field key" + key).hexdigest()[:8]  # names the key, reveals nothing

    def seal(self, value: Any) -> str:
        nonce = os.urandom(12)
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        return f"{PREFIX}{self.key_id}:{base64.b64encode(nonce + self._aead.encrypt(nonce, data, None)).decode()}"

    def open(self, stored: str) -> Any:
        key_id, _, blob = stored[len(PREFIX):].partition(":")
        if key_id != self.key_id:
            raise FieldKeyError(f"field values were encrypted with another key (id {key_id}, this one {self.key_id}):"
                                f" set {ENV} (or the data dir's {KEY_FILE}) to the key they were written with")
        raw = base64.b64decode(blob)
        return json.loads(self._aead.decrypt(raw[:12], raw[12:], None))


def load_key(data_dir: Path) -> bytes:
    """YOMITORI_FIELD_KEY, else the data dir's key file (made, 0600, when missing)."""
    env = os.environ.get(ENV)
    if env:
        try:
            return base64.b64decode(env, validate=True)
        except ValueError:
            raise FieldKeyError(f"{ENV} is not base64 (make one: openssl rand -base64 32)") from None
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it a moment ago
            pass
        else:
            with os.fdopen(fd, "w") as fp:
                fp.write(base64.b64encode(os.urandom(32)).decode())
    return base64.b64decode(path.read_text().strip())


_ciphers: WeakKeyDictionary[Any, Cipher] = WeakKeyDictionary()  # per engine (its dialect): tests open many stores


def register(engine: sa.Engine, data_dir: Path) -> None:
    _ciphers[engine.dialect] = Cipher(load_key(data_dir))


def _cipher(dialect: Any) -> Cipher:
    cipher = _ciphers.get(dialect)
    if cipher is None:
        raise FieldKeyError("field values are encrypted: open the database through yomitori.store.repo.Store")
    return cipher


class EncryptedJSON(TypeDecorator):
    """A JSON value stored encrypted (a JSON string "yk1:…"); null stays null."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else _cipher(dialect).seal(value)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if isinstance(value, str) and value.startswith(PREFIX):
            return _cipher(dialect).open(value)
        return value  # written in clear by an older version
