"""Enqueue a job through QStash for a business event, once per event.

QStash delivers the message after the job's delay (jobs/catalog.py) or at an
explicit `not_before`, and retries it as the catalog says. The deduplication
id names the event (the job, its payload, and any explicit time), so the same
event enqueued twice, say by a retried request on the platform, is one message:
QStash answers the second publish with the first message's id. QStash keeps
deduplication ids for a limited window; the notification log's dedupe keys
keep the sends themselves exactly-once beyond it.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from clock import as_utc
from jobs.catalog import BY_NAME
from ops.qstash import jobs_url, qstash_client

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Enqueued:
    job: str
    message_id: str
    deduplicated: bool  # True: QStash already had this event
    deduplication_id: str
    deliver_at: datetime  # aware UTC: when QStash will call the route


def enqueue(
    name,
    payload=None,
    *,
    not_before=None,
    deduplication_id=None,
    config=None,
    now=None,
    client=None,
):
    """Publish job `name` with `payload` after its delay, or at `not_before`.

    `config` defaults to the current Flask app's and `now` to its clock. Raises
    KeyError for an unknown job, ConfigurationError without QSTASH_TOKEN or
    PUBLIC_BASE_URL, and qstash.errors.QStashError when QStash refuses.
    """
    if config is None or now is None:
        from flask import current_app

        config = current_app.config if config is None else config
        now = current_app.extensions["clock"].now() if now is None else now
    spec = BY_NAME.get(name)
    if spec is None:
        raise KeyError(f"no job named {name!r}")
    payload = {} if payload is None else payload
    if not_before is not None:
        not_before = as_utc(not_before)
    deduplication_id = deduplication_id or event_id(name, payload, not_before)

    delay = spec.delay or timedelta(0)
    seconds = int(delay.total_seconds())
    client = client or qstash_client(config)
    response = client.message.publish_json(
        url=jobs_url(config, name),
        body=payload,
        delay=f"{seconds}s" if seconds and not_before is None else None,
        not_before=int(not_before.timestamp()) if not_before else None,
        deduplication_id=deduplication_id,
        retries=spec.retries,
    )

    result = Enqueued(
        job=name,
        message_id=response.message_id,
        deduplicated=response.deduplicated,
        deduplication_id=deduplication_id,
        deliver_at=not_before or as_utc(now) + delay,
    )
    log.info(
        "%s: enqueued as %s%s",
        name,
        result.message_id,
        " (already enqueued)" if result.deduplicated else "",
    )
    return result


def event_id(name, payload, not_before=None):
    """A deduplication id for one event: the job and a digest of its payload."""
    material = json.dumps(
        {"payload": payload, "not_before": not_before and not_before.isoformat()},
        sort_keys=True,
        separators=(",", ":"),
    )
    return f"{name}-{hashlib.sha256(material.encode()).hexdigest()[:32]}"
