"""The demo: a fresh SQLite database of demo data, the service under gunicorn
on 127.0.0.1, and every route called once with a real signed HTTP request.

Signing keys are made up for each run and written, with the database's
address, to instance/demo.env (never committed), so that `flask --env-file
instance/demo.env jobs sign ...` prints requests the running demo accepts.
Every provider is left unconfigured, so each send is a logged no-op and
nothing leaves the machine.
"""

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime

import requests

import settings
from demo.calls import fire, report
from jobs.catalog import JOBS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INSTANCE = os.path.join(ROOT, "instance")
HOST = "127.0.0.1"
DEFAULT_PORT = 5000


def demo_files(port):
    """The demo's database and env file; a demo on another port has its own."""
    stem = "demo" if port == DEFAULT_PORT else f"demo-{port}"
    return (
        os.path.join(INSTANCE, f"{stem}.sqlite3"),
        os.path.join(INSTANCE, f"{stem}.env"),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument(
        "--once",
        action="store_true",
        help="stop the server after the calls; exit 1 unless all answered 200",
    )
    args = parser.parse_args(argv)

    if not _port_free(args.port):
        print(f"demo: {HOST}:{args.port} is taken; try `make demo PORT=5050`")
        return 2
    database, env_file = demo_files(args.port)
    env = demo_environment(database)
    _write_env_file(env, env_file)
    payloads = _load_data(env, args.customers, database)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)

    server = _start_server(env, args.port)
    try:
        base = f"http://{HOST}:{args.port}"
        _wait_until_listening(server, args.port)
        calls = fire(_sender(base), base, env["QSTASH_CURRENT_SIGNING_KEY"], payloads)
        print("\n".join(["", *report(calls), ""]), flush=True)
        if args.once:
            return 0 if all(call.status == 200 for call in calls) else 1
        _print_next_steps(base, payloads, env_file)
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(server)


def _interrupt(signum, frame):
    """Stop like Ctrl-C, so that the server is stopped too."""
    raise KeyboardInterrupt


def demo_environment(database):
    """The server's environment: the demo database, fresh keys, no providers."""
    env = dict(os.environ)
    for name, (default, _) in settings.SETTINGS.items():
        if default is None:
            env[name] = ""  # set but empty: neither .env nor a default fills it
    for spec in JOBS:
        env[settings.heartbeat_setting(spec.name)] = ""
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        QSTASH_CURRENT_SIGNING_KEY="sig_demo_" + secrets.token_urlsafe(24),
        QSTASH_NEXT_SIGNING_KEY="sig_demo_" + secrets.token_urlsafe(24),
        WEB_CONCURRENCY="2",
        LOG_LEVEL="INFO",
    )
    return env


def _write_env_file(env, env_file):
    os.makedirs(INSTANCE, exist_ok=True)
    names = [name for name, (default, _) in settings.SETTINGS.items() if not default]
    lines = [f"{name}={env.get(name, '')}" for name in names]
    with open(env_file, "w") as handle:
        handle.write("# Written by `make demo`; the keys are new each run.\n")
        handle.write("\n".join(lines) + "\n")
    os.chmod(env_file, 0o600)


def _load_data(env, customers, database):
    """Make a new demo database and fill it; return the triggered jobs' bodies."""
    from app import create_app
    from demo.seed import seed
    from models import db
    from ops.migrate import migrate

    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(database + suffix):
            os.remove(database + suffix)
    app = create_app({"DATABASE_URL": env["DATABASE_URL"], "LOG_LEVEL": "WARNING"})
    with app.app_context(), db.connection_context():
        migrate()
        seeded = seed(datetime.now(UTC), customers=customers)
    total = sum(seeded.counts.values())
    print(f"demo: {total} rows loaded into {os.path.relpath(database, ROOT)}")
    return seeded.payloads


def _start_server(env, port):
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "app:create_app()",
        "--config",
        "gunicorn.conf.py",
        "--bind",
        f"{HOST}:{port}",
    ]
    print(f"demo: starting gunicorn on http://{HOST}:{port}", flush=True)
    return subprocess.Popen(command, cwd=ROOT, env=env)


def _port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _wait_until_listening(server, port, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"demo: gunicorn exited with {server.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"demo: gunicorn did not listen on {HOST}:{port} in {seconds}s")


def _sender(base):
    session = requests.Session()

    def send(path, body, headers):
        response = session.post(base + path, data=body, headers=headers, timeout=30)
        return response.status_code, response.text

    return send


def _print_next_steps(base, payloads, env_file):
    flask = f".venv/bin/flask --app app --env-file {os.path.relpath(env_file, ROOT)}"
    booking = payloads["noshow-check"]["bookingId"]
    print(
        f"The service is still running at {base} (Ctrl-C stops it).\n"
        "In another terminal, from this folder:\n"
        f"  {flask} jobs sign birthday-emails --url {base} | sh\n"
        f"  {flask} jobs sign noshow-check --payload "
        f'\'{{"bookingId": "{booking}"}}\' --url {base} | sh\n'
        f"  {flask} jobs history\n"
        f"  {flask} jobs list\n",
        flush=True,
    )


def _stop(server):
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
