"""Alembic environment of the SQL adapter; run it through ``reasonflow.adapters.sql.migrate``."""
