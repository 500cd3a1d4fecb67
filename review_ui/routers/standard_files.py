"""Standard files on the batch page: download in an export profile's layout (roles that may see 個人番号 only),
the 入力確認票 and 異動者リスト; and an electronic submission's line shown in place of a page image."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import Response

from yomitori.review_ui.deps import CSRF, AppState, BatchViewer, Forbidden, NotFound, Repo, State, can_unmask
from yomitori.standard import reports
from yomitori.standard.exporting import export_batch, export_items, exportable
from yomitori.standard.importing import line_items
from yomitori.standard.profiles import ProfileError, load_profile, shipped_profiles
from yomitori.standard.records import write_file
from yomitori.store.models import Document, Field, User
from yomitori.store.repo import TenantRepo

router = APIRouter(include_in_schema=False)


def batch_page_context(state: AppState, repo: TenantRepo, user: User, batch_id: int,
                       docs: list[Document]) -> dict[str, Any]:
    """The shipped profiles of the forms in the batch, how many documents each would write, which it refuses, and
    how many it holds back (支援措置, for this user's role: not counted as written)."""
    from yomitori.masters.pipeline import support_measure_documents

    forms = {d.form for d in docs}
    if not can_unmask(state, user):
        return {"exports": [], "export_forbidden": bool(forms)}
    out = []
    for name in shipped_profiles():
        p = load_profile(name)
        if p.form not in forms:
            continue
        ready = exportable(repo, batch_id, p.form)
        held = set() if user.role.value in state.settings.support_measure_roles else \
            support_measure_documents(repo, ready)
        # what the download would write and refuse, named before it is asked for
        dry = write_file(p, export_items([d for d in ready if d.id not in held]))
        out.append({"name": p.name, "title": p.title or p.name, "count": len(dry.written), "held": len(held),
                    "refused": [(ref, str(e)) for ref, e in dry.refused]})
    return {"exports": out, "export_forbidden": False}


def document_context(doc: Document, flagged: list[Field]) -> dict[str, Any]:
    page = doc.pages[0] if doc.pages else None
    if page is None or not page.record_line:
        return {"record_items": None}
    return {"record_items": line_items(page, doc.form), "flagged_keys": {f.key for f in flagged}}


@router.post("/batches/{batch_id}/export", dependencies=[CSRF])
def download(state: State, repo: Repo, user: BatchViewer, batch_id: int, profile: Annotated[str, Form()],
             municipality_code: Annotated[str, Form()] = "") -> Response:
    if not can_unmask(state, user):
        repo.audit(user.username, "batch.export_refused", user, reason="role", role=user.role.value)
        repo.session.commit()  # kept though the request fails
        raise Forbidden()
    if profile not in shipped_profiles():
        raise NotFound()
    try:
        p = load_profile(profile)
    except ProfileError as e:
        raise NotFound() from e
    options = {"municipality_code": municipality_code.strip()} if municipality_code.strip() and \
        "municipality_code" in p.options else {}
    result = export_batch(repo, batch_id, p, actor=user.username, role=user.role.value, options=options, via="web",
                          support_measure_roles=state.settings.support_measure_roles)
    name = f"batch{batch_id}-{p.name}.csv"
    return Response(result.data, media_type=f"text/csv; charset={'shift_jis' if p.encoding == 'cp932' else 'utf-8'}",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
                             "X-Records-Written": str(len(result.written)),
                             "X-Records-Refused": str(len(result.refused))})


@router.get("/batches/{batch_id}/reports/{kind}.{fmt}")
def report(state: State, repo: Repo, user: BatchViewer, batch_id: int, kind: str, fmt: str) -> Response:
    if kind not in ("kakunin", "idou") or fmt not in ("pdf", "csv"):
        raise NotFound()
    r = reports.build(repo, batch_id, kind, user.username, role=user.role.value,
                      support_measure_roles=state.settings.support_measure_roles, via="web")
    data = reports.to_pdf(r) if fmt == "pdf" else reports.to_csv(r)
    media = "application/pdf" if fmt == "pdf" else "text/csv; charset=utf-8"
    return Response(data, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="batch{batch_id}-{kind}.{fmt}"', "Cache-Control": "no-store"})
