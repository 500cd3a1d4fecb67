"""Tests for the Tesseract engine on rendered Japanese lines, and the PaddleOCR adapter's setup and filtering."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytesseract
import pytest
from PIL import Image, ImageDraw, ImageFont

from yomitori.ocr.charsets import allowed_chars
from yomitori.ocr.engine import EngineUnavailable, Reading, get_engine

FONT = Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf")
RESTRICTED = ("digits", "amount", "kana", "date", "number_text", "phone", "postal", "any")

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="no tesseract binary (apt-get install tesseract-ocr tesseract-ocr-jpn)"
)


def render(text: str, size: int = 40, face: Path = FONT) -> np.ndarray:
    """A grayscale line image as the field reader hands it over: tight around the ink, padded 20 % in white."""
    if not face.exists():
        pytest.skip(f"font {face} missing (apt-get install fonts-ipafont)")
    font = ImageFont.truetype(str(face), size)
    left, top, right, bottom = font.getbbox(text)
    pad = max(4, (bottom - top) // 5)
    img = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 255)
    ImageDraw.Draw(img).text((pad - left, pad - top), text, font=font, fill=0)
    return np.asarray(img)


@pytest.fixture(scope="module")
def engine():
    from yomitori.ocr.tesseract import TesseractEngine

    try:
        return TesseractEngine()
    except EngineUnavailable as e:
        pytest.skip(str(e))


# ---------------------------------------------------------------- Tesseract


@needs_tesseract
def test_digits_read_right_under_digits_charset(engine) -> None:
    (r,) = engine.recognize([render("1234567")], ["digits"])
    assert r.text == "1234567"
    assert 0.5 < r.confidence <= 1.0
    assert len(r.char_confidences) == len(r.text)


@needs_tesseract
def test_names_read_without_the_spaces_tesseract_puts_between_glyphs(engine) -> None:
    kanji, kana = engine.recognize([render("山田 太郎"), render("ヤマダ タロウ")], ["any", "kana"])
    assert kanji.text == "山田太郎"
    # The kana whitelist is ~540 bytes: past Tesseract's 255-byte `-c` limit, which would blank this line.
    assert kana.text == "ヤマダタロウ"
    assert kana.confidence > 0.5


@needs_tesseract
def test_whitelist_keeps_confidence_across_gaps(engine) -> None:
    # Without the space in the whitelist, Tesseract reads this right but with confidence 0.
    (r,) = engine.recognize([render("1,234,567")], ["amount"])
    assert r.text == "1,234,567"
    assert r.confidence > 0.5


@needs_tesseract
def test_no_reading_leaves_its_charset(engine) -> None:
    lines = [render("山田 太郎"), render("ヤマダ タロウ"), render("令和5年4月1日 (03)")]
    for charset in RESTRICTED:
        allowed = allowed_chars(charset)
        assert allowed is not None
        for r in engine.recognize(lines, [charset] * len(lines)):
            assert set(r.text) <= allowed, (charset, r.text)
            assert 0.0 <= r.confidence <= 1.0


@needs_tesseract
def test_blank_line_reads_empty_with_zero_confidence(engine) -> None:
    white = np.full((48, 300), 255, dtype=np.uint8)
    light = np.full((48, 300), 235, dtype=np.uint8)  # paper tone, no ink
    assert engine.recognize([white, light, white], ["any", "any", "digits"]) == [Reading("", 0.0)] * 3
    assert engine.recognize([], []) == []


@needs_tesseract
def test_a_failing_line_does_not_fail_the_page(engine, monkeypatch, caplog) -> None:
    real = pytesseract.image_to_data
    calls = iter([pytesseract.TesseractError(1, "boom"), RuntimeError("Tesseract process timeout"), None])

    def flaky(*args, **kwargs):
        err = next(calls)
        if err is not None:
            raise err
        return real(*args, **kwargs)

    monkeypatch.setattr(pytesseract, "image_to_data", flaky)
    line = render("1234567")
    with caplog.at_level(logging.WARNING, logger="yomitori.ocr.tesseract"):
        readings = engine.recognize([line, line, line], ["digits"] * 3)
    assert readings[:2] == [Reading("", 0.0), Reading("", 0.0)]
    assert readings[2].text == "1234567"
    assert len(caplog.records) == 2
    assert "1234567" not in caplog.text


@needs_tesseract
def test_missing_language_is_unavailable_with_install_hint() -> None:
    from yomitori.ocr.tesseract import TesseractEngine

    with pytest.raises(EngineUnavailable, match="apt-get install tesseract-ocr tesseract-ocr-jpn"):
        TesseractEngine(lang="xxq")


@needs_tesseract
def test_threads_limit_openmp_in_the_subprocess(monkeypatch) -> None:
    from yomitori.ocr.tesseract import TesseractEngine

    monkeypatch.setenv("OMP_THREAD_LIMIT", "8")  # restored after the test
    try:
        TesseractEngine(threads=1)
    except EngineUnavailable as e:
        pytest.skip(str(e))
    assert os.environ["OMP_THREAD_LIMIT"] == "1"


@needs_tesseract
def test_get_engine_builds_tesseract() -> None:
    try:
        e = get_engine("tesseract", timeout=10.0)
    except EngineUnavailable as err:
        pytest.skip(str(err))
    assert e.name == "tesseract"


def test_join_words_keeps_spaces_only_between_ascii() -> None:
    from yomitori.ocr.tesseract import join_words

    assert join_words(["令", "和", "5", "年"], [0.9, 0.8, 0.7, 0.6]) == ("令和5年", [0.9, 0.8, 0.7, 0.6])
    assert join_words(["1234", "5678"], [0.9, 0.5]) == ("1234 5678", [0.9] * 4 + [0.5] * 5)


# ---------------------------------------------------------------- PaddleOCR adapter


@pytest.fixture
def fake_paddleocr(monkeypatch):
    """A stand-in `paddleocr` module: reads a line as the text registered for its width."""
    texts: dict[int, tuple[str, float]] = {}
    made: list[dict] = []

    class TextRecognition:
        def __init__(self, **kwargs) -> None:
            made.append(kwargs)

        def predict(self, images, batch_size=1):
            assert all(img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8 for img in images)
            return [{"rec_text": texts[img.shape[1]][0], "rec_score": texts[img.shape[1]][1]} for img in images]

    monkeypatch.setitem(sys.modules, "paddleocr", types.SimpleNamespace(TextRecognition=TextRecognition))
    return texts, made


def _model_dir(tmp_path: Path) -> Path:
    (tmp_path / "inference.yml").write_text("Global:\n  model_name: PP-OCRv5_server_rec\n", encoding="utf-8")
    return tmp_path


def test_paddle_without_model_dir_names_the_env_var(monkeypatch) -> None:
    from yomitori.ocr.paddle import PaddleEngine

    monkeypatch.delenv("YOMITORI_PADDLE_MODEL_DIR", raising=False)
    with pytest.raises(EngineUnavailable, match="YOMITORI_PADDLE_MODEL_DIR"):
        PaddleEngine()
    with pytest.raises(EngineUnavailable, match="YOMITORI_PADDLE_MODEL_DIR"):
        get_engine("paddle")


def test_paddle_rejects_a_directory_without_a_model(tmp_path) -> None:
    from yomitori.ocr.paddle import PaddleEngine

    with pytest.raises(EngineUnavailable, match="not a PaddleOCR recognition model directory"):
        PaddleEngine(model_dir=str(tmp_path))


@pytest.mark.skipif(importlib.util.find_spec("paddleocr") is not None, reason="paddleocr is installed here")
def test_paddle_without_paddleocr_says_what_to_install(tmp_path, monkeypatch) -> None:
    from yomitori.ocr.paddle import PaddleEngine

    monkeypatch.setenv("YOMITORI_PADDLE_MODEL_DIR", str(_model_dir(tmp_path)))
    with pytest.raises(EngineUnavailable, match=r"yomitori\[paddle\]"):
        PaddleEngine()


def test_paddle_filters_to_the_charset_and_keeps_line_order(tmp_path, fake_paddleocr) -> None:
    from yomitori.ocr.paddle import PaddleEngine

    texts, made = fake_paddleocr
    texts.update({300: ("12a3", 0.9), 100: ("ヤマダ  タロウ", 0.8), 200: ("山田", 0.95), 50: ("", 0.1)})
    engine = PaddleEngine(model_dir=str(_model_dir(tmp_path)), device="cpu", threads=2)
    assert made == [
        {"model_name": "PP-OCRv5_server_rec", "model_dir": str(tmp_path), "device": "cpu", "cpu_threads": 2}
    ]
    lines = [np.full((40, w), 255, dtype=np.uint8) for w in (300, 100, 200, 50)]
    readings = engine.recognize(lines, ["digits", "kana", "kana", "any"])
    assert readings == [
        Reading("123", 0.5),  # a dropped character caps the confidence
        Reading("ヤマダ タロウ", 0.8),
        Reading("", 0.0),
        Reading("", 0.0),
    ]


# ---------------------------------------------------------------- PP-OCR


@pytest.mark.parametrize("model", ["ppocrv5", "ppocrv6"])
def test_a_separator_outside_the_charset_is_skipped_not_read_as_a_digit(model) -> None:
    # Both recognizers see the comma of 321,000 clearly; under a digits-only charset it must vanish,
    # not become the least unlikely digit (PP-OCRv6 once read 3219000, and disagreed with v5 on every amount).
    engine = get_engine("ppocr", model=model)
    mincho = Path("/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf")
    readings = engine.recognize([render("321,000", 32, mincho), render("4,560,000", 32, mincho)], ["digits"] * 2)
    assert [r.text for r in readings] == ["321000", "4560000"]
    (phone,) = engine.recognize([render("03-5514-6089")], ["phone"])
    assert phone.text == "03-5514-6089"
