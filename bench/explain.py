"""Show where a job's database time goes: its slowest statements and their plans.

    python -m bench.explain weekly-report
    python -m bench.explain gems-auto-expire --top 2

The job runs once against the bench database (rolled back, no-op senders,
the seeded instant), every statement it sends is timed, and the slowest are
run again under EXPLAIN (ANALYZE, BUFFERS), each in a transaction of its own
that is rolled back, so the plans are those of the seeded data.
"""

import argparse
from collections import defaultdict

from bench.common import bench_url, read_meta
from bench.run import VARIANTS, labels, null_senders, payload_for


def statements_of(app, job, now, payload, setup):
    """Run the job once, rolled back; return [(seconds, sql, params)]."""
    from jobs.catalog import BY_NAME
    from jobs.context import Budget, JobContext
    from models import db

    seen = []

    def hook(event):
        seen.append((event.duration, event.sql, event.params))

    with db.atomic() as txn:
        if setup:
            db.execute_sql(setup)
        ctx = JobContext(
            job=job,
            now=now,
            payload=dict(payload),
            senders=app.extensions["senders"],
            config=app.config,
            budget=Budget(job, float(app.config["JOB_TIME_BUDGET"])),
        )
        db.obj.query_hooks.append(hook)
        try:
            BY_NAME[job].run(ctx)
        finally:
            db.obj.query_hooks.remove(hook)
            txn.rollback()
    return seen


def plan(sql, params):
    from models import db

    with db.atomic() as txn:
        cursor = db.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        lines = [line for (line,) in cursor.fetchall()]
        txn.rollback()
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("job", choices=labels())
    parser.add_argument("--url", help="bench database URL (BENCH_DATABASE_URL)")
    parser.add_argument("--top", type=int, default=3, help="plans to show")
    args = parser.parse_args(argv)

    from app import create_app
    from models import db

    label = args.job
    job, setup = VARIANTS.get(label, (label, None))
    app = create_app(
        {
            "DATABASE_URL": bench_url(args.url),
            "LOG_LEVEL": "WARNING",
            "SENDERS": null_senders(),
        }
    )
    with app.app_context():
        db.connect(reuse_if_open=True)
        now = read_meta()["now"]
        seen = statements_of(app, job, now, payload_for(label), setup)

        by_text = defaultdict(lambda: [0, 0.0])
        for seconds, sql, _ in seen:
            by_text[sql][0] += 1
            by_text[sql][1] += seconds
        total = sum(seconds for seconds, _, _ in seen)
        print(f"{label}: {len(seen)} statements, {total:.3f} s in the database")
        slowest = sorted(by_text.items(), key=lambda item: -item[1][1])
        for sql, (count, seconds) in slowest[:10]:
            print(f"  {seconds:8.3f} s  x{count:<6} {' '.join(sql.split())[:110]}")

        for seconds, sql, params in sorted(seen, key=lambda s: -s[0])[: args.top]:
            print(f"\n-- {seconds:.3f} s: {' '.join(sql.split())[:300]}")
            for line in plan(sql, params):
                print("   " + line)
        db.close()


if __name__ == "__main__":
    main()
