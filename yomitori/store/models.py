"""The batch store's tables: tenant → batch → source file → page → document → field → review / keying, and audit."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from yomitori.store.field_crypto import EncryptedJSON

# Stable constraint names, so Alembic migrations (and SQLite batch mode) can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar = {dict[str, Any]: sa.JSON, list[Any]: sa.JSON, datetime: sa.DateTime(timezone=True)}


def _enum(cls: type[enum.Enum], name: str) -> sa.Enum:
    """A VARCHAR with a CHECK constraint (not a native PostgreSQL enum: adding a value stays a one-line migration)."""
    return sa.Enum(cls, name=name, native_enum=False, create_constraint=True, length=20,
                   values_callable=lambda e: [m.value for m in e], validate_strings=True)


class Role(enum.StrEnum):
    operator = "operator"  # submits batches, runs bots
    reviewer = "reviewer"  # corrects and approves fields
    administrator = "administrator"  # users, settings, purge
    auditor = "auditor"  # reads the audit log; sees 個人番号 unmasked only where the law allows


class BatchStatus(enum.StrEnum):
    running = "running"  # some page is not done yet
    done = "done"  # every page done or error
    purged = "purged"  # originals and images deleted after the retention period


class SourceStatus(enum.StrEnum):
    pending = "pending"
    ingested = "ingested"
    error = "error"  # the whole file could not be read (error says why)


class PageStatus(enum.StrEnum):
    ingested = "ingested"  # image stored, waiting for extraction
    extracted = "extracted"  # document and fields written, waiting for validation
    done = "done"  # validated and gated
    error = "error"  # could not be read or extracted (error says why)


class DocumentStatus(enum.StrEnum):
    auto = "auto"  # every field passed the gate: straight-through
    needs_review = "needs_review"
    approved = "approved"  # every field auto, corrected or approved by a reviewer
    keyed = "keyed"  # a bot keyed it into the tax system


class FieldStatus(enum.StrEnum):
    auto = "auto"
    needs_review = "needs_review"
    corrected = "corrected"
    approved = "approved"


class KeyingResult(enum.StrEnum):
    ok = "ok"
    failed = "failed"
    skipped = "skipped"


class TenantScoped:
    """Mixin: every row but a tenant's own belongs to one tenant; the session filters on it (see store.db)."""

    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id"), index=True)


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)  # e.g. "yokohama"; used in blob keys and the CLI
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(TenantScoped, Base):
    __tablename__ = "users"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(100))
    display_name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))  # filled by the review UI's auth
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")  # since the last good login
    locked_until: Mapped[datetime | None]  # set after repeated failed logins
    last_login_at: Mapped[datetime | None]


class Batch(TenantScoped, Base):
    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus, "batch_status"), default=BatchStatus.running)
    created_by: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]
    purged_by: Mapped[str | None] = mapped_column(sa.String(100))

    sources: Mapped[list[SourceFile]] = relationship(back_populates="batch", order_by="SourceFile.position")


class SourceFile(TenantScoped, Base):
    """One submitted input file (an original), kept in the blob store until the batch is purged."""

    __tablename__ = "source_files"
    __table_args__ = (sa.UniqueConstraint("batch_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"), index=True)
    position: Mapped[int]  # order of submission, 0-based
    name: Mapped[str] = mapped_column(sa.String(1000))  # the path as the user gave it (the contract's "source")
    # A web upload's file name as typed, for display only: `name` then holds it sanitised (yomitori.filenames)
    original_name: Mapped[str | None] = mapped_column(sa.String(1000))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[SourceStatus] = mapped_column(_enum(SourceStatus, "source_status"), default=SourceStatus.pending)
    error: Mapped[str | None] = mapped_column(sa.Text)
    page_count: Mapped[int | None]
    lease_owner: Mapped[str | None] = mapped_column(sa.String(200))
    lease_until: Mapped[datetime | None]
    job_id: Mapped[str | None] = mapped_column(sa.String(100))

    batch: Mapped[Batch] = relationship(back_populates="sources")


