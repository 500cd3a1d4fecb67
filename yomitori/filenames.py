"""A file name typed by someone else (a web upload's): kept as typed for display, never used as a path."""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 200
_UNSAFE = re.compile(r'[<>:"|?*]')  # refused by Windows, where exports are often opened


def safe_name(name: str) -> str:
    """The last part of the name, without control or invisible characters (bidi overrides, NUL, newlines), without
    characters Windows refuses or leading dots: safe as a file name and in an export's `source` column."""
    name = unicodedata.normalize("NFC", name)
    base = re.split(r"[/\\]", name)[-1]
    base = "".join("_" if unicodedata.category(c)[0] in "CZ" and c != " " else c for c in base)
    base = _UNSAFE.sub("_", base).strip(" .")
    return base[:MAX_CHARS] or "upload"
