"""Auditors and administrators: browse the append-only audit log of the tenant and export it as CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from yomitori.review_ui.deps import Auditor, Repo, State, render
from yomitori.store.models import AuditLog
from yomitori.store.repo import TenantRepo

router = APIRouter(include_in_schema=False)
PAGE = 100
JST = ZoneInfo("Asia/Tokyo")


def _query(repo: TenantRepo, actor: str, action: str, day_from: date | None, day_to: date | None,
           document: int | None) -> sa.Select:
    q = sa.select(AuditLog).where(AuditLog.tenant_id == repo.tenant.id)
    if actor:
        q = q.where(AuditLog.actor == actor)
    if action:
        q = q.where(AuditLog.action.startswith(action))
    if day_from:
        q = q.where(AuditLog.at >= datetime.combine(day_from, time(), JST))
    if day_to:
        q = q.where(AuditLog.at < datetime.combine(day_to + timedelta(days=1), time(), JST))
    if document is not None:
        q = q.where(sa.or_(sa.and_(AuditLog.object_type == "documents", AuditLog.object_id == str(document)),
                           sa.func.json_extract(AuditLog.detail, "$.document_id") == document)
                    if repo.session.bind.dialect.name == "sqlite" else
                    sa.or_(sa.and_(AuditLog.object_type == "documents", AuditLog.object_id == str(document)),
                           AuditLog.detail["document_id"].as_integer() == document))
    return q.order_by(AuditLog.id.desc())


def _local(t: datetime) -> str:
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(JST).strftime("%Y-%m-%d %H:%M:%S")


@router.get("/audit")
def audit_log(request: Request, state: State, repo: Repo, user: Auditor, actor: str = "", action: str = "",
              day_from: date | None = None, day_to: date | None = None, document: int | None = None,
              page: int = 0) -> Response:
    rows = list(repo.session.scalars(_query(repo, actor, action, day_from, day_to, document)
                                     .offset(max(page, 0) * PAGE).limit(PAGE + 1)))
    return render(state, request, "audit.html", {
        "title": "監査ログ", "rows": [(r, _local(r.at)) for r in rows[:PAGE]], "more": len(rows) > PAGE,
        "page": page, "filters": {"actor": actor, "action": action, "day_from": day_from or "",
                                  "day_to": day_to or "", "document": "" if document is None else document},
        "query": str(request.url.query)})


@router.get("/audit/export.csv")
def export(repo: Repo, user: Auditor, actor: str = "", action: str = "", day_from: date | None = None,
           day_to: date | None = None, document: int | None = None) -> Response:
    repo.audit(user.username, "audit.export", filters={"actor": actor, "action": action,
                                                       "from": str(day_from or ""), "to": str(day_to or "")})
    repo.session.commit()
    rows = list(repo.session.execute(_query(repo, actor, action, day_from, day_to, document)
                                     .with_only_columns(AuditLog.id, AuditLog.at, AuditLog.actor, AuditLog.action,
                                                        AuditLog.object_type, AuditLog.object_id, AuditLog.detail)))

    def lines() -> Iterator[str]:
        yield "\ufeff"  # a BOM, so Excel opens the Japanese text as UTF-8
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["id", "at", "actor", "action", "object", "object_id", "document", "field", "old", "new",
                    "detail"])
        for id_, at, who, what, otype, oid, detail in rows:
            d = detail or {}
            w.writerow([id_, _local(at), who, what, otype, oid, d.get("document_id", ""), d.get("key", ""),
                        _cell(d.get("old")), _cell(d.get("new")), json.dumps(d, ensure_ascii=False)])
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})


def _cell(v: object) -> str:
    return "" if v is None else str(v)