class Page(TenantScoped, Base):
    __tablename__ = "pages"
    __table_args__ = (sa.UniqueConstraint("source_id", "number"),
                      sa.Index("ix_pages_batch_status", "batch_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"))
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("source_files.id"), index=True)
    number: Mapped[int]  # 1-based page number in the source
    image_sha256: Mapped[str | None] = mapped_column(sa.String(64))  # lossless PNG of the page as scanned
    width: Mapped[int | None]
    height: Mapped[int | None]
    status: Mapped[PageStatus] = mapped_column(_enum(PageStatus, "page_status"), default=PageStatus.ingested)
    error: Mapped[str | None] = mapped_column(sa.Text)
    form: Mapped[str | None] = mapped_column(sa.String(64))
    layout: Mapped[str | None] = mapped_column(sa.String(64))
    form_confidence: Mapped[float | None]
    rotation: Mapped[int | None]
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("documents.id"), index=True)
    attempts: Mapped[int] = mapped_column(default=0)  # extraction claims; > 1 means a worker died or failed
    lease_owner: Mapped[str | None] = mapped_column(sa.String(200))
    lease_until: Mapped[datetime | None]
    job_id: Mapped[str | None] = mapped_column(sa.String(100))
    extracted_at: Mapped[datetime | None]
    # A line of an electronic submission (yomitori/standard/importing.py) stands in for the page image: the
    # review UI shows it, and an export in the same layout carries its items that map to no contract field.
    record_line: Mapped[str | None] = mapped_column(sa.Text)

    source: Mapped[SourceFile] = relationship()


class Document(TenantScoped, Base):
    """One form instance: its pages, form and layout; a 総括表's 明細書 point to it through bundle_id."""

    __tablename__ = "documents"
    __table_args__ = (sa.UniqueConstraint("source_id", "first_page"),
                      sa.Index("ix_documents_status_created_at", "status", "created_at"))  # the review queue

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"), index=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("source_files.id"))
    first_page: Mapped[int]  # page number in the source; with source_id, what makes re-runs idempotent
    form: Mapped[str] = mapped_column(sa.String(64))
    layout: Mapped[str | None] = mapped_column(sa.String(64))
    form_confidence: Mapped[float] = mapped_column(default=0.0)
    status: Mapped[DocumentStatus] = mapped_column(_enum(DocumentStatus, "document_status"),
                                                   default=DocumentStatus.needs_review)
    bundle_id: Mapped[int | None] = mapped_column(sa.ForeignKey("documents.id"))
    findings: Mapped[list[Any]] = mapped_column(default=list)  # validators' findings (all of them, as dicts)
    image_sha256: Mapped[str | None] = mapped_column(sa.String(64))  # first page registered onto the layout (PNG)
    claimed_by: Mapped[int | None]  # user id of the reviewer working on it (no FK: a claim is a lease, not a link)
    claimed_until: Mapped[datetime | None]
    returned_reason: Mapped[str | None] = mapped_column(sa.String(20))  # "unreadable" | "misclassified"
    returned_form: Mapped[str | None] = mapped_column(sa.String(64))  # the form a reviewer says it really is
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    pages: Mapped[list[Page]] = relationship(order_by="Page.number", foreign_keys="Page.document_id")
    fields: Mapped[list[Field]] = relationship(back_populates="document", order_by="Field.id")
    source: Mapped[SourceFile] = relationship()


class Field(TenantScoped, Base):
    __tablename__ = "fields"
    __table_args__ = (sa.UniqueConstraint("document_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"))
    key: Mapped[str] = mapped_column(sa.String(64))  # the contract's field key
    # Values are encrypted at rest (store.field_crypto): 個人番号 and everything else a page says.
    value: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)  # normalized value (JSON null = blank)
    extracted_value: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)  # what OCR read, kept after corrections
    alternatives: Mapped[list[Any]] = mapped_column(EncryptedJSON, default=list)
    confidence: Mapped[float] = mapped_column(default=0.0)
    review: Mapped[bool] = mapped_column(default=True)  # the extractor's confidence gate (status adds findings)
    reasons: Mapped[list[Any]] = mapped_column(default=list)  # why the extractor flagged it
    findings: Mapped[list[Any]] = mapped_column(default=list)  # validators' findings naming this field
    status: Mapped[FieldStatus] = mapped_column(_enum(FieldStatus, "field_status"), default=FieldStatus.needs_review)
    crop_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    box: Mapped[list[Any] | None] = mapped_column(sa.JSON, nullable=True)  # [x, y, w, h] in template millimetres
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    document: Mapped[Document] = relationship(back_populates="fields")


