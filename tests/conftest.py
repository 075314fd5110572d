"""App, client, clock and database fixtures; every test runs on SQLite and,
when TEST_DATABASE_URL is set, on PostgreSQL as well."""

import json
import os
import uuid
from datetime import UTC, datetime

import pytest
from peewee import PostgresqlDatabase

from app import create_app
from clock import FixedClock
from models import ALL_MODELS, create_tables, db
from senders import Senders
from tests.fakes import (
    RecordingEmail,
    RecordingHeartbeat,
    RecordingPush,
    RecordingSlack,
)
from tests.qstash_tokens import BASE, CURRENT_KEY, NEXT_KEY, make_token

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])

# 15:30 IST on Friday 4 December 2026.
DEFAULT_NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def pg_schema():
    """A fresh PostgreSQL schema for this test session, dropped at the end."""
    if not PG_URL:
        yield None
        return
    name = f"test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = _admin_connection()
    admin.execute_sql(f'CREATE SCHEMA "{name}"')
    yield name
    admin.execute_sql(f'DROP SCHEMA "{name}" CASCADE')
    admin.close()


def _admin_connection():
    from urllib.parse import urlparse

    parsed = urlparse(PG_URL)
    database = PostgresqlDatabase(
        parsed.path.lstrip("/"),
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        connect_timeout=5,
    )
    database.connect()
    return database


def pg_url_for(schema):
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


_created = set()


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def database_url(backend, tmp_path, request):
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    return pg_url_for(request.getfixturevalue("pg_schema"))


@pytest.fixture
def clock():
    return FixedClock(DEFAULT_NOW)


@pytest.fixture
def senders():
    return Senders(
        email=RecordingEmail(),
        push=RecordingPush(),
        slack=RecordingSlack(),
        heartbeat=RecordingHeartbeat(),
        invoicing=None,
    )


@pytest.fixture
def config_overrides():
    """Tests override settings by redefining or updating this fixture."""
    return {}


@pytest.fixture
def app(database_url, clock, senders, config_overrides, backend):
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "QSTASH_CURRENT_SIGNING_KEY": CURRENT_KEY,
        "QSTASH_NEXT_SIGNING_KEY": NEXT_KEY,
        "TRUSTED_PROXIES": 1,
        "CLOCK": clock,
        "SENDERS": senders,
        "LOG_LEVEL": "INFO",
    }
    config.update(config_overrides)
    app = create_app(config)
    with app.app_context():
        db.connect(reuse_if_open=True)
        if backend == "sqlite" or database_url not in _created:
            create_tables()
            _created.add(database_url)
        else:
            _truncate_all()
    yield app
    if not db.is_closed():
        db.close()
    if backend == "postgres":
        db.obj.close_all()


def _truncate_all():
    names = ", ".join(f'"{m._meta.table_name}"' for m in ALL_MODELS)
    db.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def call_job(client):
    """POST a correctly signed request to a job route, as QStash would."""

    def call(name, payload=None, body=None, headers=None, key=CURRENT_KEY, **claims):
        if body is None:
            body = b"" if payload is None else json.dumps(payload).encode()
        url = f"{BASE}/api/jobs/{name}"
        token = make_token(url, body, key=key, **claims)
        sent = {"Upstash-Signature": token, "Content-Type": "application/json"}
        sent.update(headers or {})
        return client.post(f"/api/jobs/{name}", data=body, headers=sent)

    return call
