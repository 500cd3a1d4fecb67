"""Images: a field's crop, a document's registered page (for drawn field boxes), a page as scanned."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from yomitori.review_ui import fields as F
from yomitori.review_ui.deps import Forbidden, ImageViewer, NotFound, Repo, State, can_unmask
from yomitori.store.blobs import BlobMissing
from yomitori.store.models import Document, Field, Page

router = APIRouter(include_in_schema=False)


def _png(repo: Repo, sha: str | None) -> Response:
    if not sha:
        raise NotFound()
    try:
        data = repo.blobs.get(repo.code, sha)
    except BlobMissing:  # purged after the retention period
        raise NotFound() from None
    media = "image/jpeg" if data.startswith(b"\xff\xd8\xff") else "image/png"  # a colour JPEG page is kept as is
    return Response(data, media_type=media, headers={"Cache-Control": "private, max-age=3600"})


@router.get("/images/fields/{field_id}.png")
def field_crop(state: State, repo: Repo, user: ImageViewer, field_id: int) -> Response:
    f = repo.get(Field, field_id)
    doc = repo.get(Document, f.document_id)
    if F.is_personal_number(doc.form, f.key, f.value):
        if not can_unmask(state, user):
            raise Forbidden()
        repo.audit(user.username, "field.view_image", f, key=f.key, document_id=doc.id)  # the number is in the image
    if f.crop_sha256 or not (f.box and doc.image_sha256):  # stored at extraction by earlier versions
        return _png(repo, f.crop_sha256)
    return _on_demand_crop(state, repo, user, doc, f)


def _on_demand_crop(state: State, repo: Repo, user: ImageViewer, doc: Document, f: Field) -> Response:
    from yomitori.jobs.stages import load_page_image
    from yomitori.review_ui.crops import field_crop as cut

    try:
        page = load_page_image(repo.blobs.get(repo.code, doc.image_sha256 or ""))
    except BlobMissing:
        raise NotFound() from None
    hidden = [] if can_unmask(state, user) else [
        x.box for x in doc.fields if x.box and x.id != f.id and F.is_personal_number(doc.form, x.key, x.value)]
    try:
        data = cut(page, f.box or (), hidden)
    except ValueError:
        raise NotFound() from None
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/images/documents/{doc_id}.png")
def document_page(repo: Repo, user: ImageViewer, doc_id: int) -> Response:
    return _png(repo, repo.get(Document, doc_id).image_sha256)


@router.get("/images/pages/{page_id}.png")
def scanned_page(repo: Repo, user: ImageViewer, page_id: int) -> Response:
    return _png(repo, repo.get(Page, page_id).image_sha256)
