"""The batch stages as job functions: ingest a file → extract pages (classify + OCR) → validate and gate.

Each takes a tenant code and row ids, reads and writes the store, and is idempotent: a page is claimed with a
lease before work, and its result is written only while the lease is still this job's, in one transaction with
the page's new status. A job killed half-way leaves its pages claimed; `reconcile` hands them to a new job once
the lease has expired or its process is gone.
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import load_only

from yomitori import metrics, saved_layouts
from yomitori.errors import YomitoriError
from yomitori.extract import Extractor, PageResult, WorkPage
from yomitori.forms_templates import templates
from yomitori.forms_templates.contract import ERROR_FORM
from yomitori.jobs.runtime import Runtime, new_lease_owner, owner_is_dead, runtime
from yomitori.logs import bind
from yomitori.store.models import (
    Document,
    Field,
    FieldStatus,
    Page,
    PageStatus,
    SourceFile,
    SourceStatus,
    utcnow,
)
from yomitori.store.repo import TenantRepo

log = logging.getLogger(__name__)

SOUKATSU, HOKOKUSHO, IDOU = "kyuyo_soukatsuhyo", "kyuyo_shiharai_hokokusho", "idou_todokede"
MAX_ATTEMPTS = 3  # a page whose extraction crashed its worker this often is reported as an error, not retried
_extractor: Extractor | None = None


def extractor(engine: str, threads: int = 0) -> Extractor:
    """One recognizer per worker process, loaded on its first job and kept for the next ones."""
    global _extractor
    if _extractor is None:
        from yomitori.ocr.engine import get_engine

        _extractor = Extractor(get_engine(engine, threads=threads), keep_images=True)  # for reviewers' crops
    return _extractor


# ---------------------------------------------------------------- ingest


@metrics.instrumented_job("ingest")
def ingest_source(tenant: str, source_id: int) -> int:
    """Split one original into pages: each page image stored as PNG, one row per page; returns new pages."""
    rt = runtime()
    owner = new_lease_owner()
    with rt.store.tenant(tenant) as repo:
        if not _claim(repo, SourceFile, [source_id], SourceStatus.pending, owner, rt.settings.lease_seconds):
            return 0
        source = repo.get(SourceFile, source_id)
        batch_id, sha = source.batch_id, source.sha256
        bind(batch=batch_id)
        known = set(repo.session.scalars(sa.select(Page.number).where(Page.source_id == source_id)))
    from yomitori.ingest import PageFailure, read_pages
    from yomitori.standard.importing import ingest_submission, looks_like_submission

    original = rt.store.blobs.get(tenant, sha)
    if looks_like_submission(original[:16]):  # an electronic 315 file: one document per line, no image
        return ingest_submission(rt, tenant, source_id, owner, original)

    new_pages: list[int] = []
    count, failure = 0, None
    with tempfile.TemporaryDirectory(prefix="yomitori-ingest-") as tmp:
        path = Path(tmp) / "original"
        path.write_bytes(original)
        as_is = _page_is_original(original)
        size = _whole_original_size(original, rt.settings.max_pixels) if as_is else None
        # A whole colour scan is not decoded here: its reader decodes it (once, as `yomitori extract` does).
        items = [_Undecoded(1, size)] if size else \
            read_pages(path, max_pages=rt.settings.max_pages, max_pixels=rt.settings.max_pixels)
        for item in items:
            if isinstance(item, PageFailure) and item.number is None:
                failure = item.message
                break
            count += 1
            if item.number in known:  # a re-run after a crash: this page is already in the store
                continue
            page = Page(batch_id=batch_id, source_id=source_id, number=item.number)
            if isinstance(item, PageFailure):
                page.status, page.error = PageStatus.error, item.message
            else:
                page.height, page.width = item.shape if isinstance(item, _Undecoded) else item.image.shape[:2]
                page.image_sha256 = sha if as_is else rt.store.blobs.put(tenant, _png(item.image))
            with rt.store.tenant(tenant) as repo:
                try:
                    with repo.session.begin_nested():
                        repo.session.add(page)
                except sa.exc.IntegrityError:  # a second ingester (after our lease ran out) was quicker
                    continue
                if page.status == PageStatus.ingested:
                    new_pages.append(page.id)
                metrics.count_pages("ingest", "ok" if page.status == PageStatus.ingested else "error")
                _renew(repo, SourceFile, source_id, owner, rt.settings.lease_seconds)
            if len(new_pages) >= rt.settings.pages_per_job:  # workers start reading while the file is still split
                _submit_chunks(rt, tenant, extract_pages, new_pages)
                new_pages = []
    _submit_chunks(rt, tenant, extract_pages, new_pages)
    with rt.store.tenant(tenant) as repo:
        done = repo.session.execute(
            sa.update(SourceFile).where(SourceFile.id == source_id, SourceFile.lease_owner == owner)
            .values(status=SourceStatus.error if failure else SourceStatus.ingested, error=failure,
                    page_count=None if failure else count, lease_owner=None, lease_until=None)
            .execution_options(synchronize_session=False))
        if done.rowcount and failure:
            log.warning("batch %s: input %d could not be read: %s", batch_id, source_id, failure)
        if done.rowcount:
            metrics.count_file("error" if failure else "ok")
        repo.finish_if_complete(batch_id, before=link_bundles)
    return count


ingest_source.feeds_pool = True  # type: ignore[attr-defined]  # its pages are read in the pool: start it at once


def _page_is_original(data: bytes) -> bool:
    """A colour JPEG or 8-bit RGB PNG of one page, upright: its page image is the original itself, decoded to
    the same pixels as ingest's (`load_page_image`). Writing a colour page as PNG takes 0.35–1 s."""
    return _original_size(data) is not None


