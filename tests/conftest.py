"""Shared fixtures: one recognizer per test session (loading it takes a second)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def extractor():
    from yomitori.extract import Extractor
    from yomitori.ocr.ppocr import PPOCREngine

    return Extractor(PPOCREngine())
