"""Logging to stdout, one line per event, tagged with the job and its delivery."""

import contextvars
import logging
import sys
from contextlib import contextmanager

_fields = contextvars.ContextVar("job_fields", default=None)

FORMAT = (
    "%(asctime)s %(levelname)s %(name)s "
    "job=%(job)s msg=%(message_id)s retry=%(retried)s %(message)s"
)


class JobFieldsFilter(logging.Filter):
    """Stamp every record with the current job, QStash message id and retry."""

    def filter(self, record):
        fields = _fields.get() or {}
        record.job = fields.get("job", "-")
        record.message_id = fields.get("message_id", "-")
        record.retried = fields.get("retried", "-")
        return True


@contextmanager
def job_fields(job, headers):
    """Tag the log lines of this block with the job and QStash's delivery ids.

    The headers are not signed, so what goes into a log line is cleaned:
    the message id keeps only id characters, the retry number is a number.
    """
    token = _fields.set(
        {
            "job": job,
            "message_id": _clean_id(headers.get("Upstash-Message-Id")),
            "retried": retry_number(headers.get("Upstash-Retried")),
        }
    )
    try:
        yield
    finally:
        _fields.reset(token)


def retry_number(value):
    """QStash's Upstash-Retried header as a small int (0 when absent or bad)."""
    try:
        return min(max(int(value), 0), 1000)
    except (TypeError, ValueError):
        return 0


def _clean_id(value):
    if not value:
        return "-"
    return "".join(c for c in value[:64] if c.isalnum() or c in "_-") or "-"


def mask_email(address):
    """'priya.sharma@example.com' -> 'p***@example.com'."""
    if not address or "@" not in address:
        return "-"
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


# Libraries whose DEBUG lines carry secrets: urllib3 logs every request's
# path (heartbeat URLs hold their token, push endpoints are a subscription's
# secret) and peewee every query with its parameters (email addresses).
QUIET_LIBRARIES = ("urllib3", "peewee", "httpx", "httpcore", "slack_sdk")


def configure(level="INFO"):
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.INFO)
    root = logging.getLogger()
    if any(getattr(h, "_jobs_service", False) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stdout)
    handler._jobs_service = True
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(JobFieldsFilter())
    root.addHandler(handler)
    root.setLevel(level)
