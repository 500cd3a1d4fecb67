"""A single-tenant install works without knowing its tenant code (issue 20, item 14): commands and the login form
use the only tenant there is; with several, they say so and name the option, instead of `unknown tenant 'default'`."""

from __future__ import annotations

import os
import re

import pytest
from _review_data import PASSWORD, add_users
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from yomitori.cli import app as cli
from yomitori.review_ui.app import create_app
from yomitori.review_ui.auth import LOGIN_CSRF_COOKIE
from yomitori.review_ui.settings import UISettings
from yomitori.settings import Settings
from yomitori.store.db import StoreError
from yomitori.store.repo import Store


@pytest.fixture(autouse=True)
def no_tenant_named(monkeypatch):
    monkeypatch.delenv("YOMITORI_TENANT", raising=False)


def _store(tmp_path, *codes: str, **kw) -> Store:
    store = Store(Settings(data_dir=tmp_path / "data", **kw))
    for code in codes:
        with store.tenant(code, create=True):
            pass
    return store


def test_commands_act_for_the_only_tenant(tmp_path):
    store = _store(tmp_path, "yokohama")
    try:
        with store.tenant() as repo:
            assert repo.code == "yokohama"
        with store.tenant(create=True) as repo:  # `batch submit` on a single-tenant install: no second tenant
            assert repo.code == "yokohama"
        assert store.tenant_codes() == ["yokohama"]
    finally:
        store.close()
    named = _store(tmp_path, tenant="kawasaki")  # YOMITORI_TENANT named one: that one, or a clear error
    try:
        with pytest.raises(StoreError, match="unknown tenant 'kawasaki'"), named.tenant():
            pass
    finally:
        named.close()


def test_several_tenants_and_none_named_is_a_clear_error(tmp_path):
    store = _store(tmp_path, "yokohama", "kawasaki")
    try:
        with pytest.raises(StoreError, match=r"2 tenants \(yokohama, kawasaki\).*--tenant CODE"), store.tenant():
            pass
        with store.tenant("kawasaki") as repo:
            assert repo.code == "kawasaki"
    finally:
        store.close()


def test_the_cli_needs_no_tenant_option_on_a_single_tenant_install(tmp_path):
    _store(tmp_path, "yokohama").close()
    env = {"YOMITORI_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    runner = CliRunner()
    result = runner.invoke(cli, ["batch", "status"], env=env)
    assert result.exit_code == 0, result.output
    assert "unknown tenant" not in result.output
    _store(tmp_path, "kawasaki").close()
    result = runner.invoke(cli, ["batch", "status"], env=env)
    said = str(result.exception)  # `yomitori` prints it as "error: …" (cli.main)
    assert result.exit_code != 0 and "--tenant" in said and "yokohama, kawasaki" in said
    assert runner.invoke(cli, ["batch", "status", "--tenant", "kawasaki"], env=env).exit_code == 0
    assert "YOMITORI_TENANT" not in os.environ


def _app(tmp_path, *codes: str):
    app = create_app(UISettings(data_dir=tmp_path / "ui", embedded_processes=1))
    for code in codes:
        with app.state.yomitori.store.tenant(code, create=True) as repo:
            add_users(repo)
    return app


def test_the_login_form_asks_for_no_tenant_code_when_there_is_one(tmp_path):
    app = _app(tmp_path, "yokohama")
    try:
        c = TestClient(app)
        form = c.get("/login").text
        assert re.search(r'<input type="hidden" name="tenant" value="yokohama">', form)
        assert "自治体コード" not in form and 'value="default"' not in form
        r = c.post("/login", data={"username": "reviewer1", "password": PASSWORD,
                                   "csrf_token": c.cookies.get(LOGIN_CSRF_COOKIE)}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/review"
        api = TestClient(app).post("/api/session", json={"username": "operator1", "password": PASSWORD})
        assert api.status_code == 200 and api.json()["tenant"] == "yokohama"
    finally:
        app.state.yomitori.runner.stop()
        app.state.yomitori.store.close()


def test_with_several_tenants_the_form_asks_for_the_code(tmp_path):
    app = _app(tmp_path, "yokohama", "kawasaki")
    try:
        c = TestClient(app)
        form = c.get("/login").text
        assert re.search(r'<label>自治体コード<input name="tenant" value=""', form)
        r = c.post("/login", data={"username": "reviewer1", "password": PASSWORD,
                                   "csrf_token": c.cookies.get(LOGIN_CSRF_COOKIE)}, follow_redirects=False)
        assert r.status_code == 401 and "自治体コードを入力してください" in r.text
        r = c.post("/login", data={"tenant": "kawasaki", "username": "reviewer1", "password": PASSWORD,
                                   "csrf_token": c.cookies.get(LOGIN_CSRF_COOKIE)}, follow_redirects=False)
        assert r.status_code == 303
    finally:
        app.state.yomitori.runner.stop()
        app.state.yomitori.store.close()
