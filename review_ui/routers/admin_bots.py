"""Administrators: keying scenarios (edit with validation, versions, export/import), test runs, the bot dashboard."""

from __future__ import annotations

import secrets
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from yomitori import bots as bots_pkg
from yomitori.bots import library
from yomitori.bots.batch_run import KEYABLE, per_minute, run_batch
from yomitori.bots.outcomes import Outcome
from yomitori.bots.scenario import ScenarioError
from yomitori.forms_templates.contract import contract_forms
from yomitori.review_ui.deps import CSRF, Administrator, AppState, NotFound, Repo, State, render
from yomitori.store.models import BotRun, Document, KeyingReceipt, SourceFile, User
from yomitori.store.repo import TenantRepo

router = APIRouter(include_in_schema=False)
STARTER = Path(bots_pkg.__file__).parent / "scenarios" / "demo_tax_system.yaml"  # a new scenario starts here
KEEP_TEST_RUNS = 10  # test runs (and their screenshots, which show personal data) kept per server


# ---------------------------------------------------------------- scenarios


def _forms() -> dict[str, str]:
    return {k: f.label for k, f in contract_forms().items()}


def _editor(state: AppState, request: Request, *, name: str, text: str, target_system: str, comment: str = "",
            errors: list[tuple[int | None, str]] | None = None, versions: list[Any] | None = None,
            shown: Any = None, latest: Any = None, new: bool = False, message: str = "",
            status_code: int = 200) -> Response:
    return render(state, request, "admin_bot_edit.html", {
        "title": "新しいシナリオ" if new else f"シナリオ {name}", "name": name, "text": text, "new": new,
        "target_system": target_system, "comment": comment, "errors": errors or [], "versions": versions or [],
        "shown": shown, "latest": latest, "forms": _forms(), "message": message}, status_code)


@router.get("/admin/bots")
def scenario_list(request: Request, state: State, repo: Repo, admin: Administrator) -> Response:
    return _list(state, request, repo)


def _list(state: AppState, request: Request, repo: TenantRepo, *, errors: list[tuple[int | None, str]] | None = None,
          status_code: int = 200) -> Response:
    return render(state, request, "admin_bots.html", {
        "title": "入力ボット（シナリオ）", "rows": library.latest(repo), "forms": _forms(), "errors": errors or [],
        "imported": request.query_params.get("imported")}, status_code)


@router.get("/admin/bots/new")
def new_scenario(request: Request, state: State, admin: Administrator) -> Response:
    return _editor(state, request, name="", text=STARTER.read_text(encoding="utf-8"), target_system="", new=True)


@router.post("/admin/bots/new", dependencies=[CSRF])
def create_scenario(request: Request, state: State, repo: Repo, admin: Administrator, name: Annotated[str, Form()],
                    text: Annotated[str, Form()], target_system: Annotated[str, Form()] = "",
                    comment: Annotated[str, Form()] = "") -> Response:
    if library.NAME.match(name) and library.versions(repo, name):
        return _editor(state, request, name=name, text=text, target_system=target_system, comment=comment, new=True,
                       errors=[(None, f"「{name}」という名前のシナリオはすでにあります")], status_code=409)
    return _save(state, request, repo, admin, name, text, target_system, comment, new=True)


def _save(state: AppState, request: Request, repo: TenantRepo, admin: User, name: str, text: str,
          target_system: str, comment: str, *, new: bool = False) -> Response:
    text = text.replace("\r\n", "\n")  # a textarea posts CRLF
    try:
        row = library.save(repo, name, text, actor=admin.username, target_system=target_system, comment=comment)
    except ScenarioError as e:
        errors = library.problems(e)
    except library.PackageError as e:
        errors = [(None, str(e))]
    else:
        return RedirectResponse(f"/admin/bots/scenarios/{quote(name)}?saved={row.version}", status_code=303)
    versions = [] if new else library.versions(repo, name)
    return _editor(state, request, name=name, text=text, target_system=target_system, comment=comment, new=new,
                   errors=errors, versions=versions, latest=versions[0] if versions else None, status_code=422)


@router.get("/admin/bots/scenarios/{name}")
def edit_scenario(request: Request, state: State, repo: Repo, admin: Administrator, name: str,
                  version: int | None = None) -> Response:
    versions = library.versions(repo, name)
    if not versions:
        raise NotFound()
    shown = library.get(repo, name, version)
    saved = request.query_params.get("saved")
    return _editor(state, request, name=name, text=shown.yaml, target_system=shown.target_system, versions=versions,
                   shown=shown, latest=versions[0], message=f"版{saved}として保存しました" if saved else "")


