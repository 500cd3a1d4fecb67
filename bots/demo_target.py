"""Starts the demo tax system (examples/target_tax_system) as a separate process, for tests and the benchmark.

Only its command line and HTTP surface are used here; the bots never import it.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from yomitori.errors import MissingDependency, YomitoriError

REPO = Path(__file__).resolve().parents[1]
USER, PASSWORD = "clerk01", "demo-pass"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DemoTarget:
    """`with DemoTarget(db) as t:` runs the demo system on a free local port until the block ends."""

    def __init__(self, db: Path, *, slow_rate: float = 0.0, session_lifetime: float = 3600.0,
                 idle_timeout: float = 900.0, reject_amount_suffix: str | None = None, seed: int = 0,
                 slow_saves: int = 0, slow_save_seconds: float = 40.0) -> None:
        if not (REPO / "examples" / "target_tax_system" / "__main__.py").is_file():
            raise MissingDependency(f"the demo tax system is not in {REPO / 'examples'} (a source checkout has it)")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [sys.executable, "-m", "examples.target_tax_system", "--port", str(self.port), "--db", str(db),
                     "--user", USER, "--password", PASSWORD, "--slow-rate", str(slow_rate),
                     "--session-lifetime", str(session_lifetime), "--idle-timeout", str(idle_timeout),
                     "--seed", str(seed), "--slow-saves", str(slow_saves),
                     "--slow-save-seconds", str(slow_save_seconds)]
        if reject_amount_suffix:
            self.args += ["--reject-amount-suffix", reject_amount_suffix]
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> DemoTarget:
        self.proc = subprocess.Popen(self.args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise YomitoriError(f"the demo tax system did not start: {self.proc.stderr.read().decode()[-800:]}"
                                    if self.proc.stderr else "the demo tax system did not start")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise YomitoriError("the demo tax system did not answer within 30 s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def env(self) -> dict[str, str]:
        """The environment variables the demo scenario reads its address and credentials from."""
        return {"YOMITORI_TARGET_URL": self.url, "YOMITORI_TARGET_USER": USER, "YOMITORI_TARGET_PASSWORD": PASSWORD}

    def export(self) -> dict[str, list[dict[str, Any]]]:
        """Everything the system holds, through its export endpoint."""
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        req = urllib.request.Request(self.url + "/export.json", headers={"Authorization": f"Basic {token}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())
