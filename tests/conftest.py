"""Shared fixtures: one recognizer per test session (loading it takes a second), the demo tax system for bots."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Batches in tests read pages in the test process with the session's recognizer (the `extractor` fixture); the
# default, one process per core, is tested on its own (tests/test_batch_throughput.py).
os.environ.setdefault("YOMITORI_EMBEDDED_PROCESSES", "1")


@pytest.fixture(scope="session")
def extractor():
    from yomitori.extract import Extractor
    from yomitori.ocr.ppocr import PPOCREngine

    return Extractor(PPOCREngine())


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The demo target system on a fresh database, its credentials in the environment as a scenario reads them;
    it refuses amounts ending in 13 (the bots' error path)."""
    from yomitori.bots.demo_target import DemoTarget

    with DemoTarget(tmp_path / "target.db", reject_amount_suffix="13") as t:
        for k, v in t.env().items():
            monkeypatch.setenv(k, v)
        yield t


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where a browser test saves its pictures: a temporary folder, so `./run.sh test` never rewrites a tracked file.

    `./run.sh screenshots` sets YOMITORI_SCREENSHOTS=docs/screenshots to refresh the README's pictures.
    """
    folder = Path(os.environ["YOMITORI_SCREENSHOTS"]) if os.environ.get("YOMITORI_SCREENSHOTS") else (
        tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
