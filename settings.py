"""Every setting the service reads, its default, and how it is parsed.

Order of precedence in create_app: these defaults, then the environment (a
`.env` file in development), then a test's overrides.
"""

import os

# name: (default, parser)
SETTINGS = {
    # Database
    "DATABASE_URL": (None, str),  # None: SQLite file in the instance folder
    "DATABASE_POOL_SIZE": (4, int),
    # QStash
    "QSTASH_CURRENT_SIGNING_KEY": (None, str),
    "QSTASH_NEXT_SIGNING_KEY": (None, str),
    "QSTASH_CLOCK_TOLERANCE": (5, int),
    "QSTASH_TOKEN": (None, str),
    "QSTASH_URL": (None, str),
    "PUBLIC_BASE_URL": (None, str),
    "TRUSTED_PROXIES": (1, int),
    # Requests and runs
    "MAX_BODY_BYTES": (64 * 1024, int),
    "JOB_TIME_BUDGET": (20.0, float),
    "RETRY_AFTER_SECONDS": (30, int),
    "HTTP_TIMEOUT": (10.0, float),
    # Notification log
    "NOTIFY_LEASE_SECONDS": (600, int),
    "NOTIFY_MAX_ATTEMPTS": (3, int),
    "NOTIFY_CHUNK_SIZE": (1000, int),
    "NOTIFY_HELD_WAIT_SECONDS": (5.0, float),
    "PUSH_CONCURRENCY": (32, int),
    "PUSH_TTL_SECONDS": (86400, int),
    # Email
    "RESEND_API_KEY": (None, str),
    "RESEND_API_URL": ("https://api.resend.com", str),
    "BREVO_API_KEY": (None, str),
    "BREVO_API_URL": ("https://api.brevo.com/v3", str),
    "EMAIL_FROM": ("The Royal Glow <noreply@theroyalglow.in>", str),
    "EMAIL_REPLY_TO": (None, str),
    # Push
    "VAPID_PRIVATE_KEY": (None, str),
    "VAPID_SUBJECT": (None, str),
    # Slack
    "SLACK_WEBHOOK_URL": (None, str),
    "SLACK_BOT_TOKEN": (None, str),
    "SLACK_REPORT_CHANNEL": (None, str),
    "SLACK_API_URL": ("https://slack.com/api/", str),
    # Invoicing service
    "INVOICING_URL": (None, str),
    "INVOICING_SIGNING_SECRET": (None, str),
    "INVOICE_PDF_MAX_BYTES": (5 * 1024 * 1024, int),
    # Links and tuning of the jobs
    "APP_URL": ("https://theroyalglow.in", str),
    "ADMIN_URL": ("https://admin.theroyalglow.in", str),
    "REVIEW_URL": ("https://theroyalglow.in/review", str),
    "USAGE_NUDGE_LIMIT": (20, int),
    "BIRTHDAY_OFFER": (None, str),  # e.g. "20% off any spa service this month"
    "LOG_LEVEL": ("INFO", str),
}

HEARTBEAT_PREFIX = "BETTER_STACK_HEARTBEAT_"


def defaults():
    return {name: default for name, (default, _) in SETTINGS.items()}


def from_environment(environ=None):
    """Read the known settings, plus every heartbeat URL, from the environment."""
    environ = os.environ if environ is None else environ
    found = {}
    for name, (_, parse) in SETTINGS.items():
        raw = environ.get(name)
        if raw is not None and raw.strip() != "":
            found[name] = parse(raw.strip())
    for name, value in environ.items():
        if name.startswith(HEARTBEAT_PREFIX) and value.strip():
            found[name] = value.strip()
    return found


def heartbeat_setting(job):
    """The variable holding a job's heartbeat URL: appointment-reminders ->
    BETTER_STACK_HEARTBEAT_APPOINTMENT_REMINDERS."""
    return HEARTBEAT_PREFIX + job.upper().replace("-", "_")
