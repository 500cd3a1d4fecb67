"""Tesseract (LSTM, `jpn` data) as a recognition engine through pytesseract, one process per line."""

from __future__ import annotations

import logging
import os
import shlex
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytesseract
from PIL import Image

from yomitori.forms_templates.schema import Charset

from .charsets import allowed_chars
from .engine import EngineUnavailable, Reading

log = logging.getLogger(__name__)

INSTALL_HINT = "apt-get install tesseract-ocr tesseract-ocr-jpn"
MIN_HEIGHT = 56  # px; Tesseract misreads small glyphs, so shorter lines are upscaled (best on rendered test lines)
BORDER = 10  # px of white around the line; Tesseract misreads glyphs that touch the image edge
MAX_WHITELIST_BYTES = 4000  # Tesseract reads config-file lines into a 4096-byte buffer
INK_LEVEL = 128  # a line with no pixel darker than this is blank
FILTERED_CAP = 0.5  # confidence ceiling when a character outside the charset had to be dropped


def join_words(words: Sequence[str], confs: Sequence[float]) -> tuple[str, list[float]]:
    """Join Tesseract's words (a space only between two ASCII characters); each character gets its word's confidence.

    jpn output puts a word break between most CJK glyphs (and between 和 and 5 in 令和5年); those
    breaks carry no information. The caller already splits lines at real gaps (姓 / 名).
    """
    text = ""
    char_confs: list[float] = []
    for w, c in zip(words, confs, strict=True):
        if text and w and text[-1].isascii() and w[0].isascii():
            text += " "
            char_confs.append(min(c, char_confs[-1]))
        text += w
        char_confs.extend([c] * len(w))
    return text, char_confs


class TesseractEngine:
    """Tesseract 4/5 in single-line mode (`--psm 7`, LSTM only), whitelisted to the field's charset."""

    name = "tesseract"

    def __init__(self, *, threads: int | None = None, lang: str = "jpn", timeout: float = 30.0) -> None:
        try:
            self.version = pytesseract.get_tesseract_version()
            installed = set(pytesseract.get_languages())
        except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, OSError) as e:
            raise EngineUnavailable(f"the tesseract binary is not usable ({e}); {INSTALL_HINT}") from e
        if self.version.major < 4:
            raise EngineUnavailable(f"Tesseract {self.version} has no LSTM engine; need 4 or later: {INSTALL_HINT}")
        missing = [code for code in lang.split("+") if code not in installed]
        if missing:
            have = ", ".join(sorted(installed)) or "none"
            raise EngineUnavailable(
                f"Tesseract has no language data for {', '.join(missing)} (installed: {have}); {INSTALL_HINT}"
            )
        if threads is not None:
            # pytesseract hands the subprocess this process's environment; there is no per-call env.
            os.environ["OMP_THREAD_LIMIT"] = str(max(1, threads))
        self.lang = lang
        self.timeout = timeout
        # Tesseract cuts `-c` values at 255 bytes (the kana whitelist is ~540), so whitelists go in config files.
        self._config_dir = tempfile.TemporaryDirectory(prefix="yomitori-tesseract-")
        self._configs: dict[Charset, str] = {}

    def recognize(self, lines: Sequence[np.ndarray], charsets: Sequence[Charset]) -> list[Reading]:
        return [self._read(i, line, charset) for i, (line, charset) in enumerate(zip(lines, charsets, strict=True))]

    def _whitelist_config(self, charset: Charset) -> str:
        """The config-file argument restricting Tesseract to `charset` ("" when unrestricted)."""
        if charset not in self._configs:
            chars = sorted(c for c in allowed_chars(charset) or () if not c.isspace())
            if not chars or len("".join(chars).encode()) > MAX_WHITELIST_BYTES:
                # Unrestricted, or a whole repertoire ("any") that jpn's own character set hardly exceeds:
                # the post-filter in `_filtered` is enough.
                self._configs[charset] = ""
            else:
                # The LSTM decoder needs the space enabled, or a gap (and the glyph after it) gets confidence 0;
                # `_filtered` drops it again where the charset has none. Not first: Tesseract skips blanks there.
                value = "".join([chars[0], " ", *chars[1:]])
                path = Path(self._config_dir.name) / f"{charset}.config"
                path.write_text(f"tessedit_char_whitelist {value}\n", encoding="utf-8")
                self._configs[charset] = " " + shlex.quote(str(path))
        return self._configs[charset]

    def _read(self, index: int, line: np.ndarray, charset: Charset) -> Reading:
        if line.size == 0 or int(line.min()) >= INK_LEVEL:
            return Reading("", 0.0)  # Tesseract hallucinates glyphs (昌和) on a blank image
        config = "--psm 7 --oem 1" + self._whitelist_config(charset)
        try:
            data = pytesseract.image_to_data(
                _prepared(line),
                lang=self.lang,
                config=config,
                timeout=self.timeout,
                output_type=pytesseract.Output.DICT,
            )
        except (pytesseract.TesseractError, RuntimeError, OSError) as e:
            # One unreadable line must not fail the page; the empty reading goes to review.
            # RuntimeError is pytesseract's timeout. No recognized text is logged (personal data).
            log.warning("tesseract failed on line %d (%s, %s charset)", index, type(e).__name__, charset)
            return Reading("", 0.0)
        words: list[str] = []
        confs: list[float] = []
        for text, conf in zip(data.get("text", []), data.get("conf", []), strict=True):  # {} when no rows
            text = str(text).strip()
            if text and float(conf) >= 0:  # -1 marks page/block/line rows, not words
                words.append(text)
                confs.append(float(conf) / 100.0)
        return _filtered(words, confs, allowed_chars(charset))


def _prepared(line: np.ndarray) -> Image.Image:
    img = Image.fromarray(np.ascontiguousarray(line, dtype=np.uint8)).convert("L")
    if img.height < MIN_HEIGHT:
        f = MIN_HEIGHT / img.height
        img = img.resize((max(1, round(img.width * f)), MIN_HEIGHT), Image.Resampling.BICUBIC)
    framed = Image.new("L", (img.width + 2 * BORDER, img.height + 2 * BORDER), 255)
    framed.paste(img, (BORDER, BORDER))
    return framed


def _filtered(words: list[str], confs: list[float], allowed: frozenset[str] | None) -> Reading:
    """Join words and drop characters outside `allowed` (Tesseract's whitelist is a hint, not a guarantee)."""
    text, char_confs = join_words(words, confs)
    kept: list[tuple[str, float]] = []
    for ch, c in zip(text, char_confs, strict=True):
        if (allowed is None or ch in allowed) and not (ch.isspace() and (not kept or kept[-1][0].isspace())):
            kept.append((ch, c))
    if kept and kept[-1][0].isspace():
        kept.pop()
    if not kept:
        return Reading("", 0.0)
    conf = min(confs)
    if allowed is not None and any(ch not in allowed and not ch.isspace() for ch in text):
        # The engine saw something the field cannot hold; what remains is likely missing a character.
        conf = min(conf, FILTERED_CAP)
    return Reading("".join(ch for ch, _ in kept), conf, tuple(c for _, c in kept))
