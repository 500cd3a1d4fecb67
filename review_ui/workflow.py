"""The review workflow: the queue with claims, saving a field (plain or double entry), approval, sending back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from yomitori.forms_templates.contract import contract_forms
from yomitori.review_ui import fields as F
from yomitori.review_ui.settings import UISettings
from yomitori.store.models import Document, DocumentStatus, Field, FieldStatus, User
from yomitori.store.repo import TenantRepo

RETURN_REASONS = {"unreadable": "読めない（画像不良）", "misclassified": "帳票の種類が違う"}


class ReviewError(Exception):
    """The action is not possible now (claimed by someone else, already keyed...); the message is Japanese."""


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(t: datetime | None) -> datetime | None:
    return t if t is None or t.tzinfo else t.replace(tzinfo=UTC)


# ---------------------------------------------------------------- queue and claims


def queue(repo: TenantRepo, limit: int = 200) -> list[Document]:
    """Documents waiting for a reviewer, oldest first (sent-back pages are the operators' business)."""
    return list(repo.session.scalars(
        sa.select(Document).where(Document.status == DocumentStatus.needs_review, Document.returned_reason.is_(None))
        .order_by(Document.created_at, Document.id).limit(limit)))


def claimed_by_other(doc: Document, user: User) -> bool:
    until = _aware(doc.claimed_until)
    return doc.claimed_by is not None and doc.claimed_by != user.id and until is not None and until > _now()


def claim(repo: TenantRepo, doc_id: int, user: User, minutes: int) -> bool:
    """Take (or renew) the document for this reviewer, atomically: two reviewers never hold the same one."""
    now = _now()
    done = repo.session.execute(
        sa.update(Document).where(
            Document.id == doc_id, Document.status == DocumentStatus.needs_review,
            sa.or_(Document.claimed_by.is_(None), Document.claimed_by == user.id, Document.claimed_until < now))
        .values(claimed_by=user.id, claimed_until=now + timedelta(minutes=minutes))
        .execution_options(synchronize_session=False))
    repo.session.commit()  # visible to the other reviewers at once
    return done.rowcount == 1


def claim_next(repo: TenantRepo, user: User, minutes: int) -> Document | None:
    """The oldest document nobody else holds, now held by this reviewer (their own held one first)."""
    docs = queue(repo)
    mine = [d for d in docs if d.claimed_by == user.id and not claimed_by_other(d, user)]
    for doc in mine + [d for d in docs if d not in mine and not claimed_by_other(d, user)]:
        if claim(repo, doc.id, user, minutes):
            repo.session.refresh(doc)
            return doc
    return None


def release(repo: TenantRepo, doc: Document, user: User) -> None:
    if doc.claimed_by == user.id:
        doc.claimed_by, doc.claimed_until = None, None


def check_editable(doc: Document, user: User) -> None:
    if doc.status == DocumentStatus.keyed:
        raise ReviewError("この書類はすでに税務システムに入力済みです")
    if doc.returned_reason:
        raise ReviewError("この書類は差し戻されています")
    if claimed_by_other(doc, user):
        raise ReviewError("他の審査者が作業中の書類です")


# ---------------------------------------------------------------- fields


def is_double_entry(settings: UISettings, form: str, key: str) -> bool:
    return key in settings.double_entry or F.value_type(form, key) in settings.double_entry


def flagged(doc: Document) -> list[Field]:
    return [f for f in doc.fields if f.status == FieldStatus.needs_review]


def findings_of(f: Field) -> list[dict[str, Any]]:
    return [x for x in (f.findings or []) if isinstance(x, dict)]


def values_of(doc: Document) -> dict[str, Any]:
    return {f.key: f.value for f in doc.fields}


def preview(doc: Document, f: Field, text: str) -> list[dict[str, Any]]:
    """What the validators would say if the field held `text` (nothing is saved): for live checking as one types."""
    try:
        value = F.parse(doc.form, f.key, text)
    except F.InvalidInput as e:
        return [{"fields": [f.key], "rule": "input", "message": str(e), "severity": "error"}]
    if doc.form not in contract_forms():
        return []
    from yomitori.validation import validate_field

    try:
        found = validate_field(doc.form, f.key, value, values=values_of(doc))
    except ValueError:
        return []
    return [{"fields": list(x.fields), "rule": x.rule, "message": x.message, "severity": x.severity} for x in found]


@dataclass
class SaveResult:
    status: str  # saved | accepted | unchanged | second_entry | retry | invalid
    message: str = ""
    stay: bool = False  # keep the reviewer on this field (an error to look at)
    fields: dict[int, dict[str, Any]] = field(default_factory=dict)  # every field's status and findings after
    remaining: int = 0  # fields of the document still flagged
    document_status: str = ""


ACCEPT_AS_READ = "読み取りどおりでよければ Shift+Enter で確定してください（直すときは値を入力して Enter）"


def save_field(repo: TenantRepo, settings: UISettings, user: User, f: Field, text: str,
               first: str | None = None, *, first_proven: bool = False, accept: bool = True) -> SaveResult:
    """Enter on a field: a new value is a correction, the same value an acceptance; critical fields are typed blind.

    Double entry: the first entry is compared with the reading; equal means accepted, else a second entry is
    asked for (`first` is then the first entry) and the two must agree before the value is saved. `first` counts
    only when `first_proven` (the server's token for it came back: review_ui.double_entry), whoever calls.
    """
    doc = repo.get(Document, f.document_id)
    check_editable(doc, user)
    try:
        value = F.parse(doc.form, f.key, text)
        first_value = F.parse(doc.form, f.key, first) if first is not None else None
    except F.InvalidInput as e:
        return _after(repo, doc, SaveResult("invalid", str(e), stay=True))
    old = f.value
    detail = {"old": F.audit_value(doc.form, f.key, old), "new": F.audit_value(doc.form, f.key, value)}
    if is_double_entry(settings, doc.form, f.key):
        detail["entry"] = "double"
        if first is None:
            if value != f.value:
                return SaveResult("second_entry", "読取結果と一致しません。確認のため、もう一度入力してください",
                                  stay=True)
        elif not first_proven:
            return SaveResult("retry", "1回目の入力が確認できません。最初から入力し直してください", stay=True)
        elif first_value != value:
            return SaveResult("retry", "1回目と2回目の入力が一致しません。最初から入力し直してください", stay=True)
    if value == old:
        if f.status != FieldStatus.needs_review:
            return _after(repo, doc, SaveResult("unchanged"))
        if not accept and "entry" not in detail:  # a flagged reading kept as it is: only on purpose (Shift+Enter)
            return SaveResult("confirm", ACCEPT_AS_READ, stay=True)
        repo.approve_field(f.id, actor=user.username, user_id=user.id, audit_detail=detail)
        result = SaveResult("accepted")
    else:
        repo.correct_field(f.id, value, actor=user.username, user_id=user.id, audit_detail=detail)
        result = SaveResult("saved")
    _regate(repo, doc)
    if result.status == "saved" and any(str(x.get("severity")) == "error" for x in findings_of(f)):
        result.stay, result.message = True, "修正後の値にも指摘があります。確認してEnterで確定するか、直してください"
    return _after(repo, doc, result)


def _regate(repo: TenantRepo, doc: Document) -> None:
    """Validators re-run on the whole document: a correction can clear (or raise) findings on other fields."""
    from yomitori.jobs.stages import gate_document

    repo.session.flush()
    repo.session.refresh(doc)
    gate_document(repo, doc)
    repo.session.flush()


def _after(repo: TenantRepo, doc: Document, result: SaveResult) -> SaveResult:
    repo.session.refresh(doc)
    for f in doc.fields:
        repo.session.refresh(f)
    result.fields = {f.id: {"status": str(f.status), "findings": findings_of(f)} for f in doc.fields}
    result.remaining = len(flagged(doc))
    result.document_status = str(doc.status)
    return result


def unmask(repo: TenantRepo, user: User, f: Field) -> str:
    """The 個人番号 in clear, for a role allowed to see it; every look is in the audit log."""
    doc = repo.get(Document, f.document_id)
    repo.audit(user.username, "field.unmask", f, key=f.key, document_id=doc.id)
    return "" if f.value is None else str(f.value)


# ---------------------------------------------------------------- documents


def approve_document(repo: TenantRepo, user: User, doc: Document) -> None:
    """The reviewer's word that the document is ready for keying; only when nothing is flagged."""
    check_editable(doc, user)
    repo.refresh_document_status(doc)
    if flagged(doc) or not doc.fields:
        raise ReviewError("確認が必要な項目が残っています")
    if doc.status == DocumentStatus.needs_review:  # every field fine but the document was held (e.g. bundle)
        doc.status = DocumentStatus.approved
    release(repo, doc, user)
    repo.audit(user.username, "document.approve", doc, form=doc.form)


def return_document(repo: TenantRepo, user: User, doc: Document, reason: str, form: str | None = None) -> None:
    """Send a page back: unreadable, or misclassified (with the form it really is); it leaves the queue."""
    check_editable(doc, user)
    if reason not in RETURN_REASONS:
        raise ReviewError("差し戻しの理由を選んでください")
    if reason == "misclassified" and form not in contract_forms() | {"unknown": None}:
        raise ReviewError("正しい帳票の種類を選んでください")
    doc.returned_reason = reason
    doc.returned_form = form if reason == "misclassified" else None
    doc.status = DocumentStatus.needs_review
    release(repo, doc, user)
    repo.audit(user.username, "document.return", doc, reason=reason, form=doc.returned_form or "")
