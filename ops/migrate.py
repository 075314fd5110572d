"""Bring a database up to date: the platform's tables, then the service's own.

The platform owns its tables; on a laptop or a fresh test database the ones
that are missing are created from the models, and in production, where they
all exist, nothing is sent for them. The service's own tables (job_run and
whatever follows) change only through the numbered scripts in migrations/,
applied in order by Peewee's migration runner and recorded in
schema_migration, so each runs once per database.
"""

import logging
import os

from playhouse.migrations import Runner

from models import PLATFORM_MODELS, db

log = logging.getLogger(__name__)

DIRECTORY = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")
HISTORY_TABLE = "schema_migration"


def migrate(directory=DIRECTORY):
    """Create the missing platform tables and apply pending migrations.

    Returns (platform tables created, migrations applied), both lists of names.
    """
    database = db.obj
    existing = set(database.get_tables())
    missing = [m for m in PLATFORM_MODELS if m._meta.table_name not in existing]
    if missing:
        with database.atomic():
            database.create_tables(missing, safe=True)

    applied = Runner(database, directory, table_name=HISTORY_TABLE).up()
    log.info(
        "db: %d platform table(s) created, %d migration(s) applied",
        len(missing),
        len(applied),
    )
    return [m._meta.table_name for m in missing], applied


def pending(directory=DIRECTORY):
    """The names of the migrations not yet applied, in order."""
    runner = Runner(db.obj, directory, table_name=HISTORY_TABLE)
    return [m.name for m in runner.status() if m.applied is None and m.path]
