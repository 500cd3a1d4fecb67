"""Train the page CNN (PyTorch, CPU) and export it to ONNX: `yomitori train-classifier`.

Two heads share a small convolutional trunk: the page's class (every form/layout, plus `unknown`) and
its orientation (four quarter turns). Every page is shown in a random quarter turn each epoch. Training
is reproducible: same seed, same data, same weights (deterministic algorithms, fixed thread count).
PyTorch is needed only here (`pip install -e '.[train]'`); inference runs the ONNX file on onnxruntime.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .training_data import NO_ORIENTATION, TrainingSet


def torch_or_explain():
    """PyTorch, or a MissingDependency that says how to install it (training only; inference is onnxruntime)."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the install
        from yomitori.errors import MissingDependency

        raise MissingDependency("training needs PyTorch: pip install -e '.[train]'") from exc
    return torch


def build_model(n_classes: int):
    """Five stride-2 convolutions, a 5×5 spatial summary (where the boxes are matters), two heads."""
    torch = torch_or_explain()
    nn = torch.nn

    def block(cin: int, cout: int) -> list:
        return [nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    class PageNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.trunk = nn.Sequential(*block(1, 16), *block(16, 32), *block(32, 64), *block(64, 96),
                                       *block(96, 128), nn.AdaptiveAvgPool2d(5), nn.Flatten(),
                                       nn.Linear(128 * 25, 128), nn.ReLU(), nn.Dropout(0.2))
            self.classes = nn.Linear(128, n_classes)
            self.orientation = nn.Linear(128, 4)

        def forward(self, x):
            h = self.trunk(x)
            return self.classes(h), self.orientation(h)

    return PageNet()


@dataclass
class History:
    loss: list[float] = field(default_factory=list)  # mean training loss per epoch
    train_accuracy: list[float] = field(default_factory=list)
    val_accuracy: float | None = None
    val_orientation_accuracy: float | None = None
    seconds: float = 0.0


def _rotated(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    return np.stack([np.rot90(img, int(kk)) for img, kk in zip(x, k, strict=True)])


def train(data: TrainingSet, *, seed: int, epochs: int = 12, batch: int = 32, lr: float = 3e-3,
          val_share: float = 0.15, threads: int = 2) -> tuple[object, History]:
    """Train on `data` (a share kept aside for validation); returns the model (eval mode) and its history."""
    torch = torch_or_explain()
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(seed)
    n = len(data.y)
    order = rng.permutation(n)
    n_val = int(n * val_share)
    val, tr = order[:n_val], order[n_val:]
    model = build_model(len(data.classes))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * max(1, (len(tr) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    ce = torch.nn.CrossEntropyLoss()
    ce_orient = torch.nn.CrossEntropyLoss(ignore_index=NO_ORIENTATION)
    hist = History()
    t0 = time.perf_counter()
    for _ in range(epochs):
        model.train()
        perm = rng.permutation(tr)
        total, right, seen = 0.0, 0, 0
        for i in range(0, len(perm), batch):
            idx = perm[i : i + batch]
            k = rng.integers(0, 4, len(idx))
            x = torch.from_numpy(_rotated(data.x[idx], k).astype(np.float32) / 255.0)[:, None]
            y = torch.from_numpy(data.y[idx])
            yo = torch.from_numpy(np.where(data.upright[idx], k, NO_ORIENTATION))
            logits, orient = model(x)
            loss = ce(logits, y) + 0.5 * ce_orient(orient, yo)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
            right += int((logits.argmax(1) == y).sum())
            seen += len(idx)
        hist.loss.append(total / seen)
        hist.train_accuracy.append(right / seen)
    model.eval()
    if n_val:
        hist.val_accuracy, hist.val_orientation_accuracy = evaluate(model, data, val, seed)
    hist.seconds = time.perf_counter() - t0
    return model, hist


def evaluate(model, data: TrainingSet, idx: np.ndarray, seed: int) -> tuple[float, float | None]:
    """Class accuracy and orientation accuracy (form pages) on `idx`, each page in a random quarter turn."""
    torch = torch_or_explain()
    k = np.random.default_rng(seed + 1).integers(0, 4, len(idx))
    with torch.no_grad():
        x = torch.from_numpy(_rotated(data.x[idx], k).astype(np.float32) / 255.0)[:, None]
        logits, orient = model(x)
    cls_ok = (logits.argmax(1).numpy() == data.y[idx]).mean()
    up = data.upright[idx]
    orient_ok = (orient.argmax(1).numpy()[up] == k[up]).mean() if up.any() else None
    return float(cls_ok), (float(orient_ok) if orient_ok is not None else None)


def export_onnx(model, data: TrainingSet, out: Path, meta: dict[str, object]) -> str:
    """Write the ONNX file and its .json metadata; returns the file's SHA-256."""
    size = data.x.shape[1]
    return write_onnx(model, out, size=size, inputs="page", outputs=("classes", "orientation"),
                      head={"classes": data.classes, "size": size}, meta=meta)


def write_onnx(model, out: Path, *, size: int, inputs: str, outputs: Sequence[str], head: dict[str, object],
               meta: dict[str, object]) -> str:
    """Export a network of one size×size channel (any batch size) to ONNX, and beside it a .json of `head`, the
    file's SHA-256 and `meta`; returns the SHA-256. Shared by the page CNN and the variant-letter CNN."""
    torch = torch_or_explain()
    from yomitori.models.page_classifier import sha256_of

    out.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(model, (torch.zeros(1, 1, size, size),), str(out), dynamo=False, opset_version=17,
                          input_names=[inputs], output_names=list(outputs),
                          dynamic_axes={name: {0: "n"} for name in (inputs, *outputs)})
    digest = sha256_of(out)
    meta = {**head, "sha256": digest, **meta}
    out.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return digest
