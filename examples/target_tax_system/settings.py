"""Settings of the demo tax system: where its database is, how slow and how strict it is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    db: Path
    username: str = "clerk01"
    password: str = "demo-pass"
    idle_timeout: float = 900.0  # seconds without a request before a session ends
    session_lifetime: float = 3600.0  # seconds after login before a session ends regardless
    slow_rate: float = 0.0  # share of responses that are delayed
    slow_seconds: tuple[float, float] = (0.5, 2.0)
    reject_amount_suffix: str | None = None  # 支払金額 ending in these digits is refused at save
    seed: int | None = None
    # The first `slow_saves` saves read the form, then take `slow_save_seconds` before they store the row and
    # answer: a client that stops waiting earlier does not know whether its record was stored.
    slow_saves: int = 0
    slow_save_seconds: float = 0.0
