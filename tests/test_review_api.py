"""Review UI and HTTP API through FastAPI's test client: login, roles, tenants, CSRF, masking, corrections, audit."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from _review_data import FORM, PASSWORD, TRUTH, add_batch, add_users
from _review_data import web_login as login
from fastapi.testclient import TestClient

from yomitori.review_ui import routers
from yomitori.review_ui.app import PUBLIC, create_app
from yomitori.review_ui.auth import SESSION_COOKIE
from yomitori.review_ui.settings import UISettings
from yomitori.store.models import AuditLog, Document, DocumentStatus, Field, FieldStatus

SAMPLES = Path(__file__).parents[1] / "samples"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Two tenants with users and three documents each (five flagged fields apiece)."""
    settings = UISettings(data_dir=tmp_path_factory.mktemp("ui"), lockout_failures=3, max_upload_bytes=3_000_000)
    app = create_app(settings)
    store = app.state.yomitori.store
    ids = {}
    for tenant in ("yokohama", "kawasaki"):
        with store.tenant(tenant, create=True) as repo:
            add_users(repo)
            batch, docs = add_batch(repo, 3)
            ids[tenant] = {"batch": batch.id, "docs": [d.id for d in docs],
                           "fields": {f.key: f.id for f in docs[0].fields}}
    yield app, ids
    app.state.yomitori.runner.stop()
    store.close()




