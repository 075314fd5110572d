"""Read the job_run history: the latest runs, and which jobs have gone stale."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import fn

from jobs.catalog import JOBS
from models import JobRun


@dataclass(frozen=True)
class Health:
    """How a scheduled job is doing, judged against its period."""

    job: str
    period: timedelta
    last_success: datetime | None
    first_run: datetime | None
    stale: bool

    @property
    def note(self):
        if self.last_success is None and self.first_run is None:
            return "never run"
        if self.last_success is None:
            return "no success since its first run"
        return "last success older than twice its period" if self.stale else "ok"


def latest_runs(job=None, limit=20):
    """The newest runs first, of one job or of all."""
    query = JobRun.select().order_by(JobRun.started_at.desc(), JobRun.id.desc())
    if job:
        query = query.where(JobRun.job == job)
    return list(query.limit(limit))


def last_run_by_job():
    """The latest run of each job that has one: {job: JobRun}."""
    return {run.job: run for run in _rows_at(fn.MAX, None)}


def health(now, job=None):
    """A Health for each scheduled job (or only `job`), in catalog order.

    A job is stale when its last success, or, if it never succeeded, its first
    run, is older than twice its period. A job with no runs is not judged.
    """
    successes = {run.job: run.started_at for run in _rows_at(fn.MAX, "success")}
    firsts = {run.job: run.started_at for run in _rows_at(fn.MIN, None)}

    found = []
    for spec in JOBS:
        if not spec.period or (job and spec.name != job):
            continue
        last = successes.get(spec.name)
        first = firsts.get(spec.name)
        since = last or first
        found.append(
            Health(
                job=spec.name,
                period=spec.period,
                last_success=last,
                first_run=first,
                stale=since is not None and now - since > 2 * spec.period,
            )
        )
    return found


def _rows_at(pick, outcome):
    """One row per job: the run `pick` (MAX or MIN) of ids finds."""
    ids = JobRun.select(pick(JobRun.id)).group_by(JobRun.job)
    if outcome:
        ids = ids.where(JobRun.outcome == outcome)
    return JobRun.select().where(JobRun.id.in_(ids))
