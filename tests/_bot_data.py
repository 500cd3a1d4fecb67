"""Test data for the bots on the store: approved 明細書 documents written straight into a batch (no scan, no OCR)."""

from __future__ import annotations

import random
from typing import Any

from yomitori.store.models import Batch, Document, DocumentStatus, Field, FieldStatus
from yomitori.store.repo import TenantRepo
from yomitori.synth.data import make_company, make_record

FORM = "kyuyo_shiharai_hokokusho"


def approved_values(n: int, seed: int) -> list[dict[str, Any]]:
    """Generated 明細書 values from two employers, none with a 支払金額 the demo system refuses."""
    rng = random.Random(seed)
    companies = [make_company(rng) for _ in range(2)]
    out: list[dict[str, Any]] = []
    while len(out) < n:
        v = make_record(FORM, rng, payer=companies[len(out) % 2])
        if not str(v["payment_amount"]).endswith("13"):
            out.append(v)
    return out


def add_documents(repo: TenantRepo, batch: Batch, values: list[dict[str, Any]],
                  status: DocumentStatus = DocumentStatus.approved) -> list[int]:
    """Documents as review leaves them: every field approved (or auto: straight through, or one still flagged)."""
    field_status = {DocumentStatus.approved: FieldStatus.approved, DocumentStatus.auto: FieldStatus.auto,
                    DocumentStatus.needs_review: FieldStatus.auto}[status]
    ids = []
    for v in values:
        source = repo.add_source(batch, f"scans/{batch.id}-{len(ids)}.png", f"{batch.id} {len(ids)} {v}".encode())
        doc = Document(batch_id=batch.id, source_id=source.id, first_page=1, form=FORM, layout="national",
                       status=status)
        repo.session.add(doc)
        repo.session.flush()
        for k, value in v.items():
            flagged = status == DocumentStatus.needs_review and k == "recipient_name"
            repo.session.add(Field(document_id=doc.id, key=k, value=value, extracted_value=value, confidence=0.99,
                                   review=flagged, status=FieldStatus.needs_review if flagged else field_status))
        ids.append(doc.id)
    repo.session.flush()
    return ids
