"""The page CNN's training pipeline on a tiny set: it runs, it learns, it is reproducible, it exports."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from yomitori.classify.page_cnn import PageCNN, page_tensor  # noqa: E402
from yomitori.classify.training import export_onnx, train  # noqa: E402
from yomitori.classify.training_data import build_training_set  # noqa: E402
from yomitori.models.page_classifier import PageModel  # noqa: E402

LAYOUTS = ["kyuyo_shiharai_hokokusho/national", "kyuyo_soukatsuhyo/national"]


@pytest.fixture(scope="module")
def tiny():
    return build_training_set(6, seed=3, workers=2, layouts=LAYOUTS)


def test_tiny_training_set_has_every_class_upright(tiny):
    assert tiny.classes == [*LAYOUTS, "unknown"]
    assert np.bincount(tiny.y).tolist() == [6, 6, 12]
    assert tiny.x.shape[1:] == (160, 160) and tiny.x.dtype == np.uint8
    assert tiny.upright.sum() == 12


def test_training_improves_is_reproducible_and_exports_a_working_onnx(tiny, tmp_path):
    model, hist = train(tiny, seed=5, epochs=10, batch=8, val_share=0.0)
    assert hist.loss[-1] < hist.loss[0] * 0.7
    assert hist.train_accuracy[-1] > hist.train_accuracy[0]
    _, again = train(tiny, seed=5, epochs=10, batch=8, val_share=0.0)
    assert again.loss == hist.loss  # same seed, same data → the same run

    out = tmp_path / "tiny.onnx"
    digest = export_onnx(model, tiny, out, {"command": "test"})
    cnn = PageCNN(PageModel(out, digest))
    assert cnn.classes == tiny.classes
    # The exported network agrees with the PyTorch one on training pages it has learnt.
    x = tiny.x.astype(np.float32) / 255.0
    with torch.no_grad():
        want = model(torch.from_numpy(x[:, None]))[0].argmax(1).numpy()
    got = [cnn.classes.index(max(v.probs, key=v.probs.get)) for v in (cnn.vote(_as_gray(img)) for img in tiny.x)]
    assert (np.array(got) == want).mean() >= 0.9


def _as_gray(ink: np.ndarray) -> np.ndarray:
    """An input square back as a gray page (ink dark on white), which page_tensor maps to the same square."""
    gray = (255 - ink.astype(np.int16)).clip(0, 255).astype(np.uint8)
    assert np.abs(page_tensor(gray, 160) * 255 - ink).max() < 3
    return gray
