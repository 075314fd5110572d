"""Index live customers by the month and day of their birth.

birthday-emails picks the customers whose `date_of_birth` has today's month
and day: about 1,400 of 500,000. The expression matches the job's
`EXTRACT(month ...)`, `EXTRACT(day ...)` exactly, which is what lets
PostgreSQL use it. PostgreSQL only: SQLite has no EXTRACT to index.
"""

from migrations.online_index import create_index, drop_index

atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction


def up(migrator, db):
    create_index(
        db,
        "customer_birthday",
        "customer",
        "(EXTRACT(month FROM date_of_birth)), (EXTRACT(day FROM date_of_birth))",
        "deleted_at IS NULL",
        postgres_only=True,
    )


def down(migrator, db):
    drop_index(db, "customer_birthday")
