"""`python -m reliability`: run the whole suite and print its figures.

Needs PostgreSQL (RELIABILITY_ADMIN_URL, default
postgresql://postgres@127.0.0.1:5432/postgres); creates and drops its own
database. Everything it starts listens on 127.0.0.1 and stops at the end.
"""

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from models import db, make_database
from reliability.harness import Database, Deliverer, Service
from reliability.providers import Providers
from reliability.scenarios import Run
from reliability.seed import Seeder

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m reliability")
    parser.add_argument("--requests", type=int, default=10_000, help="fuzz requests")
    parser.add_argument("--workers", type=int, default=8, help="gunicorn workers")
    parser.add_argument("--copies", type=int, default=8, help="deliveries at once")
    parser.add_argument("--scale", type=int, default=1, help="multiply due rows")
    parser.add_argument("--database", default="jobs_reliability")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--only",
        choices=["concurrency", "faults", "fuzz"],
        action="append",
        help="run only these parts (repeatable); the secrets scan always runs",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    admin = os.environ.get("RELIABILITY_ADMIN_URL", ADMIN_URL)
    parts = set(args.only or ["concurrency", "faults", "fuzz"])
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="reliability-"))

    database = Database(admin, args.database)
    database.create()
    db.initialize(
        make_database(database.url + "?application_name=reliability-harness", 4)
    )
    providers = Providers().start()
    service = Service(
        database.url, providers.url, workers=args.workers, workdir=workdir
    )
    try:
        service.start()
        deliverer = Deliverer(service)
        run = Run(
            service, database, providers, deliverer, Seeder(providers), args.scale
        )
        with db.connection_context():
            if "concurrency" in parts:
                run.concurrent_deliveries(args.copies)
            if "faults" in parts:
                run.faults()
            if "fuzz" in parts:
                run.hostile_input(args.requests)
            run.secrets()
    finally:
        service.stop()
        providers.stop()
        if not args.keep:
            database.drop()

    figures = run.figures
    report = {
        "requests": deliverer.requests + figures.fuzz_requests,
        "deliveries": figures.deliveries,
        "notifications due": figures.due,
        "faults injected": sum(figures.faults.values()),
        "duplicates found": figures.duplicates,
        "duplicates in the crash window": figures.crash_duplicates,
        "most copies of one notification": figures.most_copies,
        "emails kept back by Idempotency-Key": providers.absorbed,
        "rows lost": figures.lost,
        "rows stranded pending after QStash's retries": figures.stranded,
        "due but unsent when QStash got its 2xx": figures.unsent_when_qstash_stopped,
        "5xx on bad input": figures.bad_input_5xx,
        "side effects without a valid signature": figures.unsigned_side_effects,
        "secrets in logs": figures.secrets_in_logs,
        "scenarios failed": sum(not o.ok for o in figures.outcomes),
        "seconds": round(time.monotonic() - started),
    }
    print("\nFigures")
    for name, value in report.items():
        print(f"  {name:<46} {value}")
    print(
        "  faults by kind: " + ", ".join(f"{k} {v}" for k, v in figures.faults.items())
    )
    print(f"  service log: {service.log_path}")
    if args.json:
        report["faults by kind"] = dict(figures.faults)
        report["scenarios"] = [
            {"name": o.name, "ok": o.ok, "notes": o.notes} for o in figures.outcomes
        ]
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if report["scenarios failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