def api_login(app, user: str, tenant: str = "yokohama") -> TestClient:
    c = TestClient(app)
    r = c.post("/api/session", json={"tenant": tenant, "username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


def all_routes() -> list[tuple[str, str]]:
    return [(m, r.path) for router in routers.ALL for r in router.routes for m in sorted(r.methods)]


def test_no_route_is_reachable_without_login(site):
    app, _ids = site
    anonymous = TestClient(app)
    forged = TestClient(app, cookies={SESSION_COOKIE: "eyJ1IjoxfQ.forged.sig"})
    walked = 0
    for method, path in all_routes():
        if any(path.startswith(p) for p in PUBLIC):
            continue
        url = re.sub(r"\{[^}]+\}", "1", path).replace("{form}", FORM)
        for client in (anonymous, forged):
            r = client.request(method, url, follow_redirects=False)
            if method == "GET" and not path.startswith("/api/"):
                assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path)
            else:
                assert r.status_code == 401, (method, path, r.status_code)
        walked += 1
    assert walked >= 35  # every page and API route of the app (the walk must not silently shrink)
    assert anonymous.get("/api/openapi.json").status_code == 401
    assert anonymous.get("/docs").status_code == 404  # the default docs (which load assets from the web) are off


def test_lockout_after_repeated_failures_and_unlock_by_an_administrator(site):
    app, _ = site
    c = TestClient(app)
    for _ in range(3):
        r = c.post("/api/session", json={"tenant": "yokohama", "username": "reviewer2", "password": "wrong one!!"})
        assert r.status_code == 401 and "正しくありません" in r.json()["detail"]
    r = c.post("/api/session", json={"tenant": "yokohama", "username": "reviewer2", "password": PASSWORD})
    assert r.status_code == 401 and "ロック" in r.json()["detail"]
    unknown = c.post("/api/session", json={"tenant": "nowhere", "username": "reviewer2", "password": PASSWORD})
    assert unknown.json()["detail"] == "テナント、ユーザー名またはパスワードが正しくありません"

    admin = login(app, "admin1")
    assert "reviewer2" in admin.get("/admin/users").text
    with app.state.yomitori.store.tenant("yokohama") as repo:
        uid = repo.user("reviewer2").id
    token = admin.headers.pop("X-CSRF-Token")  # a form posts its token as a field
    assert admin.post(f"/admin/users/{uid}", data={"action": "unlock"}, follow_redirects=False).status_code == 403
    r = admin.post(f"/admin/users/{uid}", data={"action": "unlock", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert api_login(app, "reviewer2").get("/api/batches").status_code == 200
    with app.state.yomitori.store.tenant("yokohama") as repo:
        actions = [a.action for a in repo.audit_log(50)]
    assert "auth.locked" in actions and "user.unlock" in actions


def test_sessions_expire_and_end_when_the_password_changes(site, monkeypatch):
    app, _ = site
    c = api_login(app, "operator1")
    assert c.get("/api/batches").status_code == 200
    import itsdangerous.timed

    real = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() + 31 * 60)  # idle longer than 30 minutes
    assert c.get("/api/batches").status_code == 401
    monkeypatch.undo()

    c = api_login(app, "operator1")
    admin = login(app, "admin1")
    with app.state.yomitori.store.tenant("yokohama") as repo:
        uid = repo.user("operator1").id
    r = admin.post(f"/admin/users/{uid}", data={"action": "password", "password": PASSWORD + "2",
                                               "csrf_token": admin.headers["X-CSRF-Token"]}, follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/api/batches").status_code == 401  # the old session died with the old password
    r = admin.post(f"/admin/users/{uid}", data={"action": "password", "password": PASSWORD,
                                               "csrf_token": admin.headers["X-CSRF-Token"]}, follow_redirects=False)


def test_state_changes_need_the_csrf_token(site):
    app, ids = site
    c = api_login(app, "reviewer1")
    field = ids["yokohama"]["fields"]["recipient_name_kana"]
    token = c.headers.pop("X-CSRF-Token")
    assert c.post(f"/api/fields/{field}", json={"value": "タカハシ イチロウ"}).status_code == 403
    assert c.post(f"/api/fields/{field}", json={"value": "x"}, headers={"X-CSRF-Token": "guess"}).status_code == 403
    assert c.post(f"/api/fields/{field}/approve", headers={"X-CSRF-Token": token}).status_code == 200


def test_roles_reach_only_their_pages(site):
    app, _ = site
    expect = {  # path → roles that may open it
        "/batches": {"operator1", "reviewer1", "admin1"}, "/upload": {"operator1", "admin1"},
        "/review": {"reviewer1"}, "/review/fieldwise": {"reviewer1"}, "/admin/users": {"admin1"},
        "/admin/templates": {"admin1"}, "/audit": {"auditor1", "admin1"}, "/stats": {"operator1", "admin1", "auditor1"},
    }
    for user in ("operator1", "reviewer1", "admin1", "auditor1"):
        c = login(app, user)
        for path, allowed in expect.items():
            r = c.get(path)
            assert r.status_code == (200 if user in allowed else 403), (user, path)
            if r.status_code == 403:
                assert "権限がありません" in r.text


def test_a_tenant_cannot_read_or_change_another_tenants_documents(site):
    app, ids = site
    a = api_login(app, "reviewer1", "yokohama")
    other = ids["kawasaki"]
    own = a.get(f"/api/documents/{ids['yokohama']['docs'][0]}")
    assert own.status_code == 200
    for path in (f"/api/documents/{other['docs'][0]}", f"/api/batches/{other['batch']}",
                 f"/api/batches/{other['batch']}/documents", f"/images/fields/{other['fields']['payment_amount']}.png",
                 f"/images/documents/{other['docs'][0]}", f"/review/documents/{other['docs'][0]}"):
        r = a.get(path)
        assert r.status_code == 404, path
        assert "高橋" not in r.text
    assert a.post(f"/api/fields/{other['fields']['payment_amount']}", json={"value": "1"}).status_code == 404
    assert a.post(f"/api/documents/{other['docs'][0]}/approve").status_code == 404
    assert {b["id"] for b in a.get("/api/batches").json()} == {ids["yokohama"]["batch"]}
    with app.state.yomitori.store.tenant("kawasaki") as repo:  # nothing changed over there
        assert repo.get(Field, other["fields"]["payment_amount"]).status == FieldStatus.needs_review


def test_my_number_is_masked_for_operators_and_every_unmasking_is_audited(site):
    app, ids = site
    doc_id = ids["yokohama"]["docs"][1]
    op = api_login(app, "operator1").get(f"/api/documents/{doc_id}").json()
    mine = next(f for f in op["fields"] if f["key"] == "recipient_my_number")
    assert mine["value"] == "●●●● ●●●● 9012" and mine["masked"] and mine["extracted_value"] is None
    assert mine["crop_url"] is None
    assert "123456789012" not in str(op)
    operator = api_login(app, "operator1")
    assert operator.get(f"/images/fields/{mine['id']}.png").status_code == 403
    reviewer = api_login(app, "reviewer1")
    seen = {f["key"]: f for f in reviewer.get(f"/api/documents/{doc_id}").json()["fields"]}
    assert seen["recipient_my_number"]["value"] == "123456789012" and not seen["recipient_my_number"]["masked"]
    crop = reviewer.get(f"/images/fields/{mine['id']}.png")
    assert crop.status_code == 200 and crop.content.startswith(b"\x89PNG")
    assert reviewer.post(f"/review/fields/{mine['id']}/unmask").json() == {"value": "123456789012"}
    with app.state.yomitori.store.tenant("yokohama") as repo:
        log = repo.audit_log(20)
    assert {"document.unmask", "field.view_image", "field.unmask"} <= {a.action for a in log}
    assert all("123456789012" not in str(a.detail) for a in log)


def test_corrections_and_approval_through_the_api_with_old_and_new_in_the_audit_log(site):
    app, ids = site
    c = api_login(app, "reviewer1")
    doc_id = ids["yokohama"]["docs"][2]
    doc = c.get(f"/api/documents/{doc_id}").json()
    by_key = {f["key"]: f for f in doc["fields"]}
    assert doc["flagged"] == 5 and by_key["payment_amount"]["box_mm"] and by_key["payment_amount"]["crop_url"]
    assert by_key["recipient_my_number"]["findings"][0]["rule"] == "my_number_invalid"
    assert c.post(f"/api/documents/{doc_id}/approve").status_code == 409  # fields still flagged

    bad = c.post(f"/api/fields/{by_key['payment_amount']['id']}", json={"value": "四百万"}).json()
    assert bad["status"] == "invalid" and "支払金額" in bad["message"]
    for key in ("recipient_name", "payment_amount", "recipient_my_number"):
        url, value = f"/api/fields/{by_key[key]['id']}", str(TRUTH[key])
        r = c.post(url, json={"value": value}).json()
        if key != "recipient_name":  # critical fields: typed twice (double entry), the API as the page
            assert r["status"] == "second_entry" and r["first_token"], key
            r = c.post(url, json={"value": value, "first": value, "first_token": r["first_token"]}).json()
        assert r["status"] == "saved" and r["field"]["status"] == "corrected", key
    r = c.post(f"/api/fields/{by_key['recipient_my_number']['id']}", json={"value": "1234 5678 9018"}).json()
    assert r["status"] == "unchanged" and r["field"]["findings"] == []  # the check digit is right now
    for key in ("recipient_name_kana", "birth_date"):
        assert c.post(f"/api/fields/{by_key[key]['id']}/approve").json()["status"] == "accepted"
    approved = c.post(f"/api/documents/{doc_id}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    with app.state.yomitori.store.tenant("yokohama") as repo:
        d = repo.get(Document, doc_id)
        assert d.status == DocumentStatus.approved
        assert {f.key: f.value for f in d.fields} == {**TRUTH}
        rows = [a for a in repo.session.scalars(sa.select(AuditLog).where(AuditLog.action == "field.correct"))
                if a.detail.get("document_id") == doc_id]
    changes = {a.detail["key"]: (a.detail["old"], a.detail["new"], a.actor) for a in rows}
    assert changes["payment_amount"] == (4560000, 4650000, "reviewer1")
    assert changes["recipient_my_number"] == ("●●●● ●●●● 9012", "●●●● ●●●● 9018", "reviewer1")

    export = login(app, "auditor1").get("/audit/export.csv", params={"action": "field.correct"})
    assert export.status_code == 200
    table = list(csv.DictReader(io.StringIO(export.text.lstrip("\ufeff"))))
    row = next(r for r in table if r["field"] == "payment_amount" and r["document"] == str(doc_id))
    assert (row["actor"], row["old"], row["new"]) == ("reviewer1", "4560000", "4650000")
    assert "123456789018" not in export.text


def test_claims_keep_two_reviewers_apart(site):
    app, ids = site
    one, two = login(app, "reviewer1", "kawasaki"), login(app, "reviewer2", "kawasaki")
    first = one.post("/review/next", follow_redirects=False).headers["location"]
    second = two.post("/review/next", follow_redirects=False).headers["location"]
    assert first != second and first.startswith("/review/documents/")
    doc_id = int(first.rsplit("/", 1)[1])
    assert doc_id == ids["kawasaki"]["docs"][0]  # oldest first
    assert "他の審査者が作業中" in two.get(first).text
    field = ids["kawasaki"]["fields"]["recipient_name_kana"]
    r = two.post(f"/review/documents/{doc_id}/fields/{field}", json={"value": "タカハシ イチロウ"})
    assert r.status_code == 409 and "他の審査者" in r.json()["detail"]
    r = one.post(f"/review/documents/{doc_id}/fields/{field}", json={"value": "タカハシ イチロウ"})
    assert r.json()["status"] == "confirm"  # the reading unchanged: kept only on purpose (Shift+Enter)
    r = one.post(f"/review/documents/{doc_id}/fields/{field}", json={"value": "タカハシ イチロウ", "accept": True})
    assert r.json()["status"] == "accepted" and r.json()["remaining"] == 4


def test_double_entry_compares_with_the_reading_then_with_the_first_entry(site):
    app, ids = site
    c = login(app, "reviewer2", "kawasaki")
    doc_id = ids["kawasaki"]["docs"][2]
    with app.state.yomitori.store.tenant("kawasaki") as repo:
        amount = next(f.id for f in repo.get(Document, doc_id).fields if f.key == "payment_amount")
    html = c.get(f"/review/documents/{doc_id}").text
    assert re.search(rf'id="v{amount}" class="value" value=""', html)  # typed blind: the reading is not shown
    assert "4,560,000" not in html and "4560000" not in html
    url = f"/review/documents/{doc_id}/fields/{amount}"
    first = c.post(url, json={"value": "4650000"}).json()
    assert first["status"] == "second_entry"
    token = first["first_token"]
    assert c.post(url, json={"value": "4605000", "first": "4650000", "first_token": token}).json()["status"] == "retry"
    r = c.post(url, json={"value": "4,650,000", "first": "4650000", "first_token": token}).json()
    assert r["status"] == "saved" and r["fields"][str(amount)]["status"] == "corrected"
    with app.state.yomitori.store.tenant("kawasaki") as repo:
        assert repo.get(Field, amount).value == 4650000


def test_send_back_as_misclassified_leaves_the_queue_and_shows_on_the_batch(site):
    app, ids = site
    c = login(app, "reviewer2", "kawasaki")  # who holds it since the claims test
    doc_id = ids["kawasaki"]["docs"][1]
    c.get(f"/review/documents/{doc_id}")
    r = c.post(f"/review/documents/{doc_id}/return", data={"reason": "misclassified", "form": "idou_todokede",
                                                            "csrf_token": c.headers["X-CSRF-Token"]},
               follow_redirects=False)
    assert r.status_code == 303
    assert f'href="/review/documents/{doc_id}"' not in c.get("/review").text
    page = login(app, "operator1", "kawasaki").get(f"/batches/{ids['kawasaki']['batch']}").text
    assert "差戻し：帳票の種類が違う" in page and "（正しくは 特別徴収に係る給与所得者異動届出書）" in page


def test_batch_list_and_productivity(site):
    app, ids = site
    op = login(app, "operator1")
    page = op.get("/batches").text
    assert "1月分 第1便" in page and "ストレート率" in page
    status = op.get(f"/api/batches/{ids['yokohama']['batch']}").json()
    assert status["documents"] == 3 and status["stages"]["ingest"] == {"done": 3, "total": 3}
    assert status["straight_through"] == 0.0
    stats = login(app, "admin1").get("/stats").text
    assert "reviewer1" in stats and "書類／時" in stats


def test_uploads_are_checked_file_by_file(site):
    """Each file passes the guard; a refused one is an input in error of the batch (tests/test_upload_partial.py)."""
    app, _ = site
    c = api_login(app, "operator1")
    r = c.post("/api/batches", files=[("files", ("notes.pdf", b"just some text", "application/pdf"))])
    assert r.status_code == 201 and r.json()["refused"][0]["file"] == "notes.pdf"
    assert "対応していない形式" in r.json()["refused"][0]["message"]
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * 3_500_000
    r = c.post("/api/batches", files=[("files", ("huge.png", big, "image/png"))])
    assert r.status_code == 201 and "大きすぎます" in r.json()["refused"][0]["message"]  # the guard, file by file
    r = c.post("/api/batches", files=[("files", ("huge.png", big + big, "image/png"))])
    assert r.status_code == 413  # the request itself, cut off while it streams in
    bomb = io.BytesIO()
    from PIL import Image

    Image.new("1", (20_000, 20_000)).save(bomb, "PNG")  # 400 M pixels in a few kilobytes
    r = c.post("/api/batches", files=[("files", ("bomb.png", bomb.getvalue(), "image/png"))])
    assert r.status_code == 201 and "画素数" in r.json()["refused"][0]["message"]
    assert api_login(app, "reviewer1").post("/api/batches", files=[
        ("files", ("a.jpg", (SAMPLES / "meisai-print.jpg").read_bytes(), "image/jpeg"))]).status_code == 403
    assert c.post("/api/batches", files=[]).status_code in (400, 422)


def test_openapi_documents_the_json_routes(site):
    app, _ = site
    spec = api_login(app, "operator1").get("/api/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/api/batches", "/api/batches/{batch_id}", "/api/documents/{doc_id}", "/api/fields/{field_id}",
            "/api/documents/{doc_id}/approve", "/api/session"} <= paths
    assert not any(p.startswith(("/review", "/admin", "/login")) for p in paths)
