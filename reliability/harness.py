"""The service under gunicorn on 127.0.0.1, its database, and a QStash stand-in.

`Service` starts `app:create_app()` under gunicorn with several sync workers
on a free loopback port, configured through the environment to use a
PostgreSQL database of its own and the fake providers. `Deliverer` calls its
routes the way QStash does: a fresh signed token per attempt, the Upstash
headers, and a re-delivery on anything but a 2xx, a bounded number of times.
"""

import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import psycopg2
import requests

from jobs.catalog import JOBS
from models import ALL_MODELS, create_tables, db, make_database
from reliability import tokens
from settings import heartbeat_setting

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def vapid_key():
    from cryptography.hazmat.primitives.asymmetric import ec

    from reliability.providers import b64url

    number = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    return b64url(number.to_bytes(32, "big"))


class Database:
    """A PostgreSQL database created for the run and dropped after it."""

    def __init__(self, admin_url, name):
        self.admin_url = admin_url
        self.name = name
        parsed = urlparse(admin_url)
        self.url = parsed._replace(path="/" + name).geturl()

    def _admin(self):
        parsed = urlparse(self.admin_url)
        connection = psycopg2.connect(
            dbname=parsed.path.lstrip("/") or "postgres",
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            password=parsed.password,
            connect_timeout=5,
        )
        connection.autocommit = True
        return connection

    def create(self):
        with closing(self._admin()) as admin, admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{self.name}"')
        db.initialize(make_database(self.url, 4))
        with db.connection_context():
            create_tables()

    def truncate(self):
        names = ", ".join(f'"{m._meta.table_name}"' for m in ALL_MODELS)
        with db.connection_context():
            db.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")

    def terminate_backends(self):
        """pg_terminate_backend every connection of the service: how many."""
        with closing(self._admin()) as admin, admin.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid() "
                "AND application_name <> 'reliability-harness'",
                (self.name,),
            )
            return cursor.fetchone()[0]

    def drop(self):
        if not db.is_closed():
            db.close()
        if hasattr(db.obj, "close_all"):
            db.obj.close_all()
        with closing(self._admin()) as admin, admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@dataclass
class Service:
    """gunicorn serving the app on 127.0.0.1 with `workers` sync workers."""

    database_url: str
    providers_url: str
    workers: int = 8
    workdir: Path = field(default_factory=lambda: Path("/tmp"))
    settings: dict = field(default_factory=dict)

    def __post_init__(self):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.current_key = "sig_" + secrets.token_hex(16)
        self.next_key = "sig_" + secrets.token_hex(16)
        self.resend_key = "re_" + secrets.token_hex(16)
        self.vapid_key = vapid_key()
        self.heartbeat_token = secrets.token_hex(8)
        self.log_path = self.workdir / "gunicorn.log"
        self.process = None

    def environment(self):
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("QSTASH_", "RESEND_", "BREVO_", "SLACK_"))
            and not key.startswith(("VAPID_", "INVOICING_", "BETTER_STACK_"))
        }
        env.update(
            PYTHONPATH=str(ROOT),
            DATABASE_URL=self.database_url + "?application_name=jobs-service",
            DATABASE_POOL_SIZE="4",
            QSTASH_CURRENT_SIGNING_KEY=self.current_key,
            QSTASH_NEXT_SIGNING_KEY=self.next_key,
            PUBLIC_BASE_URL=self.base_url,
            TRUSTED_PROXIES="0",
            RESEND_API_KEY=self.resend_key,
            RESEND_API_URL=f"{self.providers_url}/resend",
            VAPID_PRIVATE_KEY=self.vapid_key,
            VAPID_SUBJECT="mailto:ops@theroyalglow.in",
            SLACK_WEBHOOK_URL=f"{self.providers_url}/slack/webhook/T0/B0/hook",
            HTTP_TIMEOUT="1",
            NOTIFY_LEASE_SECONDS="12",
            NOTIFY_CHUNK_SIZE="10",
            LOG_LEVEL="INFO",
        )
        for spec in JOBS:
            env[heartbeat_setting(spec.name)] = (
                f"{self.providers_url}/heartbeat/{spec.name}/{self.heartbeat_token}"
            )
        env.update({key: str(value) for key, value in self.settings.items()})
        return env

    def start(self):
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "app:create_app()",
            "--config",
            str(Path(__file__).with_name("gunicorn_settings.py")),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
        ]
        self.log_file = open(self.log_path, "ab")  # noqa: SIM115 closed in stop()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.environment(),
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        self.wait_ready()
        return self

    def wait_ready(self, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            try:
                requests.get(self.base_url + "/", timeout=1)
                if len(self.workers_pids()) >= self.workers:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start in {seconds} s")

    def workers_pids(self):
        """The pids of the master's worker processes, from /proc."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.process.pid:
                found.append(int(entry.name))
        return found

    def kill_workers(self):
        """SIGKILL every worker, as the OOM killer or a dyno crash would."""
        pids = self.workers_pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(pids)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if getattr(self, "log_file", None):
            self.log_file.close()


@dataclass
class Attempt:
    status: int | None  # None: the connection failed
    body: object = None


@dataclass
class Delivery:
    route: str
    message_id: str
    attempts: list = field(default_factory=list)

    @property
    def ok(self):
        return bool(self.attempts) and (self.attempts[-1].status or 0) // 100 == 2

    @property
    def answer(self):
        return self.attempts[-1].body if self.ok else None


class Deliverer:
    """Call routes as QStash does, counting every request it makes."""

    def __init__(self, service, max_attempts=12, backoff=0.25, cap=2.0):
        self.service = service
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.cap = cap
        self.lock = threading.Lock()
        self.statuses = Counter()
        self.local = threading.local()

    @property
    def requests(self):
        return sum(self.statuses.values())

    def _session(self):
        if getattr(self.local, "session", None) is None:
            self.local.session = requests.Session()
        return self.local.session

    def deliver(self, route, body=b"", message_id=None, on_attempt=None):
        """Deliver until a 2xx or the attempts run out: a Delivery."""
        delivery = Delivery(route, message_id or "msg_" + uuid.uuid4().hex)
        for retried in range(self.max_attempts):
            attempt = self.send(route, body, delivery.message_id, retried)
            delivery.attempts.append(attempt)
            if on_attempt:
                on_attempt(attempt)
            if (attempt.status or 0) // 100 == 2:
                break
            time.sleep(min(self.cap, self.backoff * 2**retried))
        return delivery

    def send(self, route, body, message_id, retried=0, headers=None, token=None):
        url = f"{self.service.base_url}/api/jobs/{route}"
        sent = {
            "Upstash-Signature": token
            or tokens.sign(url, body, self.service.current_key),
            "Upstash-Message-Id": message_id,
            "Upstash-Retried": str(retried),
            "Content-Type": "application/json",
        }
        sent.update(headers or {})
        try:
            response = self._session().post(url, data=body, headers=sent, timeout=60)
        except requests.RequestException:
            self.local.session = None
            self._count(None)
            return Attempt(None)
        self._count(response.status_code)
        try:
            answer = response.json()
        except ValueError:
            answer = response.text[:200]
        return Attempt(response.status_code, answer)

    def _count(self, status):
        with self.lock:
            self.statuses[status] += 1

    def at_once(self, route, body=b"", copies=8):
        """Deliver the same message `copies` times at the same moment."""
        message_id = "msg_" + uuid.uuid4().hex
        barrier = threading.Barrier(copies)
        results = [None] * copies

        def one(index):
            barrier.wait(timeout=30)
            results[index] = self.deliver(route, body, message_id)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(copies)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        return results