@router.post("/admin/bots/scenarios/{name}", dependencies=[CSRF])
def save_scenario(request: Request, state: State, repo: Repo, admin: Administrator, name: str,
                  text: Annotated[str, Form()], target_system: Annotated[str, Form()] = "",
                  comment: Annotated[str, Form()] = "") -> Response:
    if not library.versions(repo, name):
        raise NotFound()
    return _save(state, request, repo, admin, name, text, target_system, comment)


@router.post("/admin/bots/scenarios/{name}/restore", dependencies=[CSRF])
def restore_version(repo: Repo, admin: Administrator, name: str, version: Annotated[int, Form()]) -> Response:
    row = library.restore(repo, name, version, actor=admin.username)
    return RedirectResponse(f"/admin/bots/scenarios/{quote(name)}?saved={row.version}", status_code=303)


@router.get("/admin/bots/scenarios/{name}/export")
def export_scenario(repo: Repo, admin: Administrator, name: str, version: int | None = None) -> Response:
    row = library.get(repo, name, version)
    repo.audit(admin.username, "bot.scenario_export", row, name=name, version=row.version)
    return Response(library.export_package(row), media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}-v{row.version}.zip"'})


@router.post("/admin/bots/import", dependencies=[CSRF])
async def import_scenario(request: Request, state: State, repo: Repo, admin: Administrator,
                          package: Annotated[UploadFile, File()], name: Annotated[str, Form()] = "") -> Response:
    data = await package.read(library.MAX_PACKAGE_BYTES + 1)
    try:
        row = library.import_package(repo, data, actor=admin.username, name=name.strip() or None)
    except ScenarioError as e:
        return _list(state, request, repo, errors=library.problems(e), status_code=422)
    except library.PackageError as e:
        return _list(state, request, repo, errors=[(None, str(e))], status_code=422)
    return RedirectResponse(f"/admin/bots/scenarios/{quote(row.name)}?saved={row.version}", status_code=303)


# ---------------------------------------------------------------- test runs


@dataclass
class TestRun:
    """A test run on one document in a background thread; the page polls `status()`."""

    id: str
    tenant: str
    scenario: str
    document_id: int
    dry_run: bool
    folder: Path
    state: str = "running"  # running | done | error
    outcome: Outcome | None = None
    steps: list[Any] = field(default_factory=list)
    message: str = ""
    run_id: int | None = None


_TESTS: dict[str, TestRun] = {}
_LOCK = threading.Lock()


def _test_run(state: AppState, t: TestRun, user: str, version: int, base_url: str | None) -> None:
    try:
        with state.store.tenant(t.tenant) as repo:
            scenario, _row = library.load(repo, t.scenario, version)
        outcomes: list[Outcome] = []
        t.run_id, summary = run_batch(state.store, t.tenant, scenario, document_ids=[t.document_id],
                                      scenario_ref=f"{t.scenario} 版{version}（テスト実行）", started_by=user,
                                      dry_run=t.dry_run, base_url=base_url, artifacts=t.folder,
                                      step_screenshots=t.folder, on_outcome=outcomes.append)
        t.steps, t.outcome = summary.steps, outcomes[0] if outcomes else None
        if t.outcome is None:
            t.message = "このシナリオではすでに処理済みの書類です（入力済み・差し戻し済み）"
        t.state = "done"
    except Exception as e:  # shown on the page; the scenario or the target needs a look
        t.state, t.message = "error", f"{type(e).__name__}: {e}"


def _ready_documents(repo: TenantRepo, form: str) -> list[dict[str, Any]]:
    rows = repo.session.execute(
        sa.select(Document.id, Document.batch_id, SourceFile.name).join(SourceFile, Document.source_id == SourceFile.id)
        .where(Document.form == form, Document.status.in_(KEYABLE), Document.returned_reason.is_(None))
        .order_by(Document.id.desc()).limit(50))
    return [{"id": i, "batch": b, "source": n.split("/")[-1]} for i, b, n in rows]


@router.get("/admin/bots/scenarios/{name}/test")
def test_form(request: Request, state: State, repo: Repo, admin: Administrator, name: str) -> Response:
    row = library.get(repo, name)
    return render(state, request, "admin_bot_test.html", {
        "title": f"テスト実行: {name}", "row": row, "docs": _ready_documents(repo, row.form), "run": None})


