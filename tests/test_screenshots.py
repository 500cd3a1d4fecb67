"""Tests write only to temporary folders; `./run.sh screenshots` is the one way to refresh docs/screenshots."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).parents[1]


def test_screenshots_go_to_a_temporary_folder_unless_refreshing(screenshots: Path, tmp_path: Path) -> None:
    assert screenshots.is_dir() and screenshots.is_relative_to(tmp_path)
    assert not screenshots.is_relative_to(REPO)


def test_no_test_writes_into_the_docs_folder() -> None:
    # A path into docs/ built in a test module is how `./run.sh test` came to rewrite the tracked screenshots.
    offenders = [p.name for p in (REPO / "tests").glob("*.py")
                 if re.search(r"""/\s*["']docs["']|["']docs/""", p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_run_sh_documents_the_screenshots_command() -> None:
    usage = subprocess.run(["bash", str(REPO / "run.sh")], capture_output=True, text=True, check=False)
    assert usage.returncode == 2 and "screenshots" in usage.stderr
    assert "YOMITORI_SCREENSHOTS" in (REPO / "run.sh").read_text(encoding="utf-8")
