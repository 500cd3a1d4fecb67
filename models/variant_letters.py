"""The variant-letter CNN's ONNX weights in `models/` (﨑/崎, 𠮷/吉 …), pinned by SHA-256 and loaded offline.

`yomitori train-variant-letters` writes the `.onnx` file and its `.json` (classes, how it was trained, its accuracy
on fonts it never saw) and prints the checksum, which is updated here by hand after retraining.
"""

from __future__ import annotations

from pathlib import Path

from .page_classifier import MODELS_DIR, PageModel, verified_model

VARIANT_CNN = PageModel(MODELS_DIR / "variant_letters.onnx",
                        "2236c049566ae75213f31a7abe1a801ec81293720f9717b4555c0562b11a940f",
                        name="variant-letter model", trained_by="yomitori train-variant-letters")


def verified_path() -> Path:
    return verified_model(VARIANT_CNN)[0]
