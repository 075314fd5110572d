"""Helpers shared by the tests of the triggered jobs and the invoicing client."""

import base64

import requests

from models import NotificationLog

# A test-only signing secret in the whsec_<base64> form; it signs nothing real.
SIGNING_SECRET = (
    "whsec_" + base64.b64encode(b"royal-glow-test-signing-key-0001").decode()
)
INVOICING_URL = "http://invoicing.test"  # reserved TLD; `responses` answers for it

INVOICING_CONFIG = {
    "INVOICING_URL": INVOICING_URL,
    "INVOICING_SIGNING_SECRET": SIGNING_SECRET,
}


def log_rows():
    """(dedupe_key, channel, status, recipient_id) of every notification row."""
    query = NotificationLog.select().order_by(
        NotificationLog.dedupe_key, NotificationLog.channel
    )
    return [(r.dedupe_key, r.channel, r.status, r.recipient_id) for r in query]


def local_session():
    """A requests session that ignores proxy settings: 127.0.0.1 stays local."""
    session = requests.Session()
    session.trust_env = False
    return session


def pdf_bytes(text="Invoice"):
    """Bytes that start like a PDF, for answers `responses` gives."""
    return b"%PDF-1.4\n% " + text.encode() + b"\n%%EOF\n"
