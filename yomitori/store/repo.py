"""The store's front door: `Store.tenant(code)` opens a repository bound to one tenant; nothing reads rows without one.

The tenant filter is structural: a tenant session adds `tenant_id = <its tenant>` to every ORM query it runs
(see `store.db._scope_to_tenant`), and `TenantRepo` is only handed out by `Store.tenant`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from yomitori.settings import Settings
from yomitori.store import field_crypto
from yomitori.store.blobs import BlobStore, blob_store
from yomitori.store.db import StoreError, ensure_schema, make_engine, tenant_sessionmaker
from yomitori.store.models import (
    AuditLog,
    Base,
    Batch,
    BatchStatus,
    Document,
    DocumentStatus,
    Field,
    FieldStatus,
    KeyingReceipt,
    KeyingResult,
    Page,
    PageStatus,
    ReviewEvent,
    Role,
    SavedLayout,
    SourceFile,
    SourceStatus,
    Tenant,
    User,
    utcnow,
)

M = TypeVar("M", bound=Base)


class Store:
    """Database + blob store for one deployment; cheap to keep, one per process."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.engine = make_engine(self.settings.db_url)
        field_crypto.register(self.engine, self.settings.data_dir)  # values are encrypted at rest
        ensure_schema(self.engine, auto_upgrade=self.settings.embedded_db)
        self._sessions = tenant_sessionmaker(self.engine)
        self.blobs: BlobStore = blob_store(self.settings)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def tenant(self, code: str | None = None, *, create: bool = False) -> Iterator[TenantRepo]:
        """A repository bound to tenant `code` (default: the settings' tenant, or the only one there is; see
        `default_tenant`), committed when the block ends."""
        code = code or self.settings.tenant
        with self._sessions() as session:
            tenant = session.scalar(sa.select(Tenant).where(Tenant.code == code))
            if tenant is None and code == self.settings.tenant and not self.tenant_was_set:
                # Nobody named a tenant: a single-tenant install is used without knowing its code.
                tenant = session.scalar(sa.select(Tenant).where(Tenant.code == self.default_tenant()))
            if tenant is None:
                if not create:
                    raise StoreError(f"unknown tenant {code!r}; create it with `yomitori batch submit --tenant {code}` "
                                     "or an administrator")
                tenant = self._create_tenant(session, code)
            session.info["tenant_id"] = tenant.id
            try:
                yield TenantRepo(session, tenant, self.blobs)
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def _create_tenant(self, session: Session, code: str) -> Tenant:
        if not code or "/" in code or code.startswith(".") or len(code) > 64:
            raise StoreError(f"not a usable tenant code: {code!r} (letters, digits, - and _)")
        try:
            with session.begin_nested():
                tenant = Tenant(code=code, name=code)
                session.add(tenant)
                session.flush()
                session.add(AuditLog(tenant_id=tenant.id, actor="system", action="tenant.create",
                                     object_type="tenant", object_id=code))
        except sa.exc.IntegrityError:  # created by another process a moment ago
            tenant = session.scalars(sa.select(Tenant).where(Tenant.code == code)).one()
        return tenant

    @property
    def tenant_was_set(self) -> bool:
        """Whether YOMITORI_TENANT (or the settings' caller) named the tenant, rather than its default."""
        return "tenant" in self.settings.model_fields_set

    def default_tenant(self) -> str:
        """The tenant a command or the login form acts for when none is named: YOMITORI_TENANT if set, else the
        only tenant of the install (the settings' default, `default`, while there is none). Several tenants and
        none named: a StoreError listing them."""
        if self.tenant_was_set:
            return self.settings.tenant
        codes = self.tenant_codes()
        if self.settings.tenant in codes or not codes:
            return self.settings.tenant
        if len(codes) == 1:
            return codes[0]
        raise StoreError(f"this installation has {len(codes)} tenants ({', '.join(codes)}): name one with "
                         "--tenant CODE or YOMITORI_TENANT=CODE")

    def tenant_codes(self) -> list[str]:
        with self._sessions() as session:
            return list(session.scalars(sa.select(Tenant.code).order_by(Tenant.id)))

    def open_batches(self) -> list[tuple[str, int]]:
        """(tenant code, batch id) of every batch still running, for the workers' search for lost work."""
        with self._sessions() as session:
            rows = session.execute(sa.select(Tenant.code, Batch.id).join(Tenant, Batch.tenant_id == Tenant.id)
                                   .where(Batch.status == BatchStatus.running).order_by(Batch.id))
            return [(code, bid) for code, bid in rows]


