"""`flask` commands: the database and the jobs."""

import click
from flask.cli import AppGroup

from models import create_tables, db

db_cli = AppGroup("db", help="Create the schema.")


@db_cli.command("create")
def db_create():
    """Create every table that is missing (SQLite or PostgreSQL)."""
    with db.connection_context():
        create_tables()
    click.echo("db: every table is in place")


@db_cli.command("migrate")
def db_migrate():
    """Bring the schema up to date (run by the Procfile's release phase)."""
    with db.connection_context():
        create_tables()
    click.echo("db: schema is up to date")


def register(app):
    app.cli.add_command(db_cli)
