"""Render emails from templates/email: an HTML part and a plain-text part."""

from flask import current_app, render_template

from senders import Email

PUSH_LIMIT = 3000  # bytes of JSON a push payload stays under


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
