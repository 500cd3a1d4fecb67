"""The receipt journal kept in the batch store (keying_receipts), and what each state does to the document.

Each state change is one transaction with its consequence: `verified` marks the document keyed, `sent_back` puts it
back in the review queue with the target's message, so a SIGKILL between the two can never split them.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from yomitori.forms_templates.contract import contract_forms
from yomitori.store.models import (
    Document,
    DocumentStatus,
    Field,
    FieldStatus,
    KeyingReceipt,
    KeyingResult,
    KeyingSecret,
)
from yomitori.store.repo import Store, TenantRepo

from .lease import StoreLease
from .receipts import Receipt, State
from .scenario import IfStep, ReadStep, RepeatStep, Scenario

SENT_BACK_RULE = "keying_sent_back"  # the rule of the finding a sent-back document carries
_RESULT = {State.verified: KeyingResult.ok, State.skipped: KeyingResult.skipped}  # anything else: not (yet) ok
_FINISHED = {State.verified, State.skipped, State.sent_back, State.failed, State.unconfirmed}


def keyed_fields(scenario: Scenario) -> list[str]:
    """The contract fields the scenario reads back (so: keyed and checked), with repeat groups expanded."""
    out: list[str] = []

    def walk(steps: list[Any], groups: list[Any] | None) -> None:
        for st in steps:
            if isinstance(st, RepeatStep):
                walk(st.repeat.steps, st.repeat.over)
            elif isinstance(st, IfStep):
                walk(st.then, groups)
                walk(st.else_, groups)
            elif isinstance(st, ReadStep):
                out.extend(st.read.field.replace("{i}", str(g)) if g is not None else st.read.field
                           for g in groups or [None])

    walk(scenario.verify, None)
    return list(dict.fromkeys(out))


def tenant_secret(repo: TenantRepo) -> bytes:
    """The tenant's HMAC key for idempotency keys, made on first use (two first uses at once agree)."""
    row = repo.session.scalar(sa.select(KeyingSecret))
    if row is None:
        try:
            with repo.session.begin_nested():
                row = KeyingSecret(secret=secrets.token_bytes(32))
                repo.session.add(row)
        except sa.exc.IntegrityError:
            row = repo.session.scalars(sa.select(KeyingSecret)).one()
    return bytes(row.secret)


