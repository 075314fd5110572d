"""Helpers for the write-job tests: direct job contexts, budgets, two runs at once."""

import threading

from jobs.context import Budget, JobContext
from models import db


class Ticks:
    """A monotonic timer that reads the given values, then stays on the last."""

    def __init__(self, *values):
        self.values = list(values)

    def __call__(self):
        return self.values.pop(0) if len(self.values) > 1 else self.values[0]


def job_context(app, job, now, payload=None, budget=None):
    """The JobContext the route would build, for calling a job function directly."""
    return JobContext(
        job,
        now,
        payload or {},
        app.extensions["senders"],
        app.config,
        budget or Budget(job, 20),
    )


def budget_spent_after(job, checks):
    """A budget that reports itself spent from the `checks + 1`-th check on."""
    return Budget(job, 10, timer=Ticks(0, *([0] * checks), 100))


def in_threads(*targets):
    """Run each target on its own thread and database connection, all released
    together; return their results in order and re-raise the first error."""
    barrier = threading.Barrier(len(targets))
    results = [None] * len(targets)
    errors = []

    def run(index, target):
        try:
            with db.connection_context():
                barrier.wait(timeout=30)
                results[index] = target()
        except BaseException as error:  # handed to the test's thread below
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(i, target))
        for i, target in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def twice_at_once(app, job_function, job, now, payload=None):
    """Run one job from two threads with their own connections and contexts."""
    return in_threads(
        lambda: job_function(job_context(app, job, now, payload)),
        lambda: job_function(job_context(app, job, now, payload)),
    )
