"""The masters in the batch pipeline: each extracted document matched and gated against its tenant's masters, the
match kept (DocumentMaster) for the review UI, the 送付先誤り list and the 支援措置 guard."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from yomitori.masters.gate import MasterOutcome, apply_master, is_masters_reason
from yomitori.masters.keys import master_key
from yomitori.masters.store import hmac_for, load_index
from yomitori.settings import Settings
from yomitori.store.models import (
    Document,
    DocumentMaster,
    Field,
    FieldStatus,
    MasterEmployer,
    MasterResident,
    MasterRollEntry,
    utcnow,
)
from yomitori.store.repo import TenantRepo

if TYPE_CHECKING:
    from yomitori.extract import PageResult
    from yomitori.masters.matching import MasterIndex

_cache: dict[tuple[str, Any], MasterIndex] = {}


def tenant_index(repo: TenantRepo) -> MasterIndex | None:
    """The tenant's masters, loaded once per process and again after each import (None when it has none)."""
    stamp = tuple(repo.session.execute(sa.select(sa.func.count(m.id), sa.func.max(m.updated_at))).one()
                  for m in (MasterResident, MasterEmployer, MasterRollEntry))
    if not stamp[0][0] and not stamp[1][0]:
        return None
    key = (repo.code, stamp)
    if key not in _cache:
        _cache.clear()
        _cache[key] = load_index(repo)
    return _cache[key]


def gate_with_masters(repo: TenantRepo, result: PageResult) -> MasterOutcome | None:
    """Apply the masters to one extracted page's fields (before they are written); None without masters."""
    index = tenant_index(repo)
    if index is None or not result.fields:
        return None
    hmac_of = hmac_for(repo, master_key(repo_settings(repo)))
    return apply_master(result.form, result.fields, index, hmac_of=hmac_of, findings=result.findings or [])