@router.post("/admin/bots/scenarios/{name}/test", dependencies=[CSRF])
def start_test(state: State, repo: Repo, admin: Administrator, name: str, document_id: Annotated[int, Form()],
               base_url: Annotated[str, Form()] = "", real: Annotated[bool, Form()] = False) -> Response:
    row = library.get(repo, name)
    doc = repo.get(Document, document_id)
    if doc.form != row.form:
        raise NotFound()
    tid = secrets.token_urlsafe(12)
    folder = state.store.settings.data_dir / "bot-testruns" / tid
    folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.mkdir(mode=0o700)
    t = TestRun(tid, repo.code, name, doc.id, dry_run=not real, folder=folder)
    with _LOCK:
        _TESTS[tid] = t
        for old in list(_TESTS.values())[:-KEEP_TEST_RUNS]:
            if old.state != "running":
                shutil.rmtree(old.folder, ignore_errors=True)
                del _TESTS[old.id]
    repo.audit(admin.username, "bot.test_run", row, name=name, version=row.version, document_id=doc.id,
               dry_run=not real)
    threading.Thread(target=_test_run, args=(state, t, admin.username, row.version, base_url.strip() or None),
                     name=f"bot-test-{tid}", daemon=True).start()
    return RedirectResponse(f"/admin/bots/tests/{tid}", status_code=303)


def _test(repo: TenantRepo, tid: str) -> TestRun:
    t = _TESTS.get(tid)
    if t is None or t.tenant != repo.code:
        raise NotFound()
    return t


@router.get("/admin/bots/tests/{tid}")
def test_page(request: Request, state: State, repo: Repo, admin: Administrator, tid: str) -> Response:
    t = _test(repo, tid)
    return render(state, request, "admin_bot_test.html", {
        "title": f"テスト実行: {t.scenario}", "row": library.get(repo, t.scenario), "docs": [], "run": t})


@router.get("/admin/bots/tests/{tid}/status")
def test_status(repo: Repo, admin: Administrator, tid: str) -> Response:
    t = _test(repo, tid)
    o = t.outcome
    shots = [{"section": s.section, "where": s.where,
              "image": f"/admin/bots/tests/{tid}/shots/{n}.png" if s.screenshot else None}
             for n, s in enumerate(t.steps)]
    if o is not None and o.screenshot is not None and o.screenshot.is_file():
        shots.append({"section": "failed", "where": "失敗したときの画面",
                      "image": f"/admin/bots/tests/{tid}/shots/failed.png"})
    return JSONResponse({"state": t.state, "message": t.message, "dry_run": t.dry_run, "steps": shots,
                         "outcome": {"kind": o.kind.value, "message": o.message} if o else None})


@router.get("/admin/bots/tests/{tid}/shots/{n}.png")
def test_shot(repo: Repo, admin: Administrator, tid: str, n: str) -> Response:
    t = _test(repo, tid)
    if n == "failed" and t.outcome is not None and t.outcome.screenshot is not None:
        path: Path | None = t.outcome.screenshot
    elif n.isdigit() and int(n) < len(t.steps):
        path = t.steps[int(n)].screenshot
    else:
        path = None
    if path is None or not path.is_file():
        raise NotFound()
    return FileResponse(path, media_type="image/png")


# ---------------------------------------------------------------- dashboard


@router.get("/admin/bots/runs")
def runs(request: Request, state: State, repo: Repo, admin: Administrator) -> Response:
    rows = list(repo.session.scalars(sa.select(BotRun).order_by(BotRun.id.desc()).limit(100)))
    return render(state, request, "admin_bot_runs.html", {
        "title": "入力ボットの実行状況", "runs": [(r, per_minute(r)) for r in rows], "run": None, "receipts": []})


@router.get("/admin/bots/runs/{run_id}")
def run_detail(request: Request, state: State, repo: Repo, admin: Administrator, run_id: int) -> Response:
    run = repo.get(BotRun, run_id)
    receipts = list(repo.session.scalars(sa.select(KeyingReceipt).where(
        KeyingReceipt.run_id == str(run.id), KeyingReceipt.bot == run.bot).order_by(KeyingReceipt.document_id)))
    return render(state, request, "admin_bot_runs.html", {
        "title": f"入力ボットの実行 {run.id}", "runs": [(run, per_minute(run))], "run": run, "receipts": receipts})


@router.get("/admin/bots/receipts/{receipt_id}/{kind}")
def artifact(repo: Repo, admin: Administrator, receipt_id: int, kind: str) -> Response:
    """A failure's screenshot or Playwright trace (personal data: administrators only, every look audited)."""
    receipt = repo.get(KeyingReceipt, receipt_id)
    sha = next((a["sha256"] for a in receipt.artifacts or [] if a.get("kind") == kind), None)
    if sha is None:
        raise NotFound()
    repo.audit(admin.username, "bot.artifact_view", receipt, kind=kind, document_id=receipt.document_id)
    data = repo.blobs.get(repo.code, sha)
    if kind == "trace":
        return Response(data, media_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="receipt-{receipt.id}-trace.zip"'})
    return Response(data, media_type="image/png")

