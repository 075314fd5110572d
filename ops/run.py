"""Run one job in-process at a chosen instant, without QStash."""

import logging
from dataclasses import dataclass

from exceptions import Deferred, TransientDeliveryError
from jobs.catalog import BY_NAME
from jobs.context import Budget, JobContext
from logs import job_fields

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """What the route would have answered: its status and body."""

    status: int
    body: object  # the job's JSON dict on 200, the plain text otherwise


def run_job(app, name, now, payload=None):
    """Run job `name` as of `now` with `payload`, as its route would.

    The job sees the same context a delivery gets, with the app's senders, so
    a configured provider really sends. There is no signature, no heartbeat
    and no job_run row: the history holds QStash's deliveries only.
    """
    spec = BY_NAME[name]
    config = app.config
    ctx = JobContext(
        job=name,
        now=now,
        payload=payload or {},
        senders=app.extensions["senders"],
        config=config,
        budget=Budget(
            name, float(config["JOB_TIME_BUDGET"]), int(config["RETRY_AFTER_SECONDS"])
        ),
    )

    with job_fields(name, {"Upstash-Message-Id": "local"}):
        try:
            result = spec.run(ctx)
            if ctx.transient_failures:
                raise TransientDeliveryError(name, ctx.transient_failures)
        except Deferred as error:
            log.warning("%s: %s, run it again for the rest", name, error.reason)
            return Answer(503, str(error))
        except Exception:
            log.exception("%s: job failed", name)
            return Answer(500, "Job failed")
    return Answer(200, result)
