"""The batch store on SQLite and on a real PostgreSQL: migrations, tenant isolation, review, keying, audit, purge."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from _servers import fresh_pg_database, postgres_server
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from yomitori.settings import Settings
from yomitori.store import db
from yomitori.store.models import (
    AuditLog,
    Base,
    Batch,
    BatchStatus,
    Document,
    DocumentStatus,
    Field,
    FieldStatus,
    Page,
    PageStatus,
    SourceFile,
)
from yomitori.store.repo import Store, TenantRepo

_names = itertools.count()


@pytest.fixture(scope="module")
def pg_server():
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return fresh_pg_database(request.getfixturevalue("pg_server"), f"t{next(_names)}")


@pytest.fixture
def store(db_url, tmp_path):
    settings = Settings(data_dir=tmp_path, database_url=db_url)
    if not settings.embedded_db:
        db.upgrade(db.make_engine(db_url))  # a shared database is migrated explicitly
    s = Store(settings)
    yield s
    s.close()


def _document(repo: TenantRepo, batch: Batch, name: str, values: dict[str, object]) -> Document:
    """A batch with one extracted page and its document, as the extract stage leaves them."""
    source = repo.add_source(batch, name, name.encode())
    page = Page(batch_id=batch.id, source_id=source.id, number=1, status=PageStatus.done)
    doc = Document(batch_id=batch.id, source_id=source.id, first_page=1, form="kyuyo_shiharai_hokokusho",
                   layout="national", form_confidence=0.99)
    repo.session.add_all([page, doc])
    repo.session.flush()
    page.document_id = doc.id
    for key, value in values.items():
        repo.session.add(Field(document_id=doc.id, key=key, value=value, extracted_value=value, confidence=0.9,
                               review=key == "recipient_name",
                               status=FieldStatus.needs_review if key == "recipient_name" else FieldStatus.auto))
    repo.session.flush()
    repo.refresh_document_status(doc)
    return doc


def test_migrations_round_trip_and_match_the_models(db_url):
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    tables = set(sa.inspect(engine).get_table_names())
    assert {"tenants", "users", "batches", "source_files", "pages", "documents", "fields", "review_events",
            "keying_receipts", "audit_log"} <= tables
    with engine.connect() as conn:  # the migration creates exactly what the models describe
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    db.downgrade(engine, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    db.upgrade(engine)
    assert "fields" in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_shared_database_behind_schema_is_refused(tmp_path, pg_server):
    url = fresh_pg_database(pg_server, f"t{next(_names)}")
    with pytest.raises(db.StoreError, match="yomitori db upgrade"):
        Store(Settings(data_dir=tmp_path, database_url=url))


def test_embedded_database_migrates_itself(tmp_path):
    store = Store(Settings(data_dir=tmp_path))
    assert db.current_revision(store.engine) == db.head_revision()
    assert (tmp_path / "yomitori.db").exists()


def test_a_tenant_cannot_see_or_write_another_tenants_rows(store):
    with store.tenant("yokohama", create=True) as a:
        batch = a.create_batch("A")
        doc = _document(a, batch, "a.pdf", {"payment_amount": 100, "recipient_name": "山田 太郎"})
        ids = {"batch": batch.id, "doc": doc.id, "field": doc.fields[0].id}
    with store.tenant("kawasaki", create=True) as b:
        other = b.create_batch("B")
        _document(b, other, "b.pdf", {"payment_amount": 200})
        for model, key in ((Batch, "batch"), (Document, "doc"), (Field, "field")):
            with pytest.raises(db.StoreError, match="kawasaki"):
                b.get(model, ids[key])
        # Even raw ORM queries through a tenant session see only that tenant's rows.
        assert [d.batch_id for d in b.session.scalars(sa.select(Document))] == [other.id]
        assert {f.value for f in b.session.scalars(sa.select(Field))} == {200}
        assert [x.id for x in b.batches()] == [other.id]
        assert next(b.records(other.id))["source"] == "b.pdf"
        with pytest.raises(db.StoreError):
            list(b.records(ids["batch"]))
        with pytest.raises(db.StoreError):
            b.correct_field(ids["field"], 1, actor="mallory")
    with pytest.raises(db.StoreError, match="another tenant"), store.tenant("kawasaki") as b:
        b.session.add(SourceFile(tenant_id=_tenant_id(store, "yokohama"), batch_id=ids["batch"], position=9,
                                 name="x", sha256="0" * 64, size=1))
        b.session.flush()
    with store.tenant("yokohama") as a:
        assert a.get(Document, ids["doc"]).fields[0].value == 100  # untouched


def _tenant_id(store: Store, code: str) -> int:
    with store.tenant(code) as repo:
        return repo.tenant.id


def test_unknown_tenant_is_an_error_not_an_empty_tenant(store):
    with pytest.raises(db.StoreError, match="unknown tenant"), store.tenant("nowhere"):
        pass


def test_review_events_and_keying_receipts(store):
    with store.tenant("yokohama", create=True) as repo:
        reviewer = repo.add_user("sato", "reviewer", display_name="佐藤")
        doc = _document(repo, repo.create_batch(), "a.pdf", {"payment_amount": 100, "recipient_name": "高橋 一郎"})
        assert doc.status == DocumentStatus.needs_review
        name = next(f for f in doc.fields if f.key == "recipient_name")
        event = repo.correct_field(name.id, "髙橋 一郎", actor="sato", user_id=reviewer.id, comment="はしごだか")
        assert (event.old_value, event.new_value, event.old_status, event.new_status) == (
            "高橋 一郎", "髙橋 一郎", "needs_review", "corrected")
        assert name.extracted_value == "高橋 一郎" and name.status == FieldStatus.corrected
        assert repo.get(Document, doc.id).status == DocumentStatus.approved
        receipt = repo.add_keying_receipt(doc.id, bot="kyuyo-entry", run_id="run-1", result="ok",
                                          keyed_fields=["payment_amount", "recipient_name"], target_ref="T-1")
        assert repo.get(Document, doc.id).status == DocumentStatus.keyed
        assert [r.id for r in repo.keying_receipts(doc.id)] == [receipt.id]
        record = next(repo.records(doc.batch_id))
        assert record["fields"]["recipient_name"] == {"value": "髙橋 一郎", "confidence": 0.9, "review": False}
        actions = [e.action for e in repo.audit_log()]
        assert {"field.correct", "document.keyed", "user.create", "batch.create"} <= set(actions)


def test_audit_log_is_append_only_in_the_database(store):
    with store.tenant("yokohama", create=True) as repo:
        repo.audit("sato", "batch.export")
    for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as conn:
            conn.execute(sa.text(sql))
    with store.engine.connect() as conn:
        assert "mallory" not in conn.scalars(sa.select(AuditLog.actor)).all()


def test_purge_waits_for_the_retention_period_and_keeps_shared_files(store):
    with store.tenant("yokohama", create=True) as repo:
        old, new = repo.create_batch("old"), repo.create_batch("new")
        _document(repo, old, "a.pdf", {"payment_amount": 1})
        repo.add_source(old, "only-old.pdf", b"only in the old batch")
        repo.add_source(new, "a-again.pdf", b"a.pdf")  # the same bytes in a batch that is kept
        for b in (old, new):
            b.status, b.finished_at = BatchStatus.done, datetime.now(UTC)
        old_id = old.id
    shared, only_old = store.blobs.put("yokohama", b"a.pdf"), store.blobs.put("yokohama", b"only in the old batch")
    with store.tenant("yokohama") as repo, pytest.raises(db.StoreError, match="retention 30 days"):
        repo.purge_batch(old_id, actor="admin", retention_days=30)
    with store.tenant("yokohama") as repo:
        later = datetime.now(UTC) + timedelta(days=31)
        assert repo.purge_batch(old_id, actor="admin", retention_days=30, now=later) == 1
    assert not store.blobs.exists("yokohama", only_old)
    assert store.blobs.exists("yokohama", shared)
    with store.tenant("yokohama") as repo:
        batch = repo.get(Batch, old_id)
        assert batch.status == BatchStatus.purged and batch.purged_by == "admin"
        assert repo.audit_log()[0].action == "batch.purge"
        assert repo.audit_log()[0].detail == {"blobs_deleted": 1, "retention_days": 30}
        assert next(repo.records(old_id))["fields"]["payment_amount"]["value"] == 1  # values are kept
        with pytest.raises(db.StoreError, match="already purged"):
            repo.purge_batch(old_id, actor="admin", retention_days=0)