class StoreReceiptLog:
    """`ReceiptLog` over keying_receipts: one row per (tenant, scenario name, idempotency key)."""

    def __init__(self, store: Store, tenant: str, scenario: Scenario, run_id: str) -> None:
        self.store, self.tenant, self.run_id = store, tenant, run_id
        self.bot = scenario.name[:100]
        self.form = scenario.form
        self.fields = keyed_fields(scenario)
        with store.tenant(tenant) as repo:
            self._secret = tenant_secret(repo)

    def secret(self) -> bytes:
        return self._secret

    def lease(self, *, wait: float = 0.0, on_lost: Callable[[str], None] | None = None
              ) -> contextlib.AbstractContextManager[None]:
        return StoreLease(self.store, self.tenant, self.bot, self.run_id).held(wait=wait, on_lost=on_lost)

    def _row(self, repo: TenantRepo, key: str) -> KeyingReceipt | None:
        return repo.session.scalar(sa.select(KeyingReceipt).where(KeyingReceipt.bot == self.bot,
                                                                  KeyingReceipt.key == key))

    def get(self, key: str) -> Receipt | None:
        with self.store.tenant(self.tenant) as repo:
            row = self._row(repo, key)
            return _receipt(row) if row is not None else None

    def all(self) -> list[Receipt]:
        with self.store.tenant(self.tenant) as repo:
            rows = repo.session.scalars(sa.select(KeyingReceipt).where(
                KeyingReceipt.bot == self.bot, KeyingReceipt.key.is_not(None)).order_by(KeyingReceipt.id))
            return [_receipt(r) for r in rows]

    def mark(self, key: str, record_id: str, state: State, *, values_digest: str, message: str = "",
             artifacts: tuple[str, ...] = ()) -> None:
        now = datetime.now(UTC)
        with self.store.tenant(self.tenant) as repo:  # committed (durably) when the block ends
            doc = repo.get(Document, int(record_id))
            row = self._row(repo, key)
            if row is None:
                row = KeyingReceipt(document_id=doc.id, bot=self.bot, key=key, run_id=self.run_id, started_at=now,
                                    result=KeyingResult.failed, attempts=0)
                repo.session.add(row)
            if state == State.started:
                row.attempts, row.started_at, row.finished_at = (row.attempts or 0) + 1, now, None
            elif state in _FINISHED:
                row.finished_at = now
            row.document_id, row.run_id, row.state, row.values_digest = doc.id, self.run_id, state.value, values_digest
            row.result, row.message, row.updated_at = _RESULT.get(state, KeyingResult.failed), message, now
            if state == State.verified:
                row.keyed_fields = self.fields
            row.artifacts = self._keep_artifacts(repo, artifacts) if artifacts else None
            repo.session.flush()
            self._consequence(repo, doc, row, state, message)

    def _keep_artifacts(self, repo: TenantRepo, paths: tuple[str, ...]) -> list[dict[str, str]]:
        """Screenshot and trace into the tenant's blob store (they hold personal data), the local copies removed."""
        kept = []
        for p in map(Path, paths):
            if not p.is_file():
                continue
            kind = "trace" if p.name.endswith(".zip") else "screenshot"
            kept.append({"kind": kind, "sha256": repo.blobs.put(repo.code, p.read_bytes())})
            p.unlink()
        return kept

    def _consequence(self, repo: TenantRepo, doc: Document, row: KeyingReceipt, state: State, message: str) -> None:
        detail = {"bot": self.bot, "run_id": self.run_id, "receipt": row.id}
        if state == State.verified:
            doc.status = DocumentStatus.keyed
            doc.findings = [x for x in doc.findings or [] if not (isinstance(x, dict) and x.get("rule") ==
                                                                    SENT_BACK_RULE)]
            repo.audit(self.bot, "document.keyed", doc, **detail, fields=len(self.fields))
        elif state == State.sent_back:
            send_back_to_review(repo, doc, self.bot, message)
            repo.audit(self.bot, "document.keying_sent_back", doc, **detail, message=message)
        elif state in (State.failed, State.unconfirmed):
            repo.audit(self.bot, "document.keying_failed", doc, **detail, message=message)
        elif state == State.skipped:
            repo.audit(self.bot, "document.keying_skipped", doc, **detail, message=message)


def send_back_to_review(repo: TenantRepo, doc: Document, bot: str, message: str) -> list[str]:
    """Back to the review queue with the target's words on the document; the fields they name are flagged.

    Returns the flagged field keys. The message is already redacted (no 個人番号).
    """
    text = f"税務システムへの入力で差し戻されました（{bot}）: {message}"
    keys = fields_named(doc.form, message)
    doc.findings = [*(doc.findings or []), {"fields": [], "rule": SENT_BACK_RULE, "message": text,
                                            "severity": "error"}]
    for f in repo.session.scalars(sa.select(Field).where(Field.document_id == doc.id, Field.key.in_(keys))):
        f.findings = [*(f.findings or []), {"fields": [f.key], "rule": SENT_BACK_RULE, "message": text,
                                            "severity": "error"}]
        f.status = FieldStatus.needs_review
    doc.status = DocumentStatus.needs_review
    doc.claimed_by, doc.claimed_until = None, None
    return keys


def fields_named(form: str, message: str) -> list[str]:
    """Contract fields a target's message names: "label（key）" from a read-back, else the longest labels in it."""
    fields = contract_forms()[form].fields if form in contract_forms() else {}
    keys = [k for k in re.findall(r"（([a-z0-9_]+)）", message) if k in fields]
    if keys:
        return list(dict.fromkeys(keys))
    found = [(k, f.label) for k, f in fields.items() if f.label and f.label in message]
    # "支払金額" names payment_amount, not also a field whose label is a part of it
    return [k for k, label in found if not any(label != other and label in other for _, other in found)]


def _receipt(row: KeyingReceipt) -> Receipt:
    at = row.updated_at or row.started_at
    return Receipt(row.key or "", str(row.document_id), State(row.state or State.failed), row.values_digest or "",
                   row.attempts or 0, row.message or "",
                   tuple(f"blob:{a['sha256']}" for a in row.artifacts or []), at.isoformat() if at else "")
