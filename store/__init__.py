"""Time-series store (SQLAlchemy Core; SQLite by default, PostgreSQL in production)."""
from store.store import Store

__all__ = ["Store"]