@dataclass(frozen=True)
class BatchProgress:
    batch_id: int
    name: str
    status: str
    files: int
    files_ingested: int
    files_failed: int
    pages: int  # known so far (a file's pages are known once it is ingested)
    pages_extracted: int  # extracted or done
    pages_done: int
    pages_failed: int
    documents: int
    needs_review: int

    @property
    def finished(self) -> bool:
        return self.status != BatchStatus.running


class TenantRepo:
    """Everything one tenant's users, jobs and bots read and write; every query is limited to this tenant."""

    def __init__(self, session: Session, tenant: Tenant, blobs: BlobStore) -> None:
        self.session, self.tenant, self.blobs = session, tenant, blobs

    @property
    def code(self) -> str:
        return self.tenant.code

    def get(self, model: type[M], id_: int) -> M:
        """The row with this id, or StoreError if it does not exist in this tenant."""
        row = self.session.scalar(sa.select(model).where(model.id == id_))  # tenant filter added by the session
        if row is None:
            what = re.sub(r"(?<!^)(?=[A-Z])", " ", model.__name__).lower()
            raise StoreError(f"no {what} {id_} in tenant {self.code}")
        return row

    # ---------------------------------------------------------------- audit

    def audit(self, actor: str, action: str, obj: Base | None = None, **detail: Any) -> None:
        """Append to the audit log. Never pass a 個人番号 in detail."""
        self.session.add(AuditLog(tenant_id=self.tenant.id, actor=actor, action=action,
                                  object_type=obj.__tablename__ if obj is not None else "",
                                  object_id=str(obj.id) if obj is not None else "", detail=detail))

    def audit_log(self, limit: int = 100) -> list[AuditLog]:
        return list(self.session.scalars(sa.select(AuditLog).where(AuditLog.tenant_id == self.tenant.id)
                                         .order_by(AuditLog.id.desc()).limit(limit)))

    # ---------------------------------------------------------------- users

    def add_user(self, username: str, role: Role | str, *, display_name: str = "", password_hash: str | None = None,
                 actor: str = "system") -> User:
        user = User(username=username, role=Role(role), display_name=display_name, password_hash=password_hash)
        self.session.add(user)
        self.session.flush()
        self.audit(actor, "user.create", user, username=username, role=str(role))
        return user

    def user(self, username: str) -> User | None:
        return self.session.scalar(sa.select(User).where(User.username == username))

    def users(self) -> list[User]:
        return list(self.session.scalars(sa.select(User).order_by(User.username)))

    # ---------------------------------------------------------------- batches

    def create_batch(self, name: str = "", *, created_by: str = "") -> Batch:
        batch = Batch(name=name, created_by=created_by)
        self.session.add(batch)
        self.session.flush()
        self.audit(created_by or "system", "batch.create", batch, name=name)
        return batch

    def add_source(self, batch: Batch, name: str, data: bytes) -> SourceFile:
        """Keep an original (content-addressed) and register it as the batch's next input."""
        sha = self.blobs.put(self.code, data)
        position = self.session.scalar(sa.select(sa.func.count()).select_from(SourceFile)
                                       .where(SourceFile.batch_id == batch.id)) or 0
        source = SourceFile(batch_id=batch.id, position=position, name=name, sha256=sha, size=len(data))
        self.session.add(source)
        self.session.flush()
        return source

    def batches(self, limit: int = 50) -> list[Batch]:
        return list(self.session.scalars(sa.select(Batch).order_by(Batch.id.desc()).limit(limit)))

    def sources(self, batch_id: int) -> list[SourceFile]:
        return list(self.session.scalars(sa.select(SourceFile).where(SourceFile.batch_id == batch_id)
                                         .order_by(SourceFile.position)))

    def pages(self, batch_id: int, status: PageStatus | None = None) -> list[Page]:
        q = sa.select(Page).join(SourceFile, Page.source_id == SourceFile.id).where(Page.batch_id == batch_id)
        if status is not None:
            q = q.where(Page.status == status)
        return list(self.session.scalars(q.order_by(SourceFile.position, Page.number)))

    def documents(self, batch_id: int, status: DocumentStatus | None = None) -> list[Document]:
        q = (sa.select(Document).join(SourceFile, Document.source_id == SourceFile.id)
             .where(Document.batch_id == batch_id).options(selectinload(Document.fields)))
        if status is not None:
            q = q.where(Document.status == status)
        return list(self.session.scalars(q.order_by(SourceFile.position, Document.first_page)))

    def progress(self, batch_id: int) -> BatchProgress:
        batch = self.get(Batch, batch_id)
        files = dict(self.session.execute(sa.select(SourceFile.status, sa.func.count())
                                          .where(SourceFile.batch_id == batch_id).group_by(SourceFile.status)).all())
        pages = dict(self.session.execute(sa.select(Page.status, sa.func.count())
                                          .where(Page.batch_id == batch_id).group_by(Page.status)).all())
        docs = dict(self.session.execute(sa.select(Document.status, sa.func.count())
                                         .where(Document.batch_id == batch_id).group_by(Document.status)).all())
        return BatchProgress(
            batch_id=batch.id, name=batch.name, status=str(batch.status),
            files=sum(files.values()), files_ingested=files.get(SourceStatus.ingested, 0),
            files_failed=files.get(SourceStatus.error, 0),
            pages=sum(pages.values()),
            pages_extracted=pages.get(PageStatus.extracted, 0) + pages.get(PageStatus.done, 0),
            pages_done=pages.get(PageStatus.done, 0), pages_failed=pages.get(PageStatus.error, 0),
            documents=sum(docs.values()), needs_review=docs.get(DocumentStatus.needs_review, 0),
        )

    def finish_if_complete(self, batch_id: int, before: Callable[[TenantRepo, int], None] | None = None) -> bool:
        """Mark the batch done once no file waits for ingestion and no page for extraction or validation.

        `before(repo, batch_id)` runs first, once every page is in (the stages link 総括表 bundles there).
        """
        open_sources = self.session.scalar(sa.select(sa.func.count()).select_from(SourceFile).where(
            SourceFile.batch_id == batch_id, SourceFile.status == SourceStatus.pending))
        open_pages = self.session.scalar(sa.select(sa.func.count()).select_from(Page).where(
            Page.batch_id == batch_id, Page.status.in_([PageStatus.ingested, PageStatus.extracted])))
        if open_sources or open_pages:
            return False
        if before is not None and self.get(Batch, batch_id).status == BatchStatus.running:
            before(self, batch_id)
        done = self.session.execute(sa.update(Batch).where(Batch.id == batch_id, Batch.status == BatchStatus.running)
                                    .values(status=BatchStatus.done, finished_at=utcnow()))
        if done.rowcount:
            self.audit("system", "batch.done", self.get(Batch, batch_id))
        return True

    # ---------------------------------------------------------------- review

    def correct_field(self, field_id: int, value: Any, *, actor: str, user_id: int | None = None,
                      comment: str = "", audit_detail: dict[str, Any] | None = None) -> ReviewEvent:
        """A reviewer's new value; the old one stays in the review event (and extracted_value).

        `audit_detail` is added to the audit entry (the review UI passes old → new, 個人番号 masked).
        """
        return self._review(field_id, "correct", FieldStatus.corrected, value, actor, user_id, comment, audit_detail)

    def approve_field(self, field_id: int, *, actor: str, user_id: int | None = None, comment: str = "",
                      audit_detail: dict[str, Any] | None = None) -> ReviewEvent:
        field = self.get(Field, field_id)
        return self._review(field_id, "approve", FieldStatus.approved, field.value, actor, user_id, comment,
                            audit_detail)

    def _review(self, field_id: int, action: str, status: FieldStatus, value: Any, actor: str, user_id: int | None,
                comment: str, audit_detail: dict[str, Any] | None = None) -> ReviewEvent:
        field = self.get(Field, field_id)
        event = ReviewEvent(field_id=field.id, document_id=field.document_id, user_id=user_id, actor=actor,
                            action=action, old_value=field.value, new_value=value, old_status=str(field.status),
                            new_status=str(status), comment=comment)
        field.value, field.status = value, status
        self.session.add(event)
        self.session.flush()
        self.refresh_document_status(self.get(Document, field.document_id))
        self.audit(actor, f"field.{action}", field, key=field.key, document_id=field.document_id,
                   **(audit_detail or {}))
        return event

    def refresh_document_status(self, doc: Document) -> DocumentStatus:
        if doc.status == DocumentStatus.keyed:
            return doc.status
        # The statuses alone: loading the fields would decrypt every value of the document for nothing.
        statuses = set(self.session.scalars(sa.select(Field.status).where(Field.document_id == doc.id)))
        if not statuses or FieldStatus.needs_review in statuses:  # a page no layout matched needs a person too
            doc.status = DocumentStatus.needs_review
        elif statuses & {FieldStatus.corrected, FieldStatus.approved}:
            doc.status = DocumentStatus.approved
        else:
            doc.status = DocumentStatus.auto
        return doc.status

    # ---------------------------------------------------------------- keying

    def add_keying_receipt(self, document_id: int, *, bot: str, run_id: str, result: KeyingResult | str,
                           keyed_fields: Sequence[str] = (), target_ref: str | None = None, message: str = "",
                           started_at: datetime | None = None, finished_at: datetime | None = None) -> KeyingReceipt:
        doc = self.get(Document, document_id)
        receipt = KeyingReceipt(document_id=doc.id, bot=bot, run_id=run_id, result=KeyingResult(result),
                                keyed_fields=list(keyed_fields), target_ref=target_ref, message=message,
                                started_at=started_at or utcnow(), finished_at=finished_at or utcnow())
        self.session.add(receipt)
        if receipt.result == KeyingResult.ok:
            doc.status = DocumentStatus.keyed
        self.session.flush()
        self.audit(bot, "document.keyed" if receipt.result == KeyingResult.ok else "document.keying_failed", doc,
                   run_id=run_id, result=str(receipt.result))
        return receipt

    def keying_receipts(self, document_id: int) -> list[KeyingReceipt]:
        return list(self.session.scalars(sa.select(KeyingReceipt).where(KeyingReceipt.document_id == document_id)
                                         .order_by(KeyingReceipt.id)))

    # ---------------------------------------------------------------- retention

    def purge_batch(self, batch_id: int, *, actor: str, retention_days: int, now: datetime | None = None) -> int:
        """Delete the batch's originals, page images and crops once the retention period is over; returns blobs gone.

        Extracted values, review events, receipts and the audit log stay. A blob another live batch of this tenant
        still uses (the same file submitted twice) is kept.
        """
        batch = self.get(Batch, batch_id)
        if batch.status == BatchStatus.purged:
            raise StoreError(f"batch {batch_id} was already purged on {batch.purged_at:%Y-%m-%d}")
        if batch.status != BatchStatus.done:
            raise StoreError(f"batch {batch_id} is still running; purge it once every page is done")
        now = now or datetime.now(UTC)
        until = _aware(batch.finished_at or batch.created_at) + timedelta(days=retention_days)
        if now < until:
            raise StoreError(f"batch {batch_id} is kept until {until:%Y-%m-%d} (retention {retention_days} days)")
        mine = self._blob_refs(Batch.id == batch_id)
        others = self._blob_refs(Batch.id != batch_id, Batch.status != BatchStatus.purged)
        gone = sorted(mine - others)
        for sha in gone:
            self.blobs.delete(self.code, sha)
        batch.status, batch.purged_at, batch.purged_by = BatchStatus.purged, now, actor
        self.audit(actor, "batch.purge", batch, blobs_deleted=len(gone), retention_days=retention_days)
        return len(gone)

    def _blob_refs(self, *where: sa.ColumnElement[bool]) -> set[str]:
        queries = [
            sa.select(SourceFile.sha256).join(Batch, SourceFile.batch_id == Batch.id).where(*where),
            sa.select(Page.image_sha256).join(Batch, Page.batch_id == Batch.id).where(*where),
            sa.select(Document.image_sha256).join(Batch, Document.batch_id == Batch.id).where(*where),
            sa.select(Field.crop_sha256).join(Document, Field.document_id == Document.id)
            .join(Batch, Document.batch_id == Batch.id).where(*where),
            # A layout's scan in the template editor is its page's: it goes when the page's batch is purged.
            sa.select(SavedLayout.image_sha256).join(Page, SavedLayout.page_id == Page.id)
            .join(Batch, Page.batch_id == Batch.id).where(*where),
        ]
        return {sha for q in queries for sha in self.session.scalars(q) if sha}

    # ---------------------------------------------------------------- export

    def records(self, batch_id: int) -> Iterator[dict[str, Any]]:
        """The contract's JSONL objects for the batch, in submission order: documents and error records."""
        self.get(Batch, batch_id)
        docs = {(d.source_id, d.first_page): d for d in self.documents(batch_id)}
        pages_by_source: dict[int, list[Page]] = {}
        for p in self.pages(batch_id):
            pages_by_source.setdefault(p.source_id, []).append(p)
        for source in self.sources(batch_id):
            if source.status == SourceStatus.error:
                yield {"source": source.name, "pages": [], "form": "error", "error": source.error}
                continue
            for page in pages_by_source.get(source.id, []):
                if page.status == PageStatus.error:
                    yield {"source": source.name, "pages": [page.number], "form": "error", "error": page.error}
                elif (doc := docs.get((source.id, page.number))) is not None and page.status == PageStatus.done:
                    yield document_record(doc, source.name, [page.number])


def document_record(doc: Document, source: str, pages: list[int]) -> dict[str, Any]:
    """Same shape as `PageResult.to_record()`, with reviewed values and `review` from the field's status."""
    return {
        "source": source, "pages": pages, "form": doc.form, "layout": doc.layout,
        "form_confidence": round(doc.form_confidence, 4),
        "fields": {f.key: {"value": f.value, "confidence": round(f.confidence, 4),
                           "review": f.status == FieldStatus.needs_review} for f in doc.fields},
    }


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)  # SQLite hands back naive datetimes
