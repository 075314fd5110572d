"""Helpers for the notification job tests: direct runs, query counts, races."""

import threading

from playhouse.test_utils import count_queries

from jobs.catalog import BY_NAME
from jobs.context import Budget, JobContext
from models import NotificationLog, db


def run_job(app, senders, name, now):
    """Call a job's function as its route would, outside a request."""
    ctx = JobContext(
        job=name,
        now=now,
        payload={},
        senders=senders,
        config=app.config,
        budget=Budget(name, 600),
    )
    with app.app_context():
        return BY_NAME[name].run(ctx)


def queries_for(app, senders, name, now):
    """How many queries one run makes, the notifier's included."""
    with count_queries() as counted:
        result = run_job(app, senders, name, now)
    return counted.count, result


def run_twice_at_once(app, senders, name, now):
    """Run a job from two threads, each on its own database connection."""
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with db.connection_context():
                barrier.wait(timeout=30)
                results.append(run_job(app, senders, name, now))
        except Exception as error:  # reported to the test below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [], repr(errors)
    return results


def log_rows():
    """(dedupe_key, channel, status) of every notification_log row, sorted."""
    query = NotificationLog.select(
        NotificationLog.dedupe_key, NotificationLog.channel, NotificationLog.status
    )
    return sorted(query.tuples())
