"""The page classifier's ONNX weights in `models/`, pinned by SHA-256 and loaded offline.

`yomitori train-classifier` writes the `.onnx` file and a `.json` beside it (classes, input size, how it
was trained); the checksum below is updated by hand after retraining (the command prints it), so a
swapped or damaged file is refused rather than quietly misclassifying pages.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from yomitori.errors import MissingDependency

MODELS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class PageModel:
    """A network trained here and shipped in `models/` as ONNX with a .json beside it."""

    onnx: Path
    sha256: str
    name: str = "page classifier"
    trained_by: str = "yomitori train-classifier"

    @property
    def meta(self) -> Path:
        return self.onnx.with_suffix(".json")


PAGE_CNN = PageModel(MODELS_DIR / "page_cnn.onnx", "7a07773341bfc49021a71e9c221621f50b7cb54fadb9aa7fd498d331ccceb847")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verified_model(model: PageModel | None = None) -> tuple[Path, Path]:
    """Paths of the ONNX file and its metadata after the checksum matched; MissingDependency otherwise."""
    model = model or PAGE_CNN
    if not model.onnx.is_file() or not model.meta.is_file():
        raise MissingDependency(f"{model.name} {model.onnx} (or its .json) is missing; reinstall yomitori")
    digest = sha256_of(model.onnx)
    if digest != model.sha256:
        raise MissingDependency(f"{model.name} {model.onnx} has SHA-256 {digest}, expected {model.sha256}; "
                                f"reinstall yomitori or retrain with `{model.trained_by}`")
    return model.onnx, model.meta