def rematch(repo: TenantRepo, doc: Document, fields: list[Field],
            findings: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """Match the document again on its stored values, after a reviewer's correction (a corrected 個人番号 or name
    may name another person, or one at last): the match, 送付先誤り and 支援措置 are replaced and the fields not yet
    decided by a person gated on the new evidence. Returns the masters' findings; None without masters (then the
    earlier ones stand). `findings` are the validators' on the same values."""
    from yomitori.ocr.fields import FieldResult

    index = tenant_index(repo)
    if index is None:
        return None
    decided = {f.key for f in fields if f.status in (FieldStatus.corrected, FieldStatus.approved)}
    results: dict[str, FieldResult] = {}
    for f in fields:
        ours = [r for r in f.reasons or [] if is_masters_reason(r)]
        # A field the old match passed goes back to review unless the new evidence passes it again.
        results[f.key] = FieldResult(f.key, f.value, f.confidence, f.review or bool(ours),
                                     reasons=[r for r in f.reasons or [] if not is_masters_reason(r)],
                                     read=f.value is not None, raw_confidence=f.confidence)
        if ours and any(r.startswith("台帳の値と異なります") for r in ours) and f.alternatives:
            f.alternatives = list(f.alternatives[1:])  # the old match's candidate
    outcome = apply_master(doc.form, results, index, hmac_of=hmac_for(repo, master_key(repo_settings(repo))),
                           findings=findings)
    for f in fields:
        if f.key in decided:
            continue  # a person's value is evidence, never changed by the gate
        r = results[f.key]
        f.value, f.confidence, f.review, f.reasons = r.value, r.confidence, r.review, list(r.reasons)
        if f.key in outcome.candidates:
            mine = outcome.candidates[f.key]
            f.alternatives = [mine, *(a for a in [*r.alternatives, *(f.alternatives or [])] if a != mine)]
        elif r.alternatives:
            f.alternatives = [*r.alternatives, *(a for a in f.alternatives or [] if a not in r.alternatives)]
    return record_match(repo, doc, outcome)


def repo_settings(repo: TenantRepo) -> Settings:
    from yomitori.jobs.runtime import runtime

    try:
        return runtime().settings
    except Exception:  # outside a runtime (tests, tools): the environment's settings
        return Settings()


def record_match(repo: TenantRepo, doc: Document, outcome: MasterOutcome | None) -> list[dict[str, Any]]:
    """Keep the outcome for the document (replacing an earlier one); returns its findings as dicts."""
    row = repo.session.scalar(sa.select(DocumentMaster).where(DocumentMaster.document_id == doc.id))
    if outcome is None:
        if row is not None:
            repo.session.delete(row)
        return []
    if row is None:
        row = DocumentMaster(document_id=doc.id)
        repo.session.add(row)
    # Whom the document was matched to before (a reviewer's correction matched it again) stays named: a
    # correction never lifts the 支援措置 guard of a person the document was once tied to.
    earlier = {*((row.evidence or {}).get("earlier", [])), *_people(row.evidence or {}, row.resident_id)}
    row.resident_id = outcome.person.resident.resident_id if outcome.person else None
    row.employer_designated = outcome.employer.employer.designated_number if outcome.employer else None
    row.score = outcome.person.score if outcome.person else 0.0
    row.evidence = outcome.summary()
    if earlier := sorted(earlier - set(_people(row.evidence, row.resident_id))):
        row.evidence = {**row.evidence, "earlier": earlier}
    row.misdirected, row.support_measure = outcome.misdirected, row.support_measure or outcome.support_measure
    return [{"fields": list(f.fields), "rule": f.rule, "message": f.message, "severity": f.severity}
            for f in outcome.findings]


def document_master(repo: TenantRepo, doc_id: int) -> DocumentMaster | None:
    return repo.session.scalar(sa.select(DocumentMaster).where(DocumentMaster.document_id == doc_id))


def under_support_measure(repo: TenantRepo, doc_id: int) -> bool:
    """Whether the document is about a person under 支援措置, as the master says now (a later flag counts)."""
    m = document_master(repo, doc_id)
    if m is None:
        return False
    people = {*_people(m.evidence or {}, m.resident_id), *(m.evidence or {}).get("earlier", [])}
    if people:
        flags = list(repo.session.scalars(sa.select(MasterResident.support_measure)
                                          .where(MasterResident.resident_id.in_(people))))
        if flags:
            return any(flags)
    return m.support_measure


SUPPORT_MEASURE_WITHHELD = "支援措置対象者の書類のため出力しません（出力できる役割: YOMITORI_SUPPORT_MEASURE_ROLES）"


def support_measure_documents(repo: TenantRepo, docs: list[Document]) -> set[int]:
    """The ids of those documents that are about a person under 支援措置 (no audit: nothing is shown)."""
    ids = [d.id for d in docs]
    matched = set(repo.session.scalars(sa.select(DocumentMaster.document_id)
                                       .where(DocumentMaster.document_id.in_(ids)))) if ids else set()
    return {i for i in ids if i in matched and under_support_measure(repo, i)}


def guard_export(repo: TenantRepo, docs: list[Document], *, actor: str, role: str | None,
                 allowed: Iterable[str], via: str, view: str | None = None) -> tuple[list[Document], list[Document]]:
    """(written, withheld): an export writes a 支援措置 person's document only for a role in `allowed` (the review
    UI's `support_measure_roles`); no role (an OS user) is none of them. Each such document is audited, written
    (`support_measure.view`) or withheld (`support_measure.refused`), with the export (or `view`: a report) as
    the view."""
    flagged = support_measure_documents(repo, docs)
    ok = role is not None and role in set(allowed)
    written, withheld = [], []
    for d in docs:
        if d.id not in flagged:
            written.append(d)
            continue
        repo.audit(actor, "support_measure.view" if ok else "support_measure.refused", d, view=view or f"export:{via}",
                   role=role or "")
        (written if ok else withheld).append(d)
    return written, withheld


def _people(evidence: dict[str, Any], resident_id: str | None) -> list[str]:
    """The master people a document names: its recipient (or employee) and the family it lists."""
    family = [p["resident_id"] for p in evidence.get("family", {}).values() if p.get("resident_id")]
    return [resident_id, *family] if resident_id else family


def approve_keying(repo: TenantRepo, doc_id: int, actor: str) -> None:
    """The explicit approval a 支援措置 document needs before a bot keys it (audited)."""
    m = document_master(repo, doc_id)
    if m is None:
        raise LookupError(f"document {doc_id} has no master match")
    m.keying_approved_by, m.keying_approved_at = actor, utcnow()
    repo.audit(actor, "support_measure.approve_keying", repo.get(Document, doc_id))


def may_key(repo: TenantRepo, doc_id: int) -> bool:
    """Bots key a 支援措置 document only after `approve_keying`; any other document as before."""
    if not under_support_measure(repo, doc_id):
        return True
    m = document_master(repo, doc_id)
    return m is not None and m.keying_approved_by is not None


MISDIRECTED_COLUMNS = ("書類番号", "バッチ", "氏名", "住所", "生年月日", "支払者", "理由")


def misdirected(repo: TenantRepo, batch_id: int | None = None) -> list[dict[str, Any]]:
    """The 送付先誤り list: 明細書 whose recipient was no 1 January resident (to forward to the right city)."""
    q = sa.select(DocumentMaster, Document).join(Document, Document.id == DocumentMaster.document_id) \
        .where(DocumentMaster.misdirected.is_(True)).order_by(Document.id)
    if batch_id is not None:
        q = q.where(Document.batch_id == batch_id)
    rows = []
    for m, doc in repo.session.execute(q):
        values = {f.key: f.value for f in repo.session.scalars(sa.select(Field).where(Field.document_id == doc.id))}
        rows.append({"書類番号": doc.id, "バッチ": doc.batch_id, "氏名": values.get("recipient_name") or "",
                     "住所": values.get("recipient_address") or "", "生年月日": values.get("birth_date") or "",
                     "支払者": values.get("payer_name") or "",
                     "理由": "宛名台帳に該当者なし" if m.resident_id is None else "1月1日現在の住民でない"})
    return rows


def misdirected_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=MISDIRECTED_COLUMNS, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()
