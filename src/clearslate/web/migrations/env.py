"""Alembic environment: migrations run on the connection the workspace passes in
(`Database.migrate`), for SQLite and PostgreSQL alike."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
