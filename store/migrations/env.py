"""Alembic environment: run against the connection the Store hands in (cfg.attributes)."""
from alembic import context

from store.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `python app.py store migrate` (Store.open), "
                       "which passes the connection in")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
