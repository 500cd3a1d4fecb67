"""The variant-letter model: its crops, its shipped weights, and its training command on a tiny set."""

from __future__ import annotations

import json

import numpy as np
import pytest

from yomitori.errors import MissingDependency
from yomitori.models import variant_letters as shipped
from yomitori.models.page_classifier import PageModel, verified_model
from yomitori.ocr.variant_letters import CLASSES, CROP, PAIRS, letter_crop, variant_shares


def test_a_crop_is_the_letter_scaled_by_the_ink_height_and_none_where_there_is_no_ink() -> None:
    line = np.full((60, 300), 250, np.uint8)
    line[15:45, 100:130] = 20  # one 30-pixel "letter" centred at x 115
    crop = letter_crop(line, 115 / 300)
    assert crop is not None and crop.shape == (CROP, CROP)
    assert crop.max() > 0.9 and crop[CROP // 2, CROP // 2] > 0.9  # the letter fills the middle
    assert crop[0].max() < 0.1 and crop[:, 0].max() < 0.1  # with paper around it
    assert letter_crop(line, 250 / 300) is None


def test_the_shipped_model_is_verified_and_names_its_classes() -> None:
    meta = json.loads(shipped.VARIANT_CNN.meta.read_text(encoding="utf-8"))
    assert shipped.verified_path() == shipped.VARIANT_CNN.onnx
    assert tuple(meta["classes"]) == CLASSES
    assert min(meta["accuracy_held_out_fonts"].values()) > 0.9  # measured on fonts it was never trained on
    swapped = PageModel(shipped.VARIANT_CNN.onnx, "0" * 64, name="variant-letter model")
    with pytest.raises(MissingDependency, match="variant-letter model"):
        verified_model(swapped)


def test_shares_are_probabilities_of_the_variant_for_either_form_read() -> None:
    blank = np.zeros((CROP, CROP), np.float32)
    a, b = variant_shares([blank, blank], ["崎", "﨑"])
    assert 0.0 <= a <= 1.0 and a == pytest.approx(b)  # read as either form: the same question
    assert set(PAIRS) | set(PAIRS.values()) == set(CLASSES)


def test_training_on_a_tiny_set_learns_the_pairs() -> None:
    pytest.importorskip("torch")
    from yomitori.ocr.variant_training import build_letter_set, build_model, pair_accuracy, train

    data = build_letter_set(60, seed=5)
    check = build_letter_set(30, seed=6)
    before = np.mean(list(pair_accuracy(build_model().eval(), check).values()))
    model, losses = train(data, seed=5, epochs=4)
    after = np.mean(list(pair_accuracy(model, check).values()))
    assert losses[-1] < losses[0]
    assert after > max(0.7, before + 0.1), (before, after)
