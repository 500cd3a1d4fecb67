"""Idempotency keys and value digests (keyed hashes, so a 個人番号 cannot be recovered), and message redaction."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence

# 12 or more digits, also written in groups (1234 5678 9018, 1234-5678-9018): a 個人番号 or something like it.
_NUMBER_RUN = re.compile(r"(?<![0-9])[0-9](?:[ \-]?[0-9]){11,}(?![0-9])")


def idempotency_key(secret: bytes, form: str, values: Mapping[str, object], fields: Sequence[str]) -> str:
    """HMAC of the form and the key fields' values: the same employer, person and year give the same key.

    A plain hash of a 12-digit 個人番号 could be reversed by trying every number, hence the secret.
    """
    material = json.dumps([form, *[values.get(f) for f in fields]], ensure_ascii=False, default=str)
    return hmac.new(secret, material.encode(), hashlib.sha256).hexdigest()[:32]


def values_digest(secret: bytes, values: Mapping[str, object]) -> str:
    """HMAC of all approved values: tells whether a record sent back came back changed."""
    material = json.dumps(dict(sorted(values.items())), ensure_ascii=False, default=str)
    return hmac.new(secret, material.encode(), hashlib.sha256).hexdigest()[:32]


def redact(text: str) -> str:
    """Mask every run of 12+ digits, so no 個人番号 reaches a log, a journal or an outcome message."""
    return _NUMBER_RUN.sub("************", text)
