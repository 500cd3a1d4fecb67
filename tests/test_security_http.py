"""Issue 20 (security and 特定個人情報), probed over HTTP against a running server as an attacker would."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from itertools import count

import httpx
import numpy as np
import pytest
import sqlalchemy as sa
from _review_data import LAYOUT, PASSWORD, add_batch, add_users
from _servers import fresh_pg_database, postgres_server, serve_app
from PIL import Image

from yomitori.forms_templates import templates
from yomitori.ocr.preprocess import PX_PER_MM
from yomitori.review_ui.app import create_app
from yomitori.review_ui.settings import UISettings
from yomitori.store import db
from yomitori.store.models import AuditLog, Field

TENANT = "yokohama"
_names = count()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`yomitori serve`'s app on a real port, one tenant, users of every role and two documents."""
    app = create_app(UISettings(data_dir=tmp_path_factory.mktemp("sec"), lockout_failures=5))
    store = app.state.yomitori.store
    with store.tenant(TENANT, create=True) as repo:
        add_users(repo)
        _batch, docs = add_batch(repo, 2)
        ids = {"doc": docs[0].id, "page": docs[0].pages[0].id, "fields": {f.key: f.id for f in docs[0].fields}}
    with serve_app(app) as base:
        yield base, store, ids
    app.state.yomitori.runner.stop()
    store.close()


def client(base: str, user: str, password: str = PASSWORD) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=30, follow_redirects=True)
    r = c.post("/api/session", json={"tenant": TENANT, "username": user, "password": password})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"))


def _inside(page: np.ndarray, key: str) -> np.ndarray:
    """The ink area of a field's box on the registered page (1 mm inside its rules)."""
    x, y, w, h = templates()[LAYOUT].field(key).box
    return page[round((y + 1) * PX_PER_MM):round((y + h - 1) * PX_PER_MM),
                round((x + 1) * PX_PER_MM):round((x + w - 1) * PX_PER_MM)]


def _audited(store, action: str) -> int:
    with store.tenant(TENANT) as repo:
        return len([a for a in repo.audit_log(500) if a.action == action])


# ---------------------------------------------------------------- item 1 and 5: page images


@pytest.mark.parametrize("path", ["/images/documents/{doc}.png", "/images/pages/{page}.png"])
def test_page_images_black_out_every_personal_number_for_an_operator(server, path):
    """Item 1: an operator's page image has every 個人番号 box of the layout black (the recipient's, the spouse's,
    the dependents' and the payer's), the other fields stay legible."""
    base, _store, ids = server
    r = client(base, "operator1").get(path.format(**ids))
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    page = _pixels(r.content)
    layout = templates()[LAYOUT]
    personal = [f.key for f in layout.fields if f.type in ("my_number", "payer_number")]
    assert {"recipient_my_number", "spouse_my_number", "dependent_1_my_number", "payer_number"} <= set(personal)
    for key in personal:
        assert _inside(page, key).max() == 0, key  # nothing of the number survives
    name = _inside(page, "recipient_name")
    assert (name == 0).mean() < 0.2 and name.min() < 100  # the name (fill 30) still legible beside


def test_page_images_for_a_reviewer_are_legible_and_audited(server):
    """Item 1: a role allowed to see 個人番号 gets the page as registered, and every such image is in the audit log."""
    base, store, ids = server
    c = client(base, "reviewer1")
    before = _audited(store, "document.view_image"), _audited(store, "page.view_image")
    doc = c.get(f"/images/documents/{ids['doc']}.png")
    page = c.get(f"/images/pages/{ids['page']}.png")
    assert doc.status_code == page.status_code == 200
    assert _inside(_pixels(doc.content), "recipient_my_number").min() < 100  # the handwriting is there
    assert (_audited(store, "document.view_image"), _audited(store, "page.view_image")) == (before[0] + 1,
                                                                                          before[1] + 1)


def test_images_are_never_cached(server):
    """Item 5: page images and crops are `no-store` (a shared counter PC keeps nothing)."""
    base, _store, ids = server
    c = client(base, "reviewer1")
    for url in (f"/images/documents/{ids['doc']}.png", f"/images/pages/{ids['page']}.png",
                f"/images/fields/{ids['fields']['recipient_name']}.png",
                f"/images/fields/{ids['fields']['recipient_my_number']}.png"):
        r = c.get(url)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", url


