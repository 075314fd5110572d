"""Build messages: emails from templates/email (HTML and plain text), pushes."""

import json

from flask import current_app, render_template

from senders import Email, PushMessage

PUSH_LIMIT = 3000  # bytes of JSON a push payload stays under

# JSON bytes (non-ASCII escaped, the worst case) a push title and body may
# take; with the link and tag the payload stays far below the 3 KB limit.
PUSH_TITLE_BYTES = 200
PUSH_BODY_BYTES = 1200


def render_email(template, to, subject, idempotency_key=None, **context):
    """Build an Email from `templates/email/<template>.html` and `.txt`.

    The HTML extends `email/base.html`; both parts get `subject`, the app's
    links, and whatever else is passed.
    """
    context.setdefault("app_url", current_app.config["APP_URL"])
    context["subject"] = subject
    return Email(
        to=to,
        subject=subject,
        text=render_template(f"email/{template}.txt", **context).strip() + "\n",
        html=render_template(f"email/{template}.html", **context),
        idempotency_key=idempotency_key,
    )


def push_message(title, body, url, tag=None):
    """A PushMessage whose title and body are clipped to fit the payload limit."""
    return PushMessage(
        title=_clip(title, PUSH_TITLE_BYTES),
        body=_clip(body, PUSH_BODY_BYTES),
        url=url,
        tag=tag,
    )


def _clip(text, limit):
    """Shorten text, ending it with '…', until its JSON form fits in `limit` bytes."""
    if len(json.dumps(text)) <= limit:
        return text
    while text and len(json.dumps(text + "…")) > limit:
        text = text[: len(text) * 9 // 10]
    return text.rstrip() + "…"
