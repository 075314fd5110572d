"""The jobs blueprint: one POST view per job, all sharing one contract.

Every route: read the raw body once (413 past the limit), verify the
Upstash-Signature (401 and no work on any failure), run the job at one
instant, then ping its heartbeat and answer JSON (200), or ping the
heartbeat's failure URL and answer 500 `Job failed` so QStash retries, or
answer 503 with Retry-After when the time budget ran out.
"""

import json
import logging
import traceback

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import BadRequest

from exceptions import Deferred, TransientDeliveryError
from jobs.catalog import BY_NAME, JOBS
from jobs.context import Budget, JobContext
from logs import job_fields, retry_number
from models import JobRun
from signature import verify_request

log = logging.getLogger(__name__)

bp = Blueprint("jobs", __name__, url_prefix="/api/jobs")


def plain(text, status, **headers):
    return text, status, {"Content-Type": "text/plain; charset=utf-8", **headers}


def read_body(limit):
    """Return the raw body, or None when it is larger than `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    try:
        body = request.stream.read(limit + 1)
    except Exception as error:  # broken chunked framing, a client gone mid-body
        log.warning("request: body could not be read, %s", type(error).__name__)
        raise BadRequest() from error
    return None if len(body) > limit else body


def called_url():
    """The URL QStash called, as it saw it: what a token's `sub` must equal."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return request.url
    query = request.query_string.decode("latin-1")
    return base.rstrip("/") + request.path + (f"?{query}" if query else "")


def parse_payload(body):
    """The body's JSON object, or {} for anything else: never an error."""
    try:
        payload = json.loads(body) if body else {}
    except (ValueError, RecursionError):
        return {}
    return payload if isinstance(payload, dict) else {}


def run_route(spec):
    config = current_app.config
    body = read_body(int(config["MAX_BODY_BYTES"]))
    if body is None:
        return plain("Payload Too Large", 413)
    if not verify_request(
        config, request.headers.get("Upstash-Signature"), body, called_url()
    ):
        return plain("Unauthorized", 401)

    senders = current_app.extensions["senders"]
    ctx = JobContext(
        job=spec.name,
        now=current_app.extensions["clock"].now(),
        payload=parse_payload(body),
        senders=senders,
        config=config,
        budget=Budget(
            spec.name,
            float(config["JOB_TIME_BUDGET"]),
            int(config["RETRY_AFTER_SECONDS"]),
        ),
    )
    with job_fields(spec.name, request.headers):
        return _run_and_answer(spec, ctx, senders)


def _run_and_answer(spec, ctx, senders):
    run = None
    try:
        run = JobRun.create(
            job=spec.name,
            message_id=request.headers.get("Upstash-Message-Id"),
            retried=retry_number(request.headers.get("Upstash-Retried")),
            schedule_id=request.headers.get("Upstash-Schedule-Id"),
            started_at=ctx.now,
        )
        result = spec.run(ctx)
        if ctx.transient_failures:
            raise TransientDeliveryError(spec.name, ctx.transient_failures)
    except Deferred as error:
        log.warning("%s: %s, asking QStash to come back", spec.name, error.reason)
        _finish(run, "deferred", error=str(error))
        return plain(error.answer, 503, **{"Retry-After": str(error.retry_after)})
    except Exception as error:
        log.exception("%s: job failed", spec.name)
        if spec.heartbeat:
            senders.heartbeat.ping(spec.name, failed=True)
        _finish(run, "failed", error=_summary(error))
        return plain("Job failed", 500)

    if spec.heartbeat:
        senders.heartbeat.ping(spec.name)
    _finish(run, "success", processed=result.get("processed"))
    return jsonify(result), 200


def _finish(run, outcome, processed=None, error=None):
    """Close the run's history row; a database that is gone must not hide the answer."""
    if run is None:
        return
    try:
        JobRun.update(
            outcome=outcome,
            processed=processed,
            error=error,
            finished_at=current_app.extensions["clock"].now(),
        ).where(JobRun.id == run.id).execute()
    except Exception:
        log.exception("%s: could not record the run's outcome", run.job)


def _summary(error):
    last = traceback.extract_tb(error.__traceback__)[-1:] or [None]
    where = (
        f" at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno}" if last[0] else ""
    )
    return f"{type(error).__name__}: {error}"[:400] + where


def _view_for(spec):
    def view():
        return run_route(BY_NAME[spec.name])

    view.__name__ = spec.run.__name__
    view.__doc__ = spec.summary
    return view


for _spec in JOBS:
    bp.add_url_rule(
        f"/{_spec.name}",
        view_func=_view_for(_spec),
        methods=["POST"],
        provide_automatic_options=False,
    )