class ReviewEvent(TenantScoped, Base):
    __tablename__ = "review_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(sa.ForeignKey("fields.id"), index=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(sa.String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(sa.String(20))  # "correct" | "approve" | "reopen"
    old_value: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)
    old_status: Mapped[str] = mapped_column(sa.String(20))
    new_status: Mapped[str] = mapped_column(sa.String(20))
    comment: Mapped[str] = mapped_column(sa.Text, default="")


class KeyingReceipt(TenantScoped, Base):
    """Which bot run keyed which document into the tax system, when, and with what result."""

    __tablename__ = "keying_receipts"
    __table_args__ = (sa.Index("uq_keying_receipts_tenant_id_bot_key", "tenant_id", "bot", "key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"), index=True)
    bot: Mapped[str] = mapped_column(sa.String(100))  # scenario name
    run_id: Mapped[str] = mapped_column(sa.String(100), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    result: Mapped[KeyingResult] = mapped_column(_enum(KeyingResult, "keying_result"))
    target_ref: Mapped[str | None] = mapped_column(sa.String(200))  # the record's id in the tax system
    keyed_fields: Mapped[list[Any]] = mapped_column(default=list)  # field keys written and read back
    message: Mapped[str] = mapped_column(sa.Text, default="")  # never a 個人番号
    # The bots' receipt journal (bots/batch_journal.py): one row per scenario and idempotency key, updated in place;
    # `result` stays the coarse outcome (ok only once read back), `state` is the journal's step.
    key: Mapped[str | None] = mapped_column(sa.String(64))  # HMAC of the record's key fields: no 個人番号 in it
    state: Mapped[str | None] = mapped_column(sa.String(20))  # started|saved|verified|skipped|sent_back|failed
    values_digest: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    artifacts: Mapped[list[Any] | None] = mapped_column(sa.JSON, nullable=True)  # [{"kind", "sha256"}] in blobs
    updated_at: Mapped[datetime | None]


class AuditLog(Base):
    """Append-only (database triggers refuse UPDATE and DELETE); tenant_id is null for system events."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(100))
    action: Mapped[str] = mapped_column(sa.String(50))  # e.g. "batch.submit", "batch.purge", "field.correct"
    object_type: Mapped[str] = mapped_column(sa.String(50), default="")
    object_id: Mapped[str] = mapped_column(sa.String(100), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)  # never a 個人番号


class KeyingSecret(TenantScoped, Base):
    """The key of the bots' idempotency HMACs, one per tenant (a plain hash of a 個人番号 could be reversed)."""

    __tablename__ = "keying_secrets"
    __table_args__ = (sa.UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    secret: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BotScenario(TenantScoped, Base):
    """One saved version of a keying scenario (YAML); every save adds a version, none is ever changed."""

    __tablename__ = "bot_scenarios"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))  # the library name (letters, digits, - and _)
    version: Mapped[int]  # 1, 2, ... per name
    form: Mapped[str] = mapped_column(sa.String(64))
    target_system: Mapped[str] = mapped_column(sa.String(200), default="")  # e.g. "住民税課税システム（〇〇社）"
    yaml: Mapped[str] = mapped_column(sa.Text)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BotRun(TenantScoped, Base):
    """One `yomitori bot run` (or test run) and its counts, updated as records finish: the bot dashboard."""

    __tablename__ = "bot_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    bot: Mapped[str] = mapped_column(sa.String(100))  # the scenario's name:
    scenario_ref: Mapped[str] = mapped_column(sa.String(300), default="")  # "name v3" from the store, or a file
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batches.id"), index=True)
    dry_run: Mapped[bool] = mapped_column(default=False)
    parallel: Mapped[int] = mapped_column(default=1)
    started_by: Mapped[str] = mapped_column(sa.String(100), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(sa.String(20), default="running")  # running | done | aborted | error
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # keyed, skipped, sent_back, failed, ...
    seconds: Mapped[float | None]
    message: Mapped[str] = mapped_column(sa.Text, default="")


class BotLease(TenantScoped, Base):
    """One bot run at a time per scenario journal (bots/lease.py): held while `expires_at` is renewed; a run that
    died is taken over once its lease expires, at once on its own host when its process is gone."""

    __tablename__ = "bot_leases"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "bot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bot: Mapped[str] = mapped_column(sa.String(100))  # the scenario's name, as in keying_receipts
    run_id: Mapped[str] = mapped_column(sa.String(100))
    host: Mapped[str] = mapped_column(sa.String(200))
    pid: Mapped[int]
    generation: Mapped[int] = mapped_column(default=0)  # +1 on every take-over: renewals of the old holder miss
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class SavedLayout(TenantScoped, Base):
    """One version of a layout learned for this tenant (template YAML): a draft found from a page's printed labels,
    then each save from the template editor a new version; none is ever changed. The newest `active` version of a
    layout is read like a bundled template."""

    __tablename__ = "saved_layouts"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "form", "layout", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form: Mapped[str] = mapped_column(sa.String(64))
    layout: Mapped[str] = mapped_column(sa.String(64))  # letters, digits, - and _; never a bundled layout's name
    version: Mapped[int]  # 1, 2, ... per (form, layout)
    yaml: Mapped[str] = mapped_column(sa.Text)  # validated as forms_templates/ files are
    active: Mapped[bool] = mapped_column(default=False)  # False: a draft, not read with until an administrator saves
    page_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pages.id"))  # the page it was drafted from
    image_sha256: Mapped[str | None] = mapped_column(sa.String(64))  # that page registered onto it (PNG)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserSession(TenantScoped, Base):
    """A login to the review UI or API, checked on every request; ended by logout, a new password, a lock, a role
    change or deactivation. The cookie holds the token, the store only its SHA-256 (a database reader cannot log in)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    role: Mapped[str] = mapped_column(sa.String(20))  # the role it was opened with
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(sa.String(20))  # logout | password | locked | role | deactivated



# ---------------------------------------------------------------- the municipality's master data (yomitori/masters)


class MasterResident(TenantScoped, Base):
    """One person of the 宛名 master: 個人番号 only as a keyed HMAC (yomitori.masters.keys), never in clear."""

    __tablename__ = "master_residents"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[str] = mapped_column(sa.String(40))  # 宛名番号: re-import updates by it
    name: Mapped[str] = mapped_column(sa.String(200))  # in the city's own characters (髙, 﨑 …)
    name_kana: Mapped[str] = mapped_column(sa.String(200), default="")
    birth_date: Mapped[str | None] = mapped_column(sa.String(10))  # ISO
    address: Mapped[str] = mapped_column(sa.String(500), default="")
    my_number_hmac: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    moved_in: Mapped[str | None] = mapped_column(sa.String(10))  # ISO; a 1 January resident moved in before it
    moved_out: Mapped[str | None] = mapped_column(sa.String(10))  # ISO; … and out after it (or never)
    support_measure: Mapped[bool] = mapped_column(default=False)  # 支援措置 (DV and similar): guarded documents
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MasterEmployer(TenantScoped, Base):
    """One 特別徴収義務者: 指定番号, 法人番号, 名称, 所在地."""

    __tablename__ = "master_employers"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "designated_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    designated_number: Mapped[str] = mapped_column(sa.String(40))
    corporate_number: Mapped[str | None] = mapped_column(sa.String(13), index=True)
    name: Mapped[str] = mapped_column(sa.String(300), default="")
    address: Mapped[str] = mapped_column(sa.String(500), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MasterRollEntry(TenantScoped, Base):
    """One line of an employer's 特別徴収 roll: this resident's tax is collected by that employer."""

    __tablename__ = "master_roll"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "designated_number", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    designated_number: Mapped[str] = mapped_column(sa.String(40))
    resident_id: Mapped[str] = mapped_column(sa.String(40))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DocumentMaster(TenantScoped, Base):
    """What the masters said about one document: the matched person and employer, the evidence, the checks."""

    __tablename__ = "document_masters"
    __table_args__ = (sa.UniqueConstraint("document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"))
    resident_id: Mapped[str | None] = mapped_column(sa.String(40))  # 宛名番号 of the matched person
    employer_designated: Mapped[str | None] = mapped_column(sa.String(40))
    score: Mapped[float] = mapped_column(default=0.0)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)  # field → equal | folded | differs | absent
    misdirected: Mapped[bool] = mapped_column(default=False)  # 送付先誤り: not a 1 January resident
    support_measure: Mapped[bool] = mapped_column(default=False)  # the person is under 支援措置
    keying_approved_by: Mapped[str | None] = mapped_column(sa.String(100))  # 支援措置: bots key only after this
    keying_approved_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


TENANT_SCOPED: tuple[type[Base], ...] = (User, Batch, SourceFile, Page, Document, Field, ReviewEvent, KeyingReceipt,
                                         KeyingSecret, BotScenario, BotRun, BotLease, SavedLayout, UserSession,
                                         MasterResident, MasterEmployer, MasterRollEntry, DocumentMaster)
