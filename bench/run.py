"""Run every job in-process against the seeded database and measure it.

    python -m bench.run                        # every job on jobs_bench
    python -m bench.run --jobs birthday-emails --repeat 5

Each job runs in a process of its own, so that its peak memory is its own,
with the seeded instant as its clock and no-op senders (the Null senders the
service falls back to without keys), so that what is measured is the
database and the Python around it, not a provider. Every run happens inside
a transaction that is rolled back afterwards, so the database stays as
seeded and runs can be repeated. The hand-written SQL of bench/handsql.py
runs the same way, alternating with the job.

Per job it prints: wall time; time spent in the database, all of it and the
part that is the notifier claiming and marking notification_log rows (the
same protocol for every job); SQL statements; rows returned or written; peak
RSS of the worker process; the hand-written SQL's time and the ratio of the
job's own database time (the notifier's part left out) to it. Times are
medians over --repeat runs. Results go to bench/out/run-<database>.json and
.md.
"""

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

from bench import handsql
from bench.common import OUT, bench_url, database_name, read_meta, write_json

# A job run with another kind of payload, or with the log emptied first, gets
# a row of its own: {label: (job, SQL run before it, untimed)}.
VARIANTS = {
    "invoice-pdf (by booking)": ("invoice-pdf", None),
    "appointment-reminders (empty log)": (
        "appointment-reminders",
        """DELETE FROM notification_log
           WHERE type = 'appointment-reminder' AND booking_id IN (
               SELECT id FROM booking WHERE start_time > (SELECT bench_now()))""",
    ),
}

# A triggered job needs a record to act on: the query that picks it.
PAYLOADS = {
    "post-service-followup": (
        "bookingId",
        """SELECT b.id FROM booking b JOIN customer c ON c.id = b.customer_id
           WHERE b.status = 'completed' AND c.marketing_consent
             AND c.email IS NOT NULL AND c.deleted_at IS NULL
             AND b.start_time > bench_now() - interval '2 days'
           ORDER BY b.id LIMIT 1""",
    ),
    "stale-booking-alert": (
        "bookingId",
        """SELECT id FROM booking WHERE status = 'pending'
             AND created_at > bench_now() - interval '24 hours'
           ORDER BY id LIMIT 1""",
    ),
    "noshow-check": (
        "bookingId",
        """SELECT id FROM booking WHERE status = 'confirmed'
             AND end_time < bench_now() ORDER BY end_time DESC, id LIMIT 1""",
    ),
    "membership-expired-notice": (
        "membershipId",
        """SELECT m.id FROM spa_membership m JOIN customer c ON c.id = m.customer_id
           WHERE m.status IN ('active', 'expired') AND m.expires_at <= bench_now()
             AND c.email IS NOT NULL AND c.deleted_at IS NULL
           ORDER BY m.status, m.expires_at DESC, m.id LIMIT 1""",
    ),
    "invoice-pdf (by booking)": (
        "bookingId",
        """SELECT i.booking_id FROM invoice i JOIN customer c ON c.id = i.customer_id
           WHERE i.status = 'paid' AND i.kind = 'service'
             AND i.paid_at > bench_now() - interval '2 days'
             AND c.email IS NOT NULL AND c.deleted_at IS NULL
           ORDER BY i.id LIMIT 1""",
    ),
    "invoice-pdf": (
        "invoiceId",
        """SELECT i.id FROM invoice i JOIN customer c ON c.id = i.customer_id
           WHERE i.status = 'paid' AND i.kind = 'service'
             AND i.paid_at > bench_now() - interval '2 days'
             AND c.email IS NOT NULL AND c.deleted_at IS NULL
           ORDER BY i.id LIMIT 1""",
    ),
}


# The notifier's statements: claim and mark log rows, find rows another
# delivery holds, write in-app rows, load and prune push subscriptions. A
# job's own selection may read these tables too (usage nudges do), but never
# as the first table of a plain SELECT, nor only these two log columns.
NOTIFIER_SQL = re.compile(
    r'\s*(INSERT INTO "(notification_log|in_app_notification)"'
    r'|UPDATE "notification_log"'
    r'|SELECT "t1"."dedupe_key", "t1"."channel" FROM "notification_log"'
    r'|DELETE FROM "push_subscription"'
    r'|SELECT [^()]*? FROM "push_subscription")'
)


@dataclass
class Measure:
    wall: float = 0.0
    db: float = 0.0
    notifier: float = 0.0
    queries: int = 0
    rows: int = 0

    @property
    def own(self):
        """Database time of the job's own statements, the notifier's left out."""
        return self.db - self.notifier


