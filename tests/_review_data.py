"""Test data for the review UI: documents written straight into the store, with a drawn page and real field crops."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw, ImageFont

from yomitori.forms_templates import templates
from yomitori.jobs.stages import _png, gate_document
from yomitori.ocr.fields import crop_box
from yomitori.ocr.preprocess import PX_PER_MM
from yomitori.review_ui.auth import LOGIN_CSRF_COOKIE, hash_password
from yomitori.store.models import Batch, Document, Field, FieldStatus, Page, PageStatus, Role, SourceFile
from yomitori.store.repo import TenantRepo

LAYOUT = "kyuyo_shiharai_hokokusho/national"
FORM = "kyuyo_shiharai_hokokusho"
PASSWORD = "correct horse battery"
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

# A 明細書 as written on paper (the truth) ...
TRUTH: dict[str, Any] = {
    "tax_year": 2024, "recipient_address": "東京都千代田区霞が関2丁目1番2号", "recipient_name": "高橋 一郎",
    "recipient_name_kana": "タカハシ イチロウ", "recipient_my_number": "123456789018", "payment_amount": 4650000,
    "withholding_tax": 98700, "birth_date": "1980-04-01", "payer_name": "株式会社ヨミトリ",
}
# ... and what OCR made of it: five fields flagged (low confidence, or a validator's error).
READ: dict[str, Any] = {**TRUTH, "recipient_name": "高橋 一朗", "payment_amount": 4560000,
                        "recipient_my_number": "123456789012"}
FLAGGED_BY_OCR = {"recipient_name", "recipient_name_kana", "payment_amount", "birth_date"}  # + my number (checksum)
ALTERNATIVES = {"recipient_name": ["高橋 一郎", "髙橋 一朗"]}


@dataclass(frozen=True)
class Users:
    tenant: str
    reviewer: str = "reviewer1"
    reviewer2: str = "reviewer2"
    operator: str = "operator1"
    administrator: str = "admin1"
    auditor: str = "auditor1"


def add_users(repo: TenantRepo) -> Users:
    users = Users(repo.code)
    pw = _hash()
    for name, role in ((users.reviewer, Role.reviewer), (users.reviewer2, Role.reviewer),
                       (users.operator, Role.operator), (users.administrator, Role.administrator),
                       (users.auditor, Role.auditor)):
        repo.add_user(name, role, display_name=name, password_hash=pw)
    return users


@cache
def _hash() -> str:
    return hash_password(PASSWORD)


def _text(v: Any) -> str:
    return "" if v is None else f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)


@cache
def _font() -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT, 40)


def draw_page(values: dict[str, Any]) -> np.ndarray:
    """The registered page as the extractor would keep it: gray, template millimetres × PX_PER_MM."""
    t = templates()[LAYOUT]
    img = Image.new("L", (round(t.page.width_mm * PX_PER_MM), round(t.page.height_mm * PX_PER_MM)), 255)
    d = ImageDraw.Draw(img)
    for f in t.fields:
        x, y, w, h = (v * PX_PER_MM for v in f.box)
        d.rectangle((x, y, x + w, y + h), outline=0, width=2)
        if f.key in values:
            d.text((x + 6, y + 4), _text(values[f.key]), fill=30, font=_font())
    return np.asarray(img)


def add_document(repo: TenantRepo, batch: Batch, name: str, truth: dict[str, Any] | None = None,
                 read: dict[str, Any] | None = None, flagged: set[str] | None = None) -> Document:
    """One 明細書: page image, crops and boxes of the layout, values as read, gated by the real validators."""
    truth, read = truth or TRUTH, read or READ
    flagged = FLAGGED_BY_OCR if flagged is None else flagged
    page_image = draw_page(truth)
    source = repo.add_source(batch, name, _png(page_image))
    source.status, source.page_count = "ingested", 1
    page = Page(batch_id=batch.id, source_id=source.id, number=1, status=PageStatus.done, form=FORM,
                layout="national", image_sha256=source.sha256)
    doc = Document(batch_id=batch.id, source_id=source.id, first_page=1, form=FORM, layout="national",
                   form_confidence=0.99, image_sha256=repo.blobs.put(repo.code, _png(page_image)))
    repo.session.add_all([page, doc])
    repo.session.flush()
    page.document_id = doc.id
    boxes = {f.key: f.box for f in templates()[LAYOUT].fields}
    for key, value in read.items():
        box = boxes[key]
        review = key in flagged
        repo.session.add(Field(
            document_id=doc.id, key=key, value=value, extracted_value=value, confidence=0.6 if review else 0.99,
            review=review, reasons=["low_confidence"] if review else [], alternatives=ALTERNATIVES.get(key, []),
            status=FieldStatus.needs_review if review else FieldStatus.auto, box=list(box),
            crop_sha256=repo.blobs.put(repo.code, _png(crop_box(page_image, box)))))
    repo.session.flush()
    repo.session.refresh(doc)
    gate_document(repo, doc)
    return doc


def add_batch(repo: TenantRepo, n: int, name: str = "1月分 第1便", **kw: Any) -> tuple[Batch, list[Document]]:
    batch = repo.create_batch(name, created_by="operator1")
    docs = [add_document(repo, batch, f"scans/{name}-{i:03d}.png", **kw) for i in range(n)]
    repo.finish_if_complete(batch.id)
    return batch, docs


def source_of(repo: TenantRepo, doc: Document) -> SourceFile:
    return repo.get(SourceFile, doc.source_id)


def web_login(app: Any, user: str, tenant: str = "yokohama", password: str = PASSWORD) -> TestClient:
    """A client logged in through the login form, sending the page's CSRF token with every request."""
    c = TestClient(app)
    c.get("/login")
    r = c.post("/login", data={"tenant": tenant, "username": user, "password": password,
                               "csrf_token": c.cookies.get(LOGIN_CSRF_COOKIE)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = c.get(r.headers["location"])
    c.headers["X-CSRF-Token"] = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return c
