"""The batch store: SQL tables (SQLAlchemy + Alembic), tenant-scoped repository, content-addressed blob store."""
