"""支援措置 (DV and similar support measures) in the web app: the documents of a person the 宛名 master flags carry
a warning in every view, only the roles named in `support_measure_roles` may open them (others get 403), and each
view, allowed or refused, is in the audit log. Also the master's match and its evidence, for the document view."""

from __future__ import annotations

from typing import Any

from yomitori.masters.gate import FAMILY, HOKOKUSHO
from yomitori.masters.pipeline import document_master, under_support_measure
from yomitori.review_ui.deps import AppState, Forbidden
from yomitori.store.models import Document, User
from yomitori.store.repo import TenantRepo

WARNING = ("支援措置対象者の書類です。閲覧・入力は権限のある職員に限られ、すべての閲覧が記録されます。"
           "住所等を外部に伝えないでください。")


def guard(state: AppState, repo: TenantRepo, user: User, doc_id: int, view: str) -> bool:
    """Whether the document is under 支援措置; raises Forbidden (after auditing the refusal) for a role not allowed.

    An allowed view is audited too."""
    if not under_support_measure(repo, doc_id):
        return False
    doc = repo.get(Document, doc_id)
    if user.role.value not in state.settings.support_measure_roles:
        repo.audit(user.username, "support_measure.refused", doc, view=view, role=user.role.value)
        repo.session.commit()  # the refusal is kept though the request fails
        raise Forbidden()
    repo.audit(user.username, "support_measure.view", doc, view=view, role=user.role.value)
    return True


def flagged_ids(repo: TenantRepo, doc_ids: list[int]) -> set[int]:
    """Which of these documents are under 支援措置 (lists mark them)."""
    return {i for i in doc_ids if under_support_measure(repo, i)}


_EVIDENCE = {"equal": "一致", "folded": "一致（異体字）", "near": "ほぼ一致（読み違い）", "partial": "一部のみ読取",
             "differs": "不一致", "absent": "—"}
_ITEMS = {"my_number": "個人番号", "name": "氏名", "name_kana": "フリガナ", "birth_date": "生年月日", "address": "住所",
          "designated_number": "指定番号", "corporate_number": "法人番号", "phone": "電話"}


def master_view(repo: TenantRepo, doc_id: int) -> dict[str, Any] | None:
    """The match as the document view shows it: whom, by what, and each item's evidence in words."""
    m = document_master(repo, doc_id)
    if m is None:
        return None
    ev = m.evidence or {}
    out: dict[str, Any] = {"misdirected": m.misdirected, "passed": len(ev.get("passed", []))}
    for who in ("person", "employer"):
        if who in ev:
            e = ev[who]
            out[who] = {"id": e.get("resident_id") or e.get("designated_number"), "name": e.get("name"),
                        "by": _ITEMS.get(e.get("by"), "氏名・フリガナ・生年月日・住所"),
                        "evidence": [(_ITEMS.get(k, k), _EVIDENCE.get(v, v)) for k, v in e.get("evidence", {}).items()]}
    out["family"] = [{"slot": FAMILY[HOKOKUSHO].get(slot, slot), "id": e.get("resident_id"), "name": e.get("name"),
                      "by": _ITEMS.get(e.get("by"), "氏名・フリガナ・世帯の住所"),
                      "evidence": "・".join(f"{_ITEMS.get(k, k)} {_EVIDENCE.get(v, v)}" for k, v in
                                           e.get("evidence", {}).items() if v != "absent")}
                     for slot, e in ev.get("family", {}).items()]
    return out