def labels():
    """Every job, each variant after the job it varies."""
    from jobs.catalog import JOBS

    ordered = []
    for spec in JOBS:
        ordered.append(spec.name)
        ordered += [label for label, (job, _) in VARIANTS.items() if job == spec.name]
    return ordered


# The worker: one job, measured --repeat times, one JSON line on stdout.


def null_senders():
    from senders import Heartbeat, Senders
    from senders.base import NullEmailSender, NullPushSender, NullSlackSender
    from senders.invoicing import InvoicingClient

    return Senders(
        email=NullEmailSender(),
        push=NullPushSender(),
        slack=NullSlackSender(),
        heartbeat=Heartbeat({}),
        invoicing=InvoicingClient({}),
    )


@contextmanager
def instrumented(database, into):
    """Count and time every statement the job sends, and the rows it returns or
    writes.

    The count is what playhouse.test_utils.count_queries counts (every call of
    execute_sql), taken from Peewee's query hooks instead: count_queries turns
    the peewee logger to DEBUG, and formatting thousands of parameters into
    log lines would be timed as the job's own work.
    """

    def hook(event):
        into.queries += 1
        into.db += event.duration
        if NOTIFIER_SQL.match(event.sql):
            into.notifier += event.duration

    original = database._execute_cursor

    def counting(sql, params, **options):
        cursor = original(sql, params, **options)
        into.rows += max(cursor.rowcount, 0)
        return cursor

    database.query_hooks.append(hook)
    database._execute_cursor = counting
    try:
        yield
    finally:
        database.query_hooks.remove(hook)
        del database._execute_cursor


def run_job(app, spec, now, payload, setup):
    """One run of the job inside a transaction that is then rolled back."""
    from exceptions import BudgetExceeded
    from jobs.context import Budget, JobContext
    from models import db

    config = app.config
    measure = Measure()
    with db.atomic() as txn:
        if setup:
            db.execute_sql(setup)
        ctx = JobContext(
            job=spec.name,
            now=now,
            payload=dict(payload),
            senders=app.extensions["senders"],
            config=config,
            budget=Budget(
                spec.name,
                float(config["JOB_TIME_BUDGET"]),
                int(config["RETRY_AFTER_SECONDS"]),
            ),
        )
        with instrumented(db.obj, measure):
            started = time.perf_counter()
            try:
                result = spec.run(ctx)
                outcome = "transient" if ctx.transient_failures else "ok"
            except BudgetExceeded:
                result, outcome = None, "deferred (time budget)"
            except Exception as error:  # reported in the table, not hidden
                result, outcome = None, f"error: {type(error).__name__}: {error}"
            measure.wall = time.perf_counter() - started
        txn.rollback()
    return measure, result, outcome


def run_hand(job, now, payload, setup):
    """One run of the job's hand-written SQL, rolled back the same way."""
    from models import db

    with db.atomic() as txn:
        if setup:
            db.execute_sql(setup)
        cursor = db.cursor()
        started = time.perf_counter()
        rows = handsql.BY_JOB[job](cursor, handsql.params(now, payload))
        seconds = time.perf_counter() - started
        txn.rollback()
    return seconds, rows


def without_indexes(names, setup=None):
    """Setup SQL that first drops these indexes (undone by the rollback)."""
    drops = [f'DROP INDEX "{name}"' for name in names]
    return "; ".join(drops + ([setup] if setup else [])) or None


def payload_for(label):
    from models import db

    if label not in PAYLOADS:
        return {}
    field, sql = PAYLOADS[label]
    row = db.execute_sql(sql).fetchone()
    return {field: row[0]} if row else {}


def worker(label, url, repeat, dropped=()):
    from app import create_app
    from jobs.catalog import BY_NAME
    from models import db

    job, plain_setup = VARIANTS.get(label, (label, None))
    setup = without_indexes(dropped, plain_setup)
    app = create_app(
        {
            "DATABASE_URL": url,
            "DATABASE_POOL_SIZE": 2,
            "LOG_LEVEL": "WARNING",
            "SENDERS": null_senders(),
        }
    )
    with app.app_context():
        db.connect(reuse_if_open=True)
        now = read_meta()["now"]
        payload = payload_for(label)
        base_rss = _rss_mb()
        runs, hands, results, outcomes, indexed = [], [], [], set(), []
        for _ in range(repeat):
            measure, result, outcome = run_job(app, BY_NAME[job], now, payload, setup)
            runs.append(measure)
            results.append(result)
            outcomes.add(outcome)
            hands.append(run_hand(job, now, payload, setup))
            if dropped:  # the same job with the indexes, at the same moment
                indexed.append(run_job(app, BY_NAME[job], now, payload, plain_setup)[0])
        db.close()

    wall = statistics.median(m.wall for m in runs)
    db_time = statistics.median(m.db for m in runs)
    own = statistics.median(m.own for m in runs)
    hand = statistics.median(seconds for seconds, _ in hands)
    return {
        "label": label,
        "job": job,
        "payload": payload,
        "outcome": "; ".join(sorted(outcomes)),
        "result": results[-1],
        "wall_s": wall,
        "db_s": db_time,
        "own_db_s": own,
        "notifier_db_s": statistics.median(m.notifier for m in runs),
        "queries": sorted({m.queries for m in runs}),
        "rows": runs[-1].rows,
        "rss_base_mb": base_rss,
        "rss_peak_mb": _rss_mb(),
        "hand_s": hand,
        "hand_rows": hands[-1][1],
        "ratio": own / hand if hand else None,
        "with_indexes_db_s": (
            statistics.median(m.db for m in indexed) if indexed else None
        ),
        "runs": [vars(m) for m in runs],
        "hand_runs": [seconds for seconds, _ in hands],
    }