# ---------------------------------------------------------------- item 2: the lockout race


@pytest.fixture(scope="module")
def pg_url():
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def lockout_server(request, tmp_path):
    url = None
    if request.param == "postgresql":
        url = fresh_pg_database(request.getfixturevalue("pg_url"), f"lock{next(_names)}")
        db.upgrade(db.make_engine(url))
    app = create_app(UISettings(data_dir=tmp_path, database_url=url, lockout_failures=5))
    store = app.state.yomitori.store
    with store.tenant(TENANT, create=True) as repo:
        add_users(repo)
    with serve_app(app) as base:
        yield base, store
    app.state.yomitori.runner.stop()
    store.close()


def _attempt(base: str, password: str) -> int:
    with httpx.Client(base_url=base, timeout=60) as c:
        return c.post("/api/session", json={"tenant": TENANT, "username": "reviewer1",
                                            "password": password}).status_code


def test_parallel_wrong_passwords_lock_the_account(lockout_server):
    """Item 2: 12 wrong passwords sent 6 at a time lock the account (5 allowed); the right one is then refused."""
    base, store = lockout_server
    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(lambda _: _attempt(base, "wrong password!"), range(12)))
    assert codes == [401] * 12
    assert _attempt(base, PASSWORD) == 401
    with store.tenant(TENANT) as repo:
        user = repo.user("reviewer1")
        assert user.locked_until is not None
        locks = repo.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
            AuditLog.action == "auth.locked"))
        assert locks >= 1


# ---------------------------------------------------------------- item 3: sessions end on the server


def _number_visible(c: httpx.Client, doc_id: int) -> int:
    """The status of reading a document; with 200, the 個人番号 must be in clear (a reviewer's view)."""
    r = c.get(f"/api/documents/{doc_id}")
    if r.status_code == 200:
        assert any(f["key"] == "recipient_my_number" and not f["masked"] for f in r.json()["fields"])
    return r.status_code


def _admin_change(base: str, username: str, store, **form: str) -> None:
    with store.tenant(TENANT) as repo:
        uid = repo.user(username).id
    admin = client(base, "admin1")
    r = admin.post(f"/admin/users/{uid}", data={**form, "csrf_token": admin.headers["X-CSRF-Token"]})
    assert r.status_code == 200 and "/admin/users" in str(r.url), r.text


def test_a_kept_cookie_is_worthless_after_logout(server):
    """Item 3: the cookie kept from before `DELETE /api/session` reads nothing (the page logout too)."""
    base, _store, ids = server
    c = client(base, "reviewer1")
    kept = dict(c.cookies)
    assert _number_visible(c, ids["doc"]) == 200
    assert c.delete("/api/session").status_code == 204
    thief = httpx.Client(base_url=base, cookies=kept)
    assert _number_visible(thief, ids["doc"]) == 401
    page = client(base, "reviewer1")
    kept = dict(page.cookies)
    assert page.post("/logout", data={"csrf_token": page.headers["X-CSRF-Token"]}).status_code in (200, 303)
    assert _number_visible(httpx.Client(base_url=base, cookies=kept), ids["doc"]) == 401


@pytest.mark.parametrize("change", [{"action": "password", "password": PASSWORD},  # even the same password
                                    {"action": "role", "role": "operator"},
                                    {"action": "deactivate"}])
def test_password_role_and_deactivation_end_every_session_of_the_user(server, change):
    """Item 3: an administrator's change to a user ends the sessions that user has open."""
    base, store, ids = server
    with store.tenant(TENANT, create=True) as repo:
        name = f"victim{next(_names)}"
        repo.add_user(name, "reviewer", password_hash=repo.user("reviewer1").password_hash)
    c = client(base, name)
    assert _number_visible(c, ids["doc"]) == 200
    _admin_change(base, name, store, **change)
    assert _number_visible(c, ids["doc"]) == 401
    with store.tenant(TENANT) as repo:
        assert "user_sessions" in sa.inspect(repo.session.bind).get_table_names()


