"""Images: a field's crop, a document's registered page (for drawn field boxes), a page as scanned.

A role that may not see 個人番号 gets page images with every 個人番号 box blacked out (review_ui.page_masks); every
image served with the numbers legible is in the audit log. Nothing is cached: counter PCs are shared.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from yomitori.review_ui import fields as F
from yomitori.review_ui.deps import Forbidden, ImageViewer, NotFound, Repo, State, can_unmask
from yomitori.review_ui.page_masks import black_out, personal_boxes
from yomitori.review_ui.support_measure import guard
from yomitori.store.blobs import BlobMissing
from yomitori.store.models import Document, Field, Page

router = APIRouter(include_in_schema=False)


def _blob(repo: Repo, sha: str | None) -> bytes:
    if not sha:
        raise NotFound()
    try:
        return repo.blobs.get(repo.code, sha)
    except BlobMissing:  # purged after the retention period
        raise NotFound() from None


def _png(data: bytes) -> Response:
    media = "image/jpeg" if data.startswith(b"\xff\xd8\xff") else "image/png"  # a colour JPEG page is kept as is
    return Response(data, media_type=media, headers={"Cache-Control": "no-store"})


@router.get("/images/fields/{field_id}.png")
def field_crop(state: State, repo: Repo, user: ImageViewer, field_id: int) -> Response:
    f = repo.get(Field, field_id)
    doc = repo.get(Document, f.document_id)
    guard(state, repo, user, doc.id, "field_image")  # 支援措置: 403 for roles not named, audited
    if F.is_personal_number(doc.form, f.key, f.value):
        if not can_unmask(state, user):
            raise Forbidden()
        repo.audit(user.username, "field.view_image", f, key=f.key, document_id=doc.id)  # the number is in the image
    if f.crop_sha256 or not (f.box and doc.image_sha256):  # stored at extraction by earlier versions
        return _png(_blob(repo, f.crop_sha256))
    return _on_demand_crop(state, repo, user, doc, f)


def _on_demand_crop(state: State, repo: Repo, user: ImageViewer, doc: Document, f: Field) -> Response:
    """Cut from the registered page now (review_ui.crops); 個人番号 boxes around it blacked out unless unmasked."""
    from yomitori.jobs.stages import load_page_image
    from yomitori.review_ui.crops import field_crop as cut

    page = load_page_image(_blob(repo, doc.image_sha256))
    hidden: list = []
    if not can_unmask(state, user):
        boxes = personal_boxes(doc)
        hidden = boxes if boxes is not None else [
            x.box for x in doc.fields if x.box and F.is_personal_number(doc.form, x.key, x.value)]
    try:
        return _png(cut(page, f.box or (), hidden))
    except ValueError:
        raise NotFound() from None


def _document_image(state: State, repo: Repo, user: ImageViewer, doc: Document, via: str) -> Response:
    guard(state, repo, user, doc.id, f"{via}_image")
    data = _blob(repo, doc.image_sha256)
    if can_unmask(state, user):
        repo.audit(user.username, "document.view_image", doc, via=via)  # 個人番号 legible in it
        return _png(data)
    boxes = personal_boxes(doc)
    if boxes is None:  # no layout says where the numbers are: nothing is shown rather than a legible one
        raise Forbidden()
    return _png(black_out(data, boxes))


@router.get("/images/documents/{doc_id}.png")
def document_page(state: State, repo: Repo, user: ImageViewer, doc_id: int) -> Response:
    return _document_image(state, repo, user, repo.get(Document, doc_id), "document")


@router.get("/images/pages/{page_id}.png")
def scanned_page(state: State, repo: Repo, user: ImageViewer, page_id: int) -> Response:
    page = repo.get(Page, page_id)
    if page.document_id is not None:
        guard(state, repo, user, page.document_id, "page_image")
    if can_unmask(state, user):
        data = _blob(repo, page.image_sha256)
        repo.audit(user.username, "page.view_image", page)
        return _png(data)
    # The scan is not registered onto a layout, so its 個人番号 boxes cannot be found in it: a role that may not
    # see them gets the page as registered, boxes blacked out, or nothing.
    if page.document_id is None:
        raise Forbidden()
    doc = repo.get(Document, page.document_id)
    if doc.first_page != page.number or not doc.image_sha256:
        raise Forbidden()
    return _document_image(state, repo, user, doc, "page")
