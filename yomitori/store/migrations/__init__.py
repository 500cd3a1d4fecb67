"""Alembic migrations of the batch store."""
