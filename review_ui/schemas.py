"""The API's public shapes: built from store rows in one place, so 個人番号 masking has one place to live."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from yomitori.review_ui import fields as F
from yomitori.review_ui import workflow as W
from yomitori.review_ui.stats import BatchStats
from yomitori.store.models import Document, Field


class StageProgress(BaseModel):
    done: int
    total: int


class BatchOut(BaseModel):
    id: int
    name: str
    status: str
    created_at: datetime
    created_by: str
    files: int
    files_failed: int
    pages: int
    pages_failed: int
    documents: int
    needs_review: int
    stages: dict[str, StageProgress]  # ingest (files), extract and validate (pages)
    straight_through: float | None  # share of documents no person had to look at
    bundle_mismatches: int
    hours_saved: float

    @classmethod
    def of(cls, s: BatchStats) -> BatchOut:
        p = s.progress
        return cls(id=s.batch.id, name=s.batch.name, status=p.status, created_at=s.batch.created_at,
                   created_by=s.batch.created_by, files=p.files, files_failed=p.files_failed, pages=p.pages,
                   pages_failed=p.pages_failed, documents=p.documents, needs_review=p.needs_review,
                   stages={"ingest": StageProgress(done=p.files_ingested + p.files_failed, total=p.files),
                           "extract": StageProgress(done=p.pages_extracted + p.pages_failed, total=p.pages),
                           "validate": StageProgress(done=p.pages_done, total=p.pages - p.pages_failed)},
                   straight_through=s.straight_through, bundle_mismatches=s.bundle_mismatches,
                   hours_saved=round(s.hours_saved, 2))


class FindingOut(BaseModel):
    fields: list[str]
    rule: str
    message: str
    severity: str


class FieldOut(BaseModel):
    id: int
    key: str
    label: str
    value: Any  # 個人番号 masked (●●●● ●●●● 1234) unless the role may see it
    masked: bool
    extracted_value: Any | None  # what OCR read; null when masked
    confidence: float
    status: str
    reasons: list[str]
    findings: list[FindingOut]
    box_mm: list[float] | None
    crop_url: str | None

    @classmethod
    def of(cls, doc: Document, f: Field, *, unmasked: bool) -> FieldOut:
        personal = F.is_personal_number(doc.form, f.key, f.value) or F.is_personal_number(doc.form, f.key,
                                                                                          f.extracted_value)
        masked = personal and not unmasked
        return cls(id=f.id, key=f.key, label=F.label(doc.form, f.key),
                   value=F.mask_number(f.value) if masked and f.value is not None else f.value,
                   masked=masked, extracted_value=None if masked else f.extracted_value,
                   confidence=round(f.confidence, 4), status=str(f.status), reasons=[str(r) for r in f.reasons or []],
                   findings=[FindingOut(fields=list(x.get("fields", [])), rule=str(x.get("rule", "")),
                                        message=str(x.get("message", "")), severity=str(x.get("severity", "")))
                             for x in W.findings_of(f)],
                   box_mm=list(f.box) if f.box else None,
                   crop_url=f"/images/fields/{f.id}.png" if F.has_crop(doc, f) and not masked else None)


class DocumentSummary(BaseModel):
    id: int
    batch_id: int
    form: str
    layout: str | None
    status: str
    flagged: int
    returned_reason: str | None

    @classmethod
    def of(cls, doc: Document) -> DocumentSummary:
        return cls(id=doc.id, batch_id=doc.batch_id, form=doc.form, layout=doc.layout, status=str(doc.status),
                   flagged=len(W.flagged(doc)), returned_reason=doc.returned_reason)


class DocumentOut(DocumentSummary):
    source: str
    pages: list[int]
    form_confidence: float
    findings: list[FindingOut]
    page_image_url: str | None
    fields: list[FieldOut]

    @classmethod
    def full(cls, doc: Document, *, unmasked: bool) -> DocumentOut:
        base = DocumentSummary.of(doc).model_dump()
        return cls(**base, source=doc.source.name, pages=[p.number for p in doc.pages] or [doc.first_page],
                   form_confidence=round(doc.form_confidence, 4),
                   findings=[FindingOut(fields=list(x.get("fields", [])), rule=str(x.get("rule", "")),
                                        message=str(x.get("message", "")), severity=str(x.get("severity", "")))
                             for x in doc.findings or [] if isinstance(x, dict)],
                   page_image_url=f"/images/documents/{doc.id}.png" if doc.image_sha256 else None,
                   fields=[FieldOut.of(doc, f, unmasked=unmasked) for f in doc.fields])
