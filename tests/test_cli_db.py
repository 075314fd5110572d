"""`flask db create | migrate | seed` on a database that starts empty."""

import shutil
import uuid

import pytest
from playhouse.migrations import Migration

from app import create_app
from clock import FixedClock
from models import ALL_MODELS, PLATFORM_MODELS, Branch, JobRun, db
from ops.migrate import DIRECTORY, migrate
from tests.conftest import DEFAULT_NOW, _admin_connection, pg_url_for

PLATFORM_TABLES = [m._meta.table_name for m in PLATFORM_MODELS]
MIGRATIONS = [m.name for m in Migration.load_directory(DIRECTORY)]


@pytest.fixture
def empty_app(backend, tmp_path, senders):
    """An app on a database with no tables at all (a new schema on PostgreSQL)."""
    admin = schema = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    else:
        schema = f"empty_{uuid.uuid4().hex[:10]}"
        admin = _admin_connection()
        admin.execute_sql(f'CREATE SCHEMA "{schema}"')
        url = pg_url_for(schema)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "CLOCK": FixedClock(DEFAULT_NOW),
            "SENDERS": senders,
        }
    )
    yield app
    if not db.is_closed():
        db.close()
    if admin:
        db.obj.close_all()
        admin.execute_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture
def cli(empty_app):
    runner = empty_app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=list(args))

    return invoke


def tables():
    with db.connection_context():
        return set(db.get_tables())


def test_migrate_creates_the_platform_tables_and_applies_the_migrations(cli):
    result = cli("db", "migrate")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        *[f"db: created platform table {name}" for name in PLATFORM_TABLES],
        *[f"db: applied migration {name}" for name in MIGRATIONS],
        "db: schema is up to date",
    ]
    assert MIGRATIONS[0] == "0001_job_run"
    assert tables() == {m._meta.table_name for m in ALL_MODELS} | {"schema_migration"}


def test_migrate_a_second_time_changes_nothing(cli):
    cli("db", "migrate")

    result = cli("db", "migrate")

    assert result.exit_code == 0, result.output
    assert result.output == "db: schema is up to date\n"


def test_create_does_what_migrate_does(cli):
    result = cli("db", "create")

    assert result.exit_code == 0, result.output
    assert "db: applied migration 0001_job_run" in result.output
    assert cli("db", "migrate").output == "db: schema is up to date\n"


def test_the_job_run_table_it_makes_records_runs(cli, empty_app):
    cli("db", "migrate")

    with empty_app.app_context(), db.connection_context():
        JobRun.create(job="birthday-emails", started_at=DEFAULT_NOW)
        run = JobRun.get()

    assert (run.job, run.started_at, run.outcome, run.retried) == (
        "birthday-emails",
        DEFAULT_NOW,
        "running",
        0,
    )


def test_migrate_keeps_a_job_run_table_made_before_migrations_existed(cli, empty_app):
    with empty_app.app_context(), db.connection_context():
        db.create_tables(ALL_MODELS)
        JobRun.create(job="session-cleanup", started_at=DEFAULT_NOW)

    result = cli("db", "migrate")

    assert result.output.splitlines() == [
        *[f"db: applied migration {name}" for name in MIGRATIONS],
        "db: schema is up to date",
    ]
    with db.connection_context():
        assert [r.job for r in JobRun.select()] == ["session-cleanup"]


def test_a_new_migration_is_applied_once(empty_app, tmp_path):
    directory = tmp_path / "migrations"
    shutil.copytree(DIRECTORY, directory, ignore=shutil.ignore_patterns("__*"))
    (directory / "9999_job_run_duration.py").write_text(
        '"""Add job_run.duration_ms."""\n'
        "from peewee import IntegerField\n\n\n"
        "def up(migrator, db):\n"
        "    column = IntegerField(null=True)\n"
        "    migrator.migrate(migrator.add_column('job_run', 'duration_ms', column))\n"
    )

    with empty_app.app_context(), db.connection_context():
        migrate(str(directory))
        first = [c.name for c in db.get_columns("job_run")]
        again = migrate(str(directory))

    assert "duration_ms" in first
    assert again == ([], [])


def test_seed_loads_the_demo_data_and_says_how_much(cli):
    result = cli("db", "seed", "--customers", "120")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "db: demo data loaded as of Fri 4 Dec, 3:30 PM IST" in lines
    assert "  branch                   3" in lines
    assert "  customer               120" in lines
    with db.connection_context():
        assert Branch.select().count() == 3


def test_seed_refuses_a_database_that_has_data(cli):
    cli("db", "seed", "--customers", "60")

    result = cli("db", "seed")

    assert result.exit_code == 1
    assert "already has branches" in result.output
