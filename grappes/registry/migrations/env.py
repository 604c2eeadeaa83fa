"""Alembic environment of the registry, driven from Python (``grappes.registry.db.migrate``).

No ``alembic.ini``: the caller passes an open connection in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context

import grappes.registry.suivi_tables  # noqa: F401  (follow-up tables, issue 14: same database)
from grappes.registry.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
