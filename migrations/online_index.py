"""Build and drop the service's indexes on live tables without blocking writers.

Not a migration itself (the runner takes only files whose names start with a
number); the numbered index migrations use it. On PostgreSQL an index is
built CONCURRENTLY, so bookings, invoices and notifications keep being
written while it builds. That cannot run inside a transaction, so a
migration using it sets `atomic = False`. A concurrent build that fails half
way leaves an INVALID index behind, which `IF NOT EXISTS` would then accept:
such a leftover is dropped and built again. SQLite builds the index plainly.
"""

from peewee import PostgresqlDatabase

INVALID = """
SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace
  AND NOT i.indisvalid
"""


def create_index(db, name, table, columns, where=None, postgres_only=False):
    """CREATE INDEX `name` ON `table` (`columns`) [WHERE `where`], if missing."""
    condition = f" WHERE {where}" if where else ""
    if isinstance(db, PostgresqlDatabase):
        if db.execute_sql(INVALID, (name,)).fetchone():
            db.execute_sql(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
        db.execute_sql(
            f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" '
            f'ON "{table}" ({columns}){condition}'
        )
    elif not postgres_only:
        db.execute_sql(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({columns}){condition}'
        )


def drop_index(db, name):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
    else:
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
