"""What every sender shares: messages, outcomes and the no-op fallbacks.

A sender delivers; it never decides who gets what. Each `send` returns a
Result and does not raise for provider or network failures: it maps them to
an Outcome that the notification log records.
"""

import enum
import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


class Outcome(enum.Enum):
    SENT = "sent"  # the provider accepted it
    NOOP = "noop"  # the sender is not configured: logged, counts as done
    NO_ADDRESS = "no_address"  # the recipient has nothing to send to
    PERMANENT = "permanent"  # a retry cannot help (4xx, invalid address)
    TRANSIENT = "transient"  # a retry may help (timeout, 5xx, 429)

    @property
    def delivered(self):
        """True when the send went to a sender, a no-op one included."""
        return self in (Outcome.SENT, Outcome.NOOP)


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    detail: str | None = None  # provider message id, or what went wrong
    retry_after: float | None = None  # seconds, from a 429's Retry-After
    gone: bool = False  # push: the subscription answered 404/410


SENT = Result(Outcome.SENT)
NOOP = Result(Outcome.NOOP, "sender not configured")


def outcome_for_status(status):
    """Map a provider's HTTP status to an Outcome."""
    if 200 <= status < 300:
        return Outcome.SENT
    if status in (408, 429) or status >= 500:
        return Outcome.TRANSIENT
    return Outcome.PERMANENT


def retry_after(headers):
    """Seconds from a Retry-After header, or None."""
    value = (headers or {}).get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/pdf"


@dataclass
class Email:
    to: str | None
    subject: str
    text: str
    html: str
    idempotency_key: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PushMessage:
    title: str
    body: str
    url: str
    tag: str | None = None


@dataclass(frozen=True)
class PushTarget:
    """One browser subscription: where a push goes."""

    id: str
    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class SlackMessage:
    text: str  # the fallback shown in notifications
    blocks: list = field(default_factory=list)


class EmailSender:
    """Base email sender. `send_many` takes a list and answers in its order."""

    configured = True
    batch_size = 1

    def send(self, email):
        raise NotImplementedError

    def send_many(self, emails):
        return [self.send(email) for email in emails]


class PushSender:
    configured = True

    def send(self, target, message):
        raise NotImplementedError


class SlackSender:
    configured = True

    def send(self, message):
        raise NotImplementedError


class NullEmailSender(EmailSender):
    """No provider key: log the send and report NOOP. Never raises."""

    configured = False
    batch_size = 100

    def send(self, email):
        log.info("email: not configured, skipped %r", email.subject)
        return NOOP


class NullPushSender(PushSender):
    """No VAPID key: log the send and report NOOP. Never raises."""

    configured = False

    def send(self, target, message):
        log.info("push: not configured, skipped %r", message.title)
        return NOOP


class NullSlackSender(SlackSender):
    """No webhook or bot token: log the message and report NOOP. Never raises."""

    configured = False

    def send(self, message):
        log.info("slack: not configured, skipped %r", message.text[:80])
        return NOOP
