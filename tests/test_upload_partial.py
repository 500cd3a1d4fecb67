"""A web upload with one bad file keeps the good ones (issue 20, item 16): the bad file is an error record of the
batch, as with `yomitori batch submit`, and every message is Japanese, without a server path."""

from __future__ import annotations

import re
from pathlib import Path

from _review_data import PASSWORD, add_users
from fastapi.testclient import TestClient

from yomitori.review_ui.app import create_app
from yomitori.review_ui.auth import LOGIN_CSRF_COOKIE
from yomitori.review_ui.settings import UISettings
from yomitori.store.models import SourceFile, SourceStatus

SAMPLES = Path(__file__).parents[1] / "samples"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _operator(app) -> TestClient:
    c = TestClient(app)
    c.get("/login")
    r = c.post("/login", data={"username": "operator1", "password": PASSWORD,
                               "csrf_token": c.cookies.get(LOGIN_CSRF_COOKIE)}, follow_redirects=False)
    assert r.status_code == 303
    c.headers["X-CSRF-Token"] = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/batches").text).group(1)
    return c


def test_one_bad_file_keeps_the_good_ones_and_is_an_error_record(tmp_path, monkeypatch):
    app = create_app(UISettings(data_dir=tmp_path / "ui", embedded_processes=1))
    monkeypatch.setattr(app.state.yomitori.runner, "start", lambda *a: None)  # the pages are not read here
    store = app.state.yomitori.store
    with store.tenant("yokohama", create=True) as repo:
        add_users(repo)
    try:
        c = _operator(app)
        good = (SAMPLES / "meisai-print.jpg").read_bytes()
        r = c.post("/upload", data={"name": "窓口 1月"}, follow_redirects=False, files=[
            ("files", ("a.jpg", good, "image/jpeg")),
            ("files", ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png")),
            ("files", ("letter.docx", b"PK\x03\x04rest of a zip", "application/octet-stream")),
            ("files", ("b.tif", (SAMPLES / "idou-fax.tif").read_bytes(), "image/tiff")),
        ])
        assert r.status_code == 303, r.text
        batch_id = int(r.headers["location"].rsplit("/", 1)[1])
        with store.tenant() as repo:
            sources = {s.name: s for s in repo.sources(batch_id)}
            assert set(sources) == {"a.jpg", "broken.png", "letter.docx", "b.tif"}
            assert sources["a.jpg"].status == sources["b.tif"].status == SourceStatus.pending
            assert sources["a.jpg"].sha256 and sources["b.tif"].sha256  # stored, to be read
            for bad in ("broken.png", "letter.docx"):
                s: SourceFile = sources[bad]
                assert s.status == SourceStatus.error and s.sha256 == ""
                assert JAPANESE.search(s.error) and "/tmp" not in s.error and "yomitori-upload" not in s.error
            assert "対応していない形式" in sources["letter.docx"].error
            assert "壊れている" in sources["broken.png"].error
        page = c.get(f"/batches/{batch_id}").text
        assert "対応していない形式" in page and "yomitori-upload" not in page
        r = c.post("/api/batches", files=[("files", ("x.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "image/png")),
                                          ("files", ("y.jpg", good, "image/jpeg"))])
        assert r.status_code == 201
        refused = r.json()["refused"]
        assert [x["file"] for x in refused] == ["x.png"] and JAPANESE.search(refused[0]["message"])
        assert "/tmp" not in r.text
    finally:
        app.state.yomitori.runner.stop()
        store.close()
