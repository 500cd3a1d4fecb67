"""A real small batch through the web API: upload a generated scan, the app runs it, crops and boxes come back."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from yomitori.extract import Extractor
from yomitori.jobs import stages
from yomitori.jobs.runtime import use_runtime
from yomitori.review_ui.app import create_app
from yomitori.review_ui.auth import hash_password
from yomitori.review_ui.settings import UISettings
from yomitori.synth.dataset import write_dataset

pytestmark = pytest.mark.slow


def test_uploaded_scan_is_read_and_its_fields_come_with_crops_and_boxes(tmp_path, extractor, monkeypatch):
    monkeypatch.setattr(stages, "_extractor", Extractor(extractor.engine, keep_images=True))
    write_dataset(tmp_path / "scans", count=1, seed=43, layouts=["kyuyo_shiharai_hokokusho/national"], clean=True)
    truth = json.loads((tmp_path / "scans" / "truth.jsonl").read_text(encoding="utf-8").splitlines()[0])
    app = create_app(UISettings(data_dir=tmp_path / "data", embedded_processes=1))
    state = app.state.yomitori
    try:
        with state.store.tenant("yokohama", create=True) as repo:
            repo.add_user("op", "operator", password_hash=hash_password("operator password"))
        c = TestClient(app)
        c.headers["X-CSRF-Token"] = c.post("/api/session", json={"tenant": "yokohama", "username": "op",
                                                                  "password": "operator password"}).json()["csrf_token"]
        scan = tmp_path / "scans" / truth["source"]
        r = c.post("/api/batches", data={"name": "web"}, files=[("files", (scan.name, scan.read_bytes(), "image/png"))])
        assert r.status_code == 201, r.text
        state.runner.wait()
        batch = c.get(f"/api/batches/{r.json()['batch_id']}").json()
        assert batch["status"] == "done" and batch["documents"] == 1
        assert batch["stages"]["validate"] == {"done": 1, "total": 1}
        doc_id = c.get(f"/api/batches/{batch['id']}/documents").json()[0]["id"]
        doc = c.get(f"/api/documents/{doc_id}").json()
        assert doc["form"] == "kyuyo_shiharai_hokokusho" and doc["page_image_url"]
        assert c.get(doc["page_image_url"]).content.startswith(b"\x89PNG")
        amount = next(f for f in doc["fields"] if f["key"] == "payment_amount")
        assert amount["box_mm"] and len(amount["box_mm"]) == 4
        crop = c.get(amount["crop_url"])
        assert crop.status_code == 200 and crop.content.startswith(b"\x89PNG")
        my_number = next(f for f in doc["fields"] if f["key"] == "recipient_my_number")
        assert my_number["crop_url"] is None  # an operator gets no image of a 個人番号
        assert all(f["box_mm"] for f in doc["fields"])
    finally:
        state.runner.stop()
        use_runtime(None)
        state.store.close()