def _rss_mb():
    """Peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# The parent: one worker per job, then the table.


def machine():
    """What the figures were measured on."""
    model = "unknown CPU"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as info:
        kb = int(info.readline().split()[1])
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(kb / 1024 / 1024),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def server(url):
    from bench.common import connect

    database = connect(url)
    settings = {}
    for name in ("server_version", "shared_buffers", "work_mem", "random_page_cost"):
        settings[name] = database.execute_sql(f"SHOW {name}").fetchone()[0]
    meta = read_meta()
    size = database.execute_sql(
        "SELECT pg_size_pretty(pg_database_size(current_database()))"
    ).fetchone()[0]
    database.close()
    return settings, meta, size


def run_all(url, chosen, repeat, niceness, dropped=()):
    rows = []
    for label in chosen:
        command = [
            sys.executable,
            "-m",
            "bench.run",
            "--worker",
            label,
            "--url",
            url,
            "--repeat",
            str(repeat),
        ]
        for name in dropped:
            command += ["--without-index", name]
        if niceness:
            command = ["nice", "-n", str(niceness), *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        if done.returncode != 0 or not done.stdout.strip():
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:]
            row = {"label": label, "outcome": f"worker failed: {' '.join(tail)}"}
        else:
            row = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(line(row), flush=True)
    return rows


HEADER = (
    f"{'job':<36} {'wall s':>7} {'db s':>7} {'notif.':>7} {'queries':>8} "
    f"{'rows':>9} {'RSS MB':>7} {'hand s':>7} {'ratio':>6}  outcome"
)


def line(row):
    if "wall_s" not in row:
        return f"{row['label']:<36} {row['outcome']}"
    return (
        f"{row['label']:<36} {row['wall_s']:7.3f} {row['db_s']:7.3f} "
        f"{row['notifier_db_s']:7.3f} "
        f"{'/'.join(map(str, row['queries'])):>8} {row['rows']:>9,} "
        f"{row['rss_peak_mb']:7.0f} {row['hand_s']:7.3f} "
        f"{row['ratio'] if row['ratio'] is not None else 0:6.2f}  {row['outcome']}"
    )


def markdown(rows, facts):
    """The table of one run, for bench/out; bench/report.py writes the README's."""
    from bench.report import chain_table

    return chain_table({"facts": facts, "rows": rows}) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="bench database URL (BENCH_DATABASE_URL)")
    parser.add_argument("--jobs", help="comma-separated job labels (default: all)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nice", type=int, default=5, help="niceness of workers")
    parser.add_argument(
        "--without-index",
        action="append",
        default=[],
        metavar="NAME",
        help="drop this index for the runs (rolled back): what is it worth?",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    url = bench_url(args.url)

    if args.worker:
        row = worker(args.worker, url, args.repeat, args.without_index)
        print(json.dumps(row, default=str))
        return

    chosen = args.jobs.split(",") if args.jobs else labels()
    settings, meta, size = server(url)
    facts = {
        "database": database_name(url),
        "machine": machine(),
        "server": settings,
        "meta": meta,
        "size": size,
        "repeat": args.repeat,
        "without_indexes": args.without_index,
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    print(f"bench: {facts['database']} ({size}), scale {meta['scale']:g}")
    print(HEADER)
    rows = run_all(url, chosen, args.repeat, args.nice, args.without_index)
    # Only a run of every job is the run of record; a partial one goes aside.
    parts = [f"run-{facts['database']}", *args.without_index]
    name = "-".join(parts + (["partial"] if args.jobs else []))
    write_json(f"{name}.json", {"facts": facts, "rows": rows})
    path = OUT / f"{name}.md"
    path.write_text(markdown(rows, facts))
    print(f"bench: wrote {path}")


if __name__ == "__main__":
    main()
