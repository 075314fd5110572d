"""What the benchmark scripts share: the bench database, its seeded instant, output."""

import json
import os
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

from models import db, make_database

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/jobs_bench"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
OUT = Path(__file__).resolve().parent / "out"


def bench_url(url=None):
    """The bench database URL; refuse anything but a local `jobs_bench*` database.

    The seeder drops and recreates this database, so it must never name a
    database that holds anything else.
    """
    url = url or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if parsed.scheme not in ("postgres", "postgresql"):
        raise SystemExit(f"bench: {url!r} is not a PostgreSQL URL")
    if (parsed.hostname or "127.0.0.1") not in LOCAL_HOSTS:
        raise SystemExit("bench: the bench database must be on this machine")
    if not name.startswith("jobs_bench"):
        raise SystemExit("bench: the bench database's name must start with jobs_bench")
    return url


def database_name(url):
    return urlparse(url).path.lstrip("/")


def with_database(url, name):
    """The same server and user, another database."""
    parsed = urlparse(url)
    return parsed._replace(path="/" + name).geturl()


def recreate_database(url):
    """Drop the database the URL names, if it exists, and create it empty."""
    import psycopg2

    name = database_name(url)
    admin = psycopg2.connect(with_database(url, "postgres"), connect_timeout=5)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def connect(url):
    """Bind the models to the bench database and open a connection."""
    db.initialize(make_database(url, pool_size=2))
    db.connect(reuse_if_open=True)
    return db


def lower_priority():
    """Run this client and its server backend at a lower CPU priority.

    Other people share this machine; a backend the seeder started is its own
    process, so it may be reniced when the server is local and we may do so.
    """
    os.nice(10)
    (pid,) = db.execute_sql("SELECT pg_backend_pid()").fetchone()
    try:
        os.setpriority(os.PRIO_PROCESS, pid, 10)
    except OSError:
        pass


def session_settings():
    """Settings for this connection only: one core, room to sort and hash."""
    for statement in (
        "SET max_parallel_workers_per_gather = 0",
        "SET max_parallel_maintenance_workers = 0",
        "SET synchronous_commit = off",
        "SET work_mem = '256MB'",
        "SET maintenance_work_mem = '512MB'",
    ):
        db.execute_sql(statement)


def read_meta():
    """The seeded instant and scale, as stored by the seeder."""
    rows = dict(db.execute_sql("SELECT key, value FROM bench_meta").fetchall())
    return {
        "now": datetime.fromisoformat(rows["now"]),
        "scale": float(rows["scale"]),
        "seeded_at": rows.get("seeded_at"),
        "seconds": float(rows.get("seconds", 0)),
    }


def write_json(name, data):
    OUT.mkdir(exist_ok=True)
    path = OUT / name
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path