def _original_size(data: bytes) -> tuple[int, int] | None:
    """(height, width) of an original that is its own page image (see `_page_is_original`), from its header."""
    if data.startswith(b"\xff\xd8\xff"):
        kind = "JPEG"
    elif data.startswith(b"\x89PNG\r\n\x1a\n") and data[24:26] == b"\x08\x02":  # IHDR: 8 bits, truecolour
        kind = "PNG"
    else:
        return None
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as im:
            if im.mode != "RGB" or "transparency" in im.info or getattr(im, "n_frames", 1) != 1:
                return None
            # Pillow decodes a whole PNG to look for an eXIf chunk after the pixels: not when there is none.
            upright = (kind == "PNG" and b"eXIf" not in data) or im.getexif().get(0x0112, 1) == 1
            return (im.height, im.width) if upright else None
    except Exception:  # ingest reports what is wrong with it
        return None


@dataclass(frozen=True)
class _Undecoded:
    """The one page of an original that is its own page image, known from its header."""

    number: int
    shape: tuple[int, int]


def _whole_original_size(data: bytes, max_pixels: int) -> tuple[int, int] | None:
    """Its size, where the original is its own page image, ends as its format ends (a cut-off file is decoded
    here, so that ingest reports it as the file's error) and is within the pixel limit."""
    size = _original_size(data)
    complete = data.rstrip(b"\0").endswith(b"\xff\xd9") if data.startswith(b"\xff\xd8") else \
        data.endswith(b"IEND\xaeB`\x82")
    return size if size and complete and size[0] * size[1] <= max_pixels else None


def submit_validation(rt: Runtime, tenant: str, page_ids: Sequence[int]) -> int:
    """Queue the validate stage for pages already extracted (an electronic submission's lines)."""
    return _submit_chunks(rt, tenant, validate_pages, page_ids, size=64)


def _png(rgb: np.ndarray) -> bytes:
    """Lossless page image; a gray scan (fax, B/W) is stored as one channel, a third of the size."""
    if rgb.ndim == 2:  # already gray (a registered page, a field crop)
        image = rgb
    else:
        gray = rgb[..., 0]
        image = gray if np.array_equal(gray, rgb[..., 1]) and np.array_equal(gray, rgb[..., 2]) else rgb[..., ::-1]
    # Level 1: as lossless as 3, about a tenth larger, and half the time on a colour scan (0.35 s, not 0.6).
    ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ValueError("page image could not be encoded as PNG")
    return buf.tobytes()


