"""Database engine, migrations (Alembic, shipped in the package) and tenant-bound sessions."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from yomitori.errors import YomitoriError
from yomitori.store.models import TenantScoped

MIGRATIONS = Path(__file__).parent / "migrations"


class StoreError(YomitoriError):
    """The store cannot be used as asked (unknown tenant or batch, schema too old, retention not over...)."""


def make_engine(url: str) -> sa.Engine:
    """An engine; SQLite gets WAL, a busy timeout and enforced foreign keys so several processes can share it."""
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            private_database_files(Path(path))
        engine = sa.create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def private_database_files(db: Path) -> None:
    """The embedded database holds every 個人番号: its folder 0700, the file and its -wal/-shm 0600 (SQLite gives
    -wal and -shm the database file's mode), also for a database made before by an older version."""
    folder = db.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_uid == os.getuid() and folder.stat().st_mode & 0o077:
        folder.chmod(0o700)  # the data dir is yomitori's own (settings.data_dir)
    if not db.exists():
        os.close(os.open(db, os.O_WRONLY | os.O_CREAT, 0o600))
    for f in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if f.exists() and f.stat().st_mode & 0o077:
            f.chmod(0o600)


def alembic_config(engine: sa.Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def ensure_schema(engine: sa.Engine, *, auto_upgrade: bool) -> None:
    """Upgrade an embedded database on first use; refuse a shared one that is behind (`yomitori db upgrade`)."""
    if current_revision(engine) == head_revision():
        return
    if not auto_upgrade:
        raise StoreError(f"the database at {engine.url.render_as_string()} is not at the current schema; "
                         "run `yomitori db upgrade` first")
    upgrade(engine)


# ---------------------------------------------------------------- tenant scoping


def tenant_sessionmaker(engine: sa.Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenant(state: ORMExecuteState) -> None:
    """Every ORM SELECT (and lazy load) in a tenant session sees only that tenant's rows."""
    tenant_id = state.session.info.get("tenant_id")
    if tenant_id is None or not (state.is_select or state.is_update or state.is_delete):
        return
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)
    )


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, _ctx, _instances) -> None:
    """New rows take the session's tenant; a row of another tenant cannot be written through it."""
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        return
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, TenantScoped):
            if obj.tenant_id is None:
                obj.tenant_id = tenant_id
            elif obj.tenant_id != tenant_id:
                raise StoreError("a row of another tenant cannot be written in this tenant's session")
