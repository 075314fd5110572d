"""Pluggable senders, chosen from the configuration.

Each provider is one small class; with its keys absent the matching Null
sender logs and reports NOOP, so every job still completes.
"""

from dataclasses import dataclass

from .base import (
    Attachment,
    Email,
    EmailSender,
    NullEmailSender,
    NullPushSender,
    NullSlackSender,
    Outcome,
    PushMessage,
    PushSender,
    PushTarget,
    Result,
    SlackMessage,
    SlackSender,
)
from .heartbeat import Heartbeat

__all__ = [
    "Attachment",
    "Email",
    "EmailSender",
    "Heartbeat",
    "Outcome",
    "PushMessage",
    "PushSender",
    "PushTarget",
    "Result",
    "Senders",
    "SlackMessage",
    "SlackSender",
    "build_senders",
]


@dataclass
class Senders:
    email: EmailSender
    push: PushSender
    slack: SlackSender
    heartbeat: Heartbeat
    invoicing: object  # senders.invoicing.InvoicingClient


def build_senders(config):
    """Pick each provider from the configuration (see the README's table)."""
    from .email import BrevoSender, ResendSender
    from .invoicing import InvoicingClient
    from .push import WebPushSender
    from .slack import SlackBotSender, SlackWebhookSender

    if config.get("RESEND_API_KEY"):
        email = ResendSender(config)
    elif config.get("BREVO_API_KEY"):
        email = BrevoSender(config)
    else:
        email = NullEmailSender()

    push = (
        WebPushSender(config) if config.get("VAPID_PRIVATE_KEY") else NullPushSender()
    )

    if config.get("SLACK_WEBHOOK_URL"):
        slack = SlackWebhookSender(config)
    elif config.get("SLACK_BOT_TOKEN") and config.get("SLACK_REPORT_CHANNEL"):
        slack = SlackBotSender(config)
    else:
        slack = NullSlackSender()

    return Senders(
        email=email,
        push=push,
        slack=slack,
        heartbeat=Heartbeat(config),
        invoicing=InvoicingClient(config),
    )