def _jpeg(gray: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, 92])
    if not ok:
        raise ValueError("page image could not be encoded as JPEG")
    return buf.tobytes()


def load_page_image(png: bytes) -> np.ndarray:
    """A stored page image as RGB (or gray) uint8, as `yomitori.ingest` delivered it (a colour JPEG original is
    decoded by Pillow, as ingest does, so the pixels are the same; PNG is lossless whoever decodes it)."""
    if png.startswith(b"\xff\xd8\xff"):
        from PIL import Image

        with Image.open(io.BytesIO(png), formats=["JPEG"]) as im:  # no copy through convert() for RGB or gray
            return np.array(im if im.mode in ("RGB", "L") else im.convert("RGB"), dtype=np.uint8, order="C")
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError("stored page image is not a readable PNG")
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.shape[2] == 3 else np.ascontiguousarray(image[..., ::-1])


# ---------------------------------------------------------------- extract


@metrics.instrumented_job("extract")
def extract_pages(tenant: str, page_ids: list[int]) -> int:
    """Classify and read a few pages together (recognition is batched across them); returns pages written."""
    rt = runtime()
    owner = new_lease_owner()
    with rt.store.tenant(tenant) as repo:
        claimed = _claim(repo, Page, page_ids, PageStatus.ingested, owner, rt.settings.lease_seconds)
        rows = [(p.id, p.source.name, p.number, p.image_sha256, p.attempts) for p in claimed]
        learned = saved_layouts.active_layouts(repo)  # the tenant's saved layouts are read as bundled ones are
        bind(batch=sorted({p.batch_id for p in claimed}) or None)
    metrics.count_pages("extract", "skipped", len(page_ids) - len(rows))
    if not rows:
        return 0
    results: dict[int, PageResult] = {}
    work: list[tuple[int, WorkPage]] = []
    photos: set[int] = set()  # pages scanned as JPEG: their registered image is stored as JPEG too
    from yomitori.ocr.preprocess import to_working

    for page_id, source, number, sha, attempts in rows:
        if attempts > MAX_ATTEMPTS:
            results[page_id] = _error(source, number, f"extraction stopped its worker {MAX_ATTEMPTS} times; "
                                      "check the page image")
            continue
        try:
            data = rt.store.blobs.get(tenant, sha)
            if data.startswith(b"\xff\xd8\xff"):
                photos.add(page_id)
            gray = to_working(load_page_image(data))
            work.append((page_id, WorkPage(source, number, gray)))
        except Exception as exc:
            results[page_id] = _error(source, number, f"page image could not be loaded ({exc})")
    try:
        ex = extractor(rt.settings.ocr_engine, rt.settings.ocr_threads)
        ex.layouts = [*templates().values(), *learned]
        results.update(_read(ex, work))
    except YomitoriError:  # the installation, not the pages, is at fault: leave them for a retry once it is fixed
        with rt.store.tenant(tenant) as repo:
            _release(repo, Page, [r[0] for r in rows], owner)
        raise
    written: list[int] = []
    with rt.store.tenant(tenant) as repo:
        for page_id, result in results.items():
            if _write_result(repo, page_id, owner, result, photo=page_id in photos):
                written.append(page_id)
                metrics.count_pages("extract", "error" if result.form == ERROR_FORM else "ok")
        batch_ids = set(repo.session.scalars(sa.select(Page.batch_id).where(Page.id.in_(page_ids))))
        for batch_id in batch_ids:
            repo.finish_if_complete(batch_id, before=link_bundles)  # when the last pages were errors
    metrics.count_pages("extract", "skipped", len(rows) - len(written))  # lost the lease to another job
    to_validate = [pid for pid in written if results[pid].form != ERROR_FORM]
    _submit_chunks(rt, tenant, validate_pages, to_validate, size=len(to_validate) or 1)
    return len(written)


