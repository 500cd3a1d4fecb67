"""Start the demo tax system: python -m examples.target_tax_system --port 8765 --db /tmp/target.db."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from .app import create_app
from .settings import Settings


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m examples.target_tax_system", description=__doc__)
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--db", type=Path, default=Path("target_tax_system.db"))
    p.add_argument("--user", default="clerk01")
    p.add_argument("--password", default="demo-pass")
    p.add_argument("--idle-timeout", type=float, default=900.0, help="seconds of inactivity that end a session")
    p.add_argument("--session-lifetime", type=float, default=3600.0, help="seconds after login that end a session")
    p.add_argument("--slow-rate", type=float, default=0.0, help="share of responses delayed (0..1)")
    p.add_argument("--slow-seconds", type=float, nargs=2, default=(0.5, 2.0), metavar=("MIN", "MAX"))
    p.add_argument("--reject-amount-suffix", default=None,
                   help="refuse at save, with a business-rule message, records whose 支払金額 ends in these digits")
    p.add_argument("--seed", type=int, default=None, help="seed of the slow-response dice")
    p.add_argument("--slow-saves", type=int, default=0, help="this many first record saves answer late (still stored)")
    p.add_argument("--slow-save-seconds", type=float, default=40.0, help="how late a slow save stores and answers")
    a = p.parse_args(argv)
    settings = Settings(db=a.db, username=a.user, password=a.password, idle_timeout=a.idle_timeout,
                        session_lifetime=a.session_lifetime, slow_rate=a.slow_rate,
                        slow_seconds=tuple(a.slow_seconds), reject_amount_suffix=a.reject_amount_suffix, seed=a.seed,
                        slow_saves=a.slow_saves, slow_save_seconds=a.slow_save_seconds)
    # No access log: request lines of a tax system carry nothing useful here, and logs must stay free of 個人番号.
    uvicorn.run(create_app(settings), host=a.host, port=a.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