def test_a_lock_ends_the_session_already_open(server):
    """Item 3: failed logins that lock an account also end the session its owner has open."""
    base, store, ids = server
    with store.tenant(TENANT) as repo:
        name = f"victim{next(_names)}"
        repo.add_user(name, "reviewer", password_hash=repo.user("reviewer1").password_hash)
    c = client(base, name)
    assert _number_visible(c, ids["doc"]) == 200
    for _ in range(5):
        assert httpx.post(f"{base}/api/session", json={"tenant": TENANT, "username": name,
                                                      "password": "wrong password!"}).status_code == 401
    assert _number_visible(c, ids["doc"]) == 401


# ---------------------------------------------------------------- item 6: double entry through the API


def test_the_api_cannot_skip_the_blind_second_entry(server):
    """Item 6: a critical field sent once through the API is not saved; neither is a made-up 'first' entry, nor an
    approval of the reading. Typed twice with the server's token, it is."""
    base, store, _ids = server
    with store.tenant(TENANT) as repo:
        doc = repo.documents(repo.batches()[0].id)[1]
        f = next(x for x in doc.fields if x.key == "payment_amount")
        fid, reading = f.id, f.value
    c = client(base, "reviewer2")
    url = f"/api/fields/{fid}"
    once = c.post(url, json={"value": "4650000"}).json()
    assert once["status"] == "second_entry" and once["field"]["status"] == "needs_review"
    forged = c.post(url, json={"value": "4650000", "first": "4650000"}).json()
    assert forged["status"] == "retry"
    other = client(base, "reviewer1")  # a token is bound to the session that typed the first entry
    assert other.post(url, json={"value": "4650000", "first": "4650000",
                                 "first_token": once["first_token"]}).json()["status"] == "retry"
    assert c.post(f"{url}/approve").status_code == 409
    with store.tenant(TENANT) as repo:
        assert repo.get(Field, fid).value == reading
    twice = c.post(url, json={"value": "4,650,000", "first": "4650000", "first_token": once["first_token"]}).json()
    assert twice["status"] == "saved" and twice["field"]["value"] == 4650000


# ---------------------------------------------------------------- item 4: the embedded database is private


def _mode(p) -> int:
    return p.stat().st_mode & 0o777


def test_the_embedded_database_is_readable_by_its_owner_only(tmp_path):
    """Item 4: under the usual umask 022, a new data dir is 0700 and yomitori.db, -wal and -shm are 0600 while the
    server runs; an old install's world-readable files are made private on start."""
    import os

    old = os.umask(0o022)
    try:
        data = tmp_path / "data"
        app = create_app(UISettings(data_dir=data))
        with app.state.yomitori.store.tenant(TENANT, create=True) as repo:
            add_users(repo)
        with serve_app(app) as base:
            assert client(base, "reviewer1").get("/api/batches").status_code == 200
            files = [data / n for n in ("yomitori.db", "yomitori.db-wal", "yomitori.db-shm")]
            assert _mode(data) == 0o700 and [_mode(f) for f in files] == [0o600] * 3
        app.state.yomitori.store.close()
        data.chmod(0o755)
        for f in files:
            if f.exists():
                f.chmod(0o644)
        again = create_app(UISettings(data_dir=data))
        assert _mode(data) == 0o700 and all(_mode(f) == 0o600 for f in files if f.exists())
        again.state.yomitori.store.close()
    finally:
        os.umask(old)


def test_personal_numbers_are_not_in_the_database_files_in_clear(server):
    """Item 4: neither the 個人番号 read nor any other field value appears in yomitori.db or its -wal; the key is a
    0600 file beside it (or YOMITORI_FIELD_KEY), never in the database; the API still reads them."""
    base, store, ids = server
    data = store.settings.data_dir
    raw = b"".join(p.read_bytes() for p in data.glob("yomitori.db*"))
    for secret in ("123456789012", "123456789018", "高橋 一朗", "タカハシ"):  # (amounts are in the audit log)
        assert secret.encode() not in raw, secret
    assert _mode(data / "field-key") == 0o600 and (data / "field-key").read_bytes() not in raw
    r = client(base, "reviewer1").get(f"/api/documents/{ids['doc']}").json()
    assert {f["key"]: f["value"] for f in r["fields"]}["recipient_my_number"] == "123456789012"