extract_pages.pooled = True  # type: ignore[attr-defined]  # the embedded runtime may run it in a process pool


def _read(ex: Extractor, work: list[tuple[int, WorkPage]]) -> dict[int, PageResult]:
    if not work:
        return {}
    try:
        return {pid: r for (pid, _), r in zip(work, ex.read([w for _, w in work]), strict=True)}
    except YomitoriError:
        raise
    except Exception:
        if len(work) == 1:
            pid, w = work[0]
            log.exception("extraction failed on page %d (page id %d)", w.number, pid)
            return {pid: _error(w.source, w.number, "extraction failed on this page; see the worker log")}
    # One page broke the batch: read them one by one, so only that page is reported.
    out: dict[int, PageResult] = {}
    for item in work:
        out.update(_read(ex, [item]))
    return out


def _error(source: str, number: int, message: str) -> PageResult:
    return PageResult(source, [number], ERROR_FORM, error=message)


def _write_result(repo: TenantRepo, page_id: int, owner: str, result: PageResult, *, photo: bool = False) -> bool:
    """Store one page's result, only if this job still holds the page (else another job took it over).

    `photo`: the page came as a JPEG, so its registered image (what reviewers see) is written as JPEG as well:
    a PNG of its grain is 3 MB and 0.17 s to write, the JPEG a tenth of both, with no loss a reader sees."""
    error = result.form == ERROR_FORM
    taken = repo.session.execute(
        sa.update(Page).where(Page.id == page_id, Page.lease_owner == owner, Page.status == PageStatus.ingested)
        .values(status=PageStatus.error if error else PageStatus.extracted, error=result.error,
                form=result.form, layout=result.layout, form_confidence=result.form_confidence,
                rotation=result.rotation, lease_owner=None, lease_until=None, extracted_at=utcnow())
        .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        return False
    if error:
        return True
    page = repo.get(Page, page_id)
    repo.session.refresh(page)
    doc = repo.session.scalar(sa.select(Document).where(Document.source_id == page.source_id,
                                                        Document.first_page == page.number))
    if doc is None:
        doc = Document(batch_id=page.batch_id, source_id=page.source_id, first_page=page.number, form=result.form)
        repo.session.add(doc)
    doc.form, doc.layout, doc.form_confidence = result.form, result.layout, result.form_confidence
    if result.image is not None:
        doc.image_sha256 = repo.blobs.put(repo.code, _jpeg(result.image) if photo else _png(result.image))
    repo.session.flush()
    page.document_id = doc.id
    existing = {f.key: f for f in repo.session.scalars(sa.select(Field).where(Field.document_id == doc.id))}
    kept = False  # a reviewer's value the extraction did not see
    from yomitori.masters.pipeline import gate_with_masters, record_match

    masters = gate_with_masters(repo, result)  # the municipality's masters: match, evidence, candidates, checks
    for key, r in result.fields.items():
        field = existing.get(key)
        if field is None:
            field = Field(document_id=doc.id, key=key)
            repo.session.add(field)
        elif field.status in (FieldStatus.corrected, FieldStatus.approved):
            kept = True
            continue  # a reviewer's decision outlives a re-extraction
        field.value = field.extracted_value = r.value
        field.confidence, field.review, field.reasons = r.confidence, r.review, list(r.reasons)
        field.box = list(r.box) if r.box is not None else None
        field.crop_sha256 = None  # cut from the document's image when a reviewer opens it (review_ui/crops.py)
        field.status = FieldStatus.needs_review if r.review else FieldStatus.auto
        field.alternatives = list(r.alternatives)  # the second reader's value, where the readers disagree
        if masters is not None and key in masters.candidates:  # the master's value, offered first (Alt+1)
            mine = masters.candidates[key]
            field.alternatives = [mine, *(a for a in r.alternatives if a != mine)]  # then what was read
    repo.session.flush()
    # The gate validated these values already: keep its findings for the validate stage. Only values it did not
    # see (a reviewer's, or ones settled after it) are validated here.
    if result.findings is None or kept:
        stored = repo.session.scalars(sa.select(Field).where(Field.document_id == doc.id))
        doc.findings = run_validators(doc.form, {f.key: f.value for f in stored})
    else:
        doc.findings = [_as_dict(x) for x in result.findings]
    doc.findings = [*doc.findings, *record_match(repo, doc, masters)]
    return True


# ---------------------------------------------------------------- validate and gate


@metrics.instrumented_job("validate")
def validate_pages(tenant: str, page_ids: list[int]) -> int:
    """Set each field's gate status from its document's findings (stored at extraction); returns pages done."""
    rt = runtime()
    n = 0
    with rt.store.tenant(tenant) as repo:
        pages = repo.session.scalars(sa.select(Page).where(Page.id.in_(page_ids),
                                                           Page.status == PageStatus.extracted)).all()
        for page in pages:
            if page.document_id is not None:
                doc = repo.get(Document, page.document_id)
                gate_document(repo, doc, revalidate=False)  # the extraction's gate ran the validators
                statuses = list(repo.session.scalars(sa.select(Field.status).where(Field.document_id == doc.id)))
                metrics.count_gated(statuses.count(FieldStatus.auto), statuses.count(FieldStatus.needs_review),
                                    str(doc.status))
            page.status = PageStatus.done
            n += 1
        metrics.count_pages("validate", "ok", n)
        metrics.count_pages("validate", "skipped", len(page_ids) - n)
        for batch_id in {p.batch_id for p in pages}:
            repo.finish_if_complete(batch_id, before=link_bundles)
    return n


def gate_document(repo: TenantRepo, doc: Document, *, revalidate: bool = True) -> None:
    """The confidence gate plus the validators: a field named by an error finding goes to review.

    `revalidate` runs the validators on the stored values (after a reviewer's edit); without it, the findings
    stored with the document (the extraction's gate found them) decide."""
    query = sa.select(Field).where(Field.document_id == doc.id)
    if not revalidate:  # the gate needs no value: none is decrypted
        query = query.options(load_only(Field.key, Field.status, Field.review, Field.findings, Field.tenant_id))
    fields = list(repo.session.scalars(query))
    if revalidate:  # the masters' match (yomitori/masters) is made again on the stored values too
        from yomitori.masters.pipeline import rematch

        validated = run_validators(doc.form, {f.key: f.value for f in fields})
        masters = rematch(repo, doc, fields, validated)
        kept = masters if masters is not None else [
            x for x in doc.findings or [] if str(x.get("rule", "")).startswith("master_")]
        doc.findings = validated + kept
    _apply_findings(repo, doc, fields, doc.findings or [])


def _apply_findings(repo: TenantRepo, doc: Document, fields: list[Field], findings: list[dict[str, Any]]) -> None:
    named: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        for key in _finding_keys(finding):
            named.setdefault(key, []).append(finding)
    for f in fields:
        f.findings = named.get(f.key, [])
        if f.status in (FieldStatus.corrected, FieldStatus.approved):
            continue
        blocking = any(_is_error(x) for x in f.findings) or any(_is_error(x) and not _finding_keys(x)
                                                                 for x in findings)
        f.status = FieldStatus.needs_review if f.review or blocking else FieldStatus.auto
    repo.session.flush()
    repo.refresh_document_status(doc)


def _payer(doc: Document) -> object:
    return next((f.value for f in doc.fields if f.key == "payer_number"), None)


def _is_error(finding: dict[str, Any]) -> bool:
    return str(finding.get("severity", "error")).lower() == "error"


def run_validators(form: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    """`yomitori.validation.validate_document(form, values)` as plain dicts (fields, rule, message, severity).

    A page no layout matched has no form to check. A validator that crashes sends the document to review
    rather than stopping the batch.
    """
    from yomitori.forms_templates.contract import contract_forms

    try:
        from yomitori.validation import validate_document
    except ImportError:  # an installation without validators: the extractor's confidence gate alone
        return []
    if form not in contract_forms():
        return []
    try:
        return [_as_dict(f) for f in validate_document(form, values)]
    except Exception:
        log.exception("validators failed on a %s document", form)
        return [{"fields": sorted(values), "rule": "validation_failed", "severity": "error",
                 "message": "検証処理でエラーが発生しました。全項目を確認してください"}]


def link_bundles(repo: TenantRepo, batch_id: int) -> None:
    """A 総括表 heads the 明細書 that follow it (in submission order) until the next 総括表 or 異動届出書.

    Within one file, order decides; a 明細書 in a later file joins only if it names the same 支払者 number
    (one scan per page is common, but so is a stray page). The 総括表 is then checked against its bundle
    (報告人員 = number of 明細書, same year and payer).
    """
    head: Document | None = None
    bundles: dict[int, list[Document]] = {}
    for doc in repo.documents(batch_id):
        if doc.form == SOUKATSU:
            head = doc
            bundles[doc.id] = []
        elif doc.form == HOKOKUSHO and head is not None:
            if doc.source_id == head.source_id or (_payer(doc) is not None and _payer(doc) == _payer(head)):
                doc.bundle_id = head.id
                bundles[head.id].append(doc)
        elif doc.form == IDOU:
            head = None
    try:
        from yomitori.validation import check_bundle
    except ImportError:
        return
    for head_id, members in bundles.items():
        head = repo.get(Document, head_id)
        values = {f.key: f.value for f in head.fields}
        try:
            found = [_as_dict(f) for f in check_bundle(values, len(members),
                                                       meisai=[{f.key: f.value for f in m.fields} for m in members])]
        except Exception:
            log.exception("bundle check failed on document %d", head_id)
            continue
        head.findings = [x for x in head.findings if not str(x.get("rule", "")).startswith("bundle_")] + found
        _apply_findings(repo, head, list(head.fields), head.findings)


def _as_dict(finding: object) -> dict[str, Any]:
    if hasattr(finding, "model_dump"):
        data = finding.model_dump(mode="json")
    elif is_dataclass(finding) and not isinstance(finding, type):
        data = asdict(finding)
    elif isinstance(finding, dict):
        data = dict(finding)
    else:
        data = dict(vars(finding))
    return {k: _jsonable(v) for k, v in data.items()}


def _jsonable(v: Any) -> Any:
    if isinstance(v, str | int | float | bool) or v is None:
        return v
    if isinstance(v, list | tuple | set | frozenset):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return str(v)


def _finding_keys(finding: dict[str, Any]) -> list[str]:
    """The field keys a finding names, whatever the validators call that attribute."""
    for name in ("fields", "keys", "field_keys"):
        if isinstance(finding.get(name), list):
            return [str(k) for k in finding[name]]
    for name in ("field", "key"):
        if isinstance(finding.get(name), str):
            return [finding[name]]
    return []


# ---------------------------------------------------------------- leases and hand-over


def _claim(repo: TenantRepo, model: type[Page] | type[SourceFile], ids: Sequence[int], status: Any, owner: str,
           lease_seconds: int) -> list[Any]:
    """Atomically take the rows that are in `status` and not leased (or whose lease ran out); commit at once."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {"lease_owner": owner, "lease_until": now + timedelta(seconds=lease_seconds)}
    if model is Page:
        values["attempts"] = Page.attempts + 1
    repo.session.execute(
        sa.update(model).where(model.id.in_(list(ids)), model.status == status,
                               sa.or_(model.lease_owner.is_(None), model.lease_until < now))
        .values(**values).execution_options(synchronize_session=False))
    repo.session.commit()  # the claim must be visible to other workers before the work starts
    return list(repo.session.scalars(sa.select(model).where(model.id.in_(list(ids)), model.lease_owner == owner)
                                     .order_by(model.id)))


def _release(repo: TenantRepo, model: type[Page] | type[SourceFile], ids: Sequence[int], owner: str) -> None:
    repo.session.execute(sa.update(model).where(model.id.in_(list(ids)), model.lease_owner == owner)
                         .values(lease_owner=None, lease_until=None).execution_options(synchronize_session=False))


def _renew(repo: TenantRepo, model: type[Page] | type[SourceFile], id_: int, owner: str, lease_seconds: int) -> None:
    """A long job keeps its claim alive while it works."""
    repo.session.execute(sa.update(model).where(model.id == id_, model.lease_owner == owner)
                         .values(lease_until=datetime.now(UTC) + timedelta(seconds=lease_seconds))
                         .execution_options(synchronize_session=False))


def _submit_chunks(rt: Runtime, tenant: str, func: Callable[..., Any], page_ids: Sequence[int],
                   size: int | None = None) -> int:
    size = size or rt.settings.pages_per_job
    chunks = [list(page_ids[i : i + size]) for i in range(0, len(page_ids), size)]
    jobs = [(rt.dispatcher.submit(func, tenant, chunk), chunk) for chunk in chunks]
    if jobs:
        with rt.store.tenant(tenant) as repo:
            for job_id, chunk in jobs:
                repo.session.execute(sa.update(Page).where(Page.id.in_(chunk)).values(job_id=job_id)
                                     .execution_options(synchronize_session=False))
    return len(jobs)


def _lease_alive(row: Page | SourceFile, now: datetime) -> bool:
    if row.lease_owner is None or row.lease_until is None:
        return False
    until = row.lease_until if row.lease_until.tzinfo else row.lease_until.replace(tzinfo=UTC)
    return until >= now and not owner_is_dead(row.lease_owner)


def reconcile(rt: Runtime, tenant: str, batch_id: int) -> int:
    """Give every unfinished piece of the batch a job, unless one is queued or a live worker holds it.

    Submitting a batch is this on a new batch; workers run it on start-up and every few seconds, which is how
    the work of a killed worker comes back. Returns the number of jobs submitted.
    """
    now = datetime.now(UTC)
    with rt.store.tenant(tenant) as repo:
        sources = [s for s in repo.sources(batch_id) if s.status == SourceStatus.pending
                   and not rt.dispatcher.waiting(s.job_id) and not _lease_alive(s, now)]
        to_extract = [p.id for p in repo.pages(batch_id, PageStatus.ingested)
                      if not rt.dispatcher.waiting(p.job_id) and not _lease_alive(p, now)]
        to_validate = [p.id for p in repo.pages(batch_id, PageStatus.extracted) if not rt.dispatcher.waiting(p.job_id)]
        for s in sources:
            s.lease_owner = s.lease_until = None
            s.job_id = rt.dispatcher.submit(ingest_source, tenant, s.id)
        # Drop dead leases, and only those: a worker may have claimed one of these pages a moment ago.
        dead = {p.lease_owner for p in repo.pages(batch_id, PageStatus.ingested)
                if p.id in set(to_extract) and p.lease_owner}
        repo.session.execute(sa.update(Page).where(
            Page.id.in_(to_extract),
            sa.or_(Page.lease_owner.is_(None), Page.lease_owner.in_(dead), Page.lease_until < now))
            .values(lease_owner=None, lease_until=None).execution_options(synchronize_session=False))
        if not (sources or to_extract or to_validate):
            repo.finish_if_complete(batch_id, before=link_bundles)
    return len(sources) + _submit_chunks(rt, tenant, extract_pages, to_extract) + \
        _submit_chunks(rt, tenant, validate_pages, to_validate, size=64)


def reconcile_all(rt: Runtime) -> int:
    """`reconcile` for every running batch of every tenant."""
    n = 0
    for tenant, batch_id in rt.store.open_batches():
        try:
            n += reconcile(rt, tenant, batch_id)
        except Exception:  # one tenant's trouble must not stop the others' recovery
            log.exception("could not look for lost work in batch %d of tenant %s", batch_id, tenant)
    return n
