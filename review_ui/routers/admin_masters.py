"""Administrators: import the municipality's masters (CSV, read in memory and never stored), the 送付先誤り list."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from yomitori.masters.keys import master_key
from yomitori.masters.pipeline import misdirected, misdirected_csv
from yomitori.masters.records import KINDS, MasterError
from yomitori.masters.store import import_master
from yomitori.review_ui.deps import CSRF, Administrator, Repo, State, render
from yomitori.store.models import MasterEmployer, MasterResident, MasterRollEntry

router = APIRouter(include_in_schema=False)
KIND_LABELS = {"residents": "宛名（住民）", "employers": "特別徴収義務者", "roll": "特別徴収対象者名簿"}


def _page(request: Request, state: State, repo: Repo, message: str = "", error: str = "",
          status: int = 200) -> Response:
    counts = {kind: repo.session.scalar(sa.select(sa.func.count(model.id)))
              for kind, model in (("residents", MasterResident), ("employers", MasterEmployer),
                                  ("roll", MasterRollEntry))}
    return render(state, request, "admin_masters.html", {
        "title": "台帳（マスタ）", "kinds": KIND_LABELS, "counts": counts, "message": message, "error": error,
        "misdirected": misdirected(repo)}, status)


@router.get("/admin/masters")
def masters_page(request: Request, state: State, repo: Repo, admin: Administrator) -> Response:
    return _page(request, state, repo)


@router.post("/admin/masters", dependencies=[CSRF])
async def import_page(request: Request, state: State, repo: Repo, admin: Administrator,
                      kind: Annotated[str, Form()], file: Annotated[UploadFile, File()],
                      mapping: Annotated[UploadFile | None, File()] = None) -> Response:
    if kind not in KINDS:
        return _page(request, state, repo, error="台帳の種類を選んでください", status=400)
    data = await file.read()  # in memory only: the CSV holds 個人番号 and is never written anywhere
    key = master_key(state.settings)
    try:
        if mapping is not None and mapping.filename:
            with tempfile.TemporaryDirectory() as tmp:  # the mapping holds column names only
                path = Path(tmp) / "mapping.yaml"
                path.write_bytes(await mapping.read())
                report = import_master(repo, kind, data, key=key, mapping=path, actor=admin.username)  # type: ignore[arg-type]
        else:
            report = import_master(repo, kind, data, key=key, actor=admin.username)  # type: ignore[arg-type]
    except MasterError as e:
        return _page(request, state, repo, error=f"取り込めません：{e}", status=400)
    message = (f"{KIND_LABELS[kind]}：追加 {report.added}・更新 {report.updated}・変更なし {report.unchanged}・"
               f"取り込めない行 {len(report.errors)}")
    return _page(request, state, repo, message=message, error="\n".join(report.errors[:20]))


@router.get("/admin/masters/misdirected.csv")
def misdirected_download(repo: Repo, admin: Administrator) -> Response:
    rows = misdirected(repo)
    repo.audit(admin.username, "master.misdirected_list", None, rows=len(rows), via="ui")
    return Response(misdirected_csv(rows).encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="misdirected.csv"',
                             "Cache-Control": "no-store"})
