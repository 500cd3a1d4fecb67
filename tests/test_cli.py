"""`yomitori extract` as a user runs it: JSONL out, bad inputs reported, the run goes on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from yomitori.forms_templates import templates
from yomitori.synth.generate import generate

pytestmark = pytest.mark.slow


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "yomitori", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("inputs")
    meisai = generate(templates()["kyuyo_shiharai_hokokusho/national"], 31, hand=False)
    idou = generate(templates()["idou_todokede/municipal_a"], 31, hand=True)
    files = {"png": d / "meisai.png", "pdf": d / "two-pages.pdf", "empty": d / "empty.pdf",
             "text": d / "notes.png", "truncated": d / "cut.jpg"}
    meisai.image.save(files["png"])
    meisai.image.save(files["pdf"], save_all=True, append_images=[idou.image], resolution=200)
    files["empty"].write_bytes(b"")
    files["text"].write_text("これは画像ではありません", encoding="utf-8")
    idou.image.save(d / "full.jpg")
    files["truncated"].write_bytes((d / "full.jpg").read_bytes()[:2000])
    return {**files, "truth_meisai": meisai, "truth_idou": idou}  # type: ignore[dict-item]


def test_extract_writes_contract_jsonl_and_reports_bad_inputs(inputs, tmp_path):
    out = tmp_path / "out.jsonl"
    args = [str(inputs[k]) for k in ("empty", "png", "text", "pdf", "truncated")]
    proc = _run("extract", *args, "--out", str(out), "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    # one record per page, in input order; unreadable inputs become error records
    assert [(Path(r["source"]).name, r["pages"], r["form"]) for r in records] == [
        ("empty.pdf", [], "error"),
        ("meisai.png", [1], "kyuyo_shiharai_hokokusho"),
        ("notes.png", [], "error"),
        ("two-pages.pdf", [1], "kyuyo_shiharai_hokokusho"),
        ("two-pages.pdf", [2], "idou_todokede"),
        ("cut.jpg", [], "error"),
    ]
    assert "empty" in records[0]["error"]
    assert "not a PDF, TIFF, JPEG or PNG" in records[2]["error"]
    assert records[5]["error"]
    truth = inputs["truth_meisai"].truth
    doc = records[1]
    assert set(doc) >= {"source", "pages", "form", "form_confidence", "fields"}
    assert set(doc["fields"]) == set(truth)
    for key, field in doc["fields"].items():
        assert set(field) == {"value", "confidence", "review"}, key
        assert 0.0 <= field["confidence"] <= 1.0
        assert isinstance(field["review"], bool)
    assert doc["fields"]["payment_amount"]["value"] == truth["payment_amount"]
    assert doc["fields"]["recipient_my_number"]["value"] == truth["recipient_my_number"]
    assert "could not be read" in proc.stderr


def test_extract_to_stdout(inputs):
    proc = _run("extract", str(inputs["png"]), "--out", "-", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    (record,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert record["form"] == "kyuyo_shiharai_hokokusho"


def test_missing_input_is_an_error_record_not_a_crash(tmp_path):
    proc = _run("extract", str(tmp_path / "nope.png"), "--out", "-", "--workers", "1")
    assert proc.returncode == 0
    (record,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert record["form"] == "error" and "nope.png" in record["source"]


def test_synth_writes_scans_and_truth(tmp_path):
    proc = _run("synth", str(tmp_path), "-n", "1", "--layout", "kyuyo_soukatsuhyo/national", "--print")
    assert proc.returncode == 0, proc.stderr
    truth = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(truth) == 1 and (tmp_path / truth[0]["source"]).exists()
    assert truth[0]["form"] == "kyuyo_soukatsuhyo"
    Image.open(tmp_path / truth[0]["source"]).verify()
