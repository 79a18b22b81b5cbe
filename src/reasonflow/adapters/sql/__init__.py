"""SQL adapters (SQLAlchemy 2 async, Alembic): SQLite by default, Postgres for scale-out."""

from reasonflow.adapters.sql.emails import SqlEmailRepository
from reasonflow.adapters.sql.engine import Database, create_engine
from reasonflow.adapters.sql.migrate import upgrade
from reasonflow.adapters.sql.users import SqlUserRepository

__all__ = ["Database", "SqlEmailRepository", "SqlUserRepository", "create_engine", "upgrade"]
