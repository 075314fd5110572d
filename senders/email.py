"""Email through Resend (preferred) or Brevo, over their HTTP APIs.

Both answer one Result per email. A provider's refusal, a timeout or a dropped
connection is an Outcome, never an exception; only a malformed setting raises,
and it does so when the sender is built.
"""

import base64
import hashlib
import logging
import re
import uuid
from email.utils import parseaddr

import requests

from exceptions import ConfigurationError
from logs import mask_email

from .base import EmailSender, Outcome, Result, outcome_for_status, retry_after

log = logging.getLogger(__name__)

ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
IDEMPOTENCY_KEY_MAX = 256  # Resend's limit on the Idempotency-Key header
# Brevo wants a UUID as idempotency key: uuid5 in this fixed namespace maps a
# dedupe key to the same UUID on every run.
KEY_NAMESPACE = uuid.UUID("6f1c3d2e-5a4b-4c8d-9e0f-a1b2c3d4e5f6")


def scrub(text, limit=300):
    """Shorten a provider's message and mask any address it quotes."""
    return ADDRESS.sub(lambda match: mask_email(match.group()), text or "")[:limit]


def batch_key(emails):
    """One key for a batch, stable while it holds the same emails; None when
    any email has no key of its own."""
    keys = [email.idempotency_key for email in emails]
    if not all(keys):
        return None
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


class HttpEmailSender(EmailSender):
    """The plumbing both providers share: one session, a timeout on every call,
    and failures turned into Results."""

    provider = "email"
    batch_size = 100

    def __init__(self, config, session=None):
        self.timeout = float(config.get("HTTP_TIMEOUT", 10))
        self.session = session or requests.Session()
        self.reply_to = config.get("EMAIL_REPLY_TO") or None

    def send(self, email):
        headers = self._single_headers(email)
        response, failure = self._post(
            self.single_path, self._single(email), email, headers
        )
        if failure is not None:
            return failure
        if 200 <= response.status_code < 300:
            log.debug("email: %s accepted %s", self.provider, mask_email(email.to))
            return Result(Outcome.SENT, self._message_id(response))
        return self._refused(response, [email])

    def send_many(self, emails):
        """Send in batches; emails with attachments go one by one."""
        results = [None] * len(emails)
        plain = []
        for index, email in enumerate(emails):
            if email.attachments:
                results[index] = self.send(email)
            else:
                plain.append(index)

        for start in range(0, len(plain), self.batch_size):
            indexes = plain[start : start + self.batch_size]
            batch = [emails[index] for index in indexes]
            answers = (
                self._send_batch(batch) if len(batch) > 1 else [self.send(batch[0])]
            )
            for index, answer in zip(indexes, answers, strict=True):
                results[index] = answer

        return results

    def _post(self, path, payload, email=None, headers=None):
        """POST JSON; answer (response, None), or (None, a TRANSIENT Result)."""
        try:
            response = self.session.post(
                self.base_url + path,
                json=payload,
                headers=headers,
                timeout=self.timeout,
            )
        except requests.Timeout:
            failure = Result(Outcome.TRANSIENT, f"{self.provider}: timed out")
        except requests.RequestException as error:
            reason = type(error).__name__
            failure = Result(Outcome.TRANSIENT, f"{self.provider}: {reason}")
        else:
            return response, None
        who = mask_email(email.to) if email else "a batch"
        log.warning("email: %s for %s, %s", self.provider, who, failure.detail)
        return None, failure

    def _refused(self, response, emails):
        """The Result of a non-2xx answer, logged once for the emails it covers."""
        status = response.status_code
        name, message = self._error_of(response)
        outcome = self._outcome(status, name)
        wait = self._wait(response.headers) if outcome is Outcome.TRANSIENT else None
        who = mask_email(emails[0].to) if len(emails) == 1 else f"{len(emails)} emails"
        log.warning("email: %s answered %s %s for %s", self.provider, status, name, who)
        detail = f"{self.provider} {status} {name}: {scrub(message)}"
        return Result(outcome, detail, retry_after=wait)

    def _outcome(self, status, name):
        return outcome_for_status(status)

    def _wait(self, headers):
        return retry_after(headers)

    @staticmethod
    def _json(response):
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}


class ResendSender(HttpEmailSender):
    """Send through Resend: POST /emails, and /emails/batch for up to 100.

    Never raises for provider or network failures. 2xx is SENT (detail: the
    message id); 429 and 5xx, timeouts and connection errors are TRANSIENT
    (a 429 carries its Retry-After); other 4xx, an invalid address among
    them, are PERMANENT. The batch call runs in Resend's permissive mode, so
    an invalid email fails alone and the others go out.
    """

    provider = "resend"
    single_path = "/emails"
    # Another request with the same key is still running: it may yet succeed.
    retryable_names = {"concurrent_idempotent_requests"}

    def __init__(self, config, session=None):
        super().__init__(config, session)
        self.base_url = config["RESEND_API_URL"].rstrip("/")
        self.sender = config["EMAIL_FROM"]
        self.session.headers["Authorization"] = f"Bearer {config['RESEND_API_KEY']}"

    def _single_headers(self, email):
        if not email.idempotency_key:
            return None
        return {"Idempotency-Key": _short_key(email.idempotency_key)}

    def _single(self, email):
        body = self._fields(email)
        if email.attachments:
            body["attachments"] = [
                {
                    "filename": attachment.filename,
                    "content": base64.b64encode(attachment.content).decode("ascii"),
                    "content_type": attachment.content_type,
                }
                for attachment in email.attachments
            ]
        return body

    def _fields(self, email):
        body = {
            "from": self.sender,
            "to": [email.to],
            "subject": email.subject,
            "html": email.html,
            "text": email.text,
        }
        if self.reply_to:
            body["reply_to"] = self.reply_to
        if email.tags:
            body["tags"] = [{"name": k, "value": v} for k, v in email.tags.items()]
        return body

    def _send_batch(self, emails):
        headers = {"x-batch-validation": "permissive"}
        key = batch_key(emails)
        if key:
            headers["Idempotency-Key"] = f"batch-{key}"
        payload = [self._fields(email) for email in emails]
        response, failure = self._post("/emails/batch", payload, headers=headers)
        if failure is not None:
            return [failure] * len(emails)
        if not 200 <= response.status_code < 300:
            return [self._refused(response, emails)] * len(emails)

        body = self._json(response)
        rejected = {
            error.get("index"): error.get("message")
            for error in body.get("errors") or []
            if isinstance(error, dict)
        }
        ids = iter(item.get("id") for item in body.get("data") or [])
        results = []
        for index, email in enumerate(emails):
            if index in rejected:
                log.warning("email: resend rejected %s", mask_email(email.to))
                detail = f"resend rejected: {scrub(rejected[index])}"
                results.append(Result(Outcome.PERMANENT, detail))
            else:
                results.append(Result(Outcome.SENT, next(ids, None)))
        return results

    def _message_id(self, response):
        return self._json(response).get("id")

    def _error_of(self, response):
        body = self._json(response)
        return body.get("name") or "error", body.get("message") or response.text

    def _outcome(self, status, name):
        if name in self.retryable_names:
            return Outcome.TRANSIENT
        return outcome_for_status(status)


class BrevoSender(HttpEmailSender):
    """Send through Brevo: POST /smtp/email, batches as `messageVersions`.

    Never raises for provider or network failures; statuses map as for
    Resend. Brevo refuses a whole batch for one bad version, so a batch
    answered 400 is sent again one email at a time and only the bad one
    fails. EMAIL_FROM must read "Name <address>" (or a bare address).
    """

    provider = "brevo"
    single_path = "/smtp/email"
    # Brevo takes up to 1000 versions a call; 100 keeps a request to a few MB.
    batch_size = 100

    def __init__(self, config, session=None):
        super().__init__(config, session)
        self.base_url = config["BREVO_API_URL"].rstrip("/")
        name, address = parseaddr(config.get("EMAIL_FROM") or "")
        if "@" not in address:
            raise ConfigurationError("EMAIL_FROM needs an address: 'Name <a@b.in>'")
        self.sender = {"name": name, "email": address} if name else {"email": address}
        self.session.headers["api-key"] = config["BREVO_API_KEY"]
        self.session.headers["Accept"] = "application/json"

    def _single_headers(self, email):
        return None  # Brevo takes its idempotency key in the body

    def _single(self, email):
        body = self._common([email])
        body.update(
            to=[{"email": email.to}],
            subject=email.subject,
            htmlContent=email.html,
            textContent=email.text,
        )
        if email.attachments:
            body["attachment"] = [
                {
                    "name": attachment.filename,
                    "content": base64.b64encode(attachment.content).decode("ascii"),
                }
                for attachment in email.attachments
            ]
        return body

    def _send_batch(self, emails):
        first = emails[0]
        payload = self._common(emails)
        payload.update(
            subject=first.subject,
            htmlContent=first.html,
            textContent=first.text,
            messageVersions=[
                {
                    "to": [{"email": email.to}],
                    "subject": email.subject,
                    "htmlContent": email.html,
                    "textContent": email.text,
                }
                for email in emails
            ],
        )
        response, failure = self._post(self.single_path, payload)
        if failure is not None:
            return [failure] * len(emails)
        if response.status_code == 400:
            log.warning(
                "email: brevo refused a batch of %d, sending one by one", len(emails)
            )
            return [self.send(email) for email in emails]
        if not 200 <= response.status_code < 300:
            return [self._refused(response, emails)] * len(emails)

        ids = self._json(response).get("messageIds") or []
        ids = ids if len(ids) == len(emails) else [None] * len(emails)
        return [Result(Outcome.SENT, message_id) for message_id in ids]

    def _common(self, emails):
        """Sender, reply-to, tags and idempotency key: what a call shares."""
        body = {"sender": dict(self.sender)}
        if self.reply_to:
            body["replyTo"] = {"email": self.reply_to}
        tags = {tuple(sorted(email.tags.items())) for email in emails}
        if len(tags) == 1 and emails[0].tags:
            body["tags"] = [f"{k}:{v}" for k, v in sorted(emails[0].tags.items())]
        key = emails[0].idempotency_key if len(emails) == 1 else batch_key(emails)
        if key:
            body["headers"] = {"idempotencyKey": str(uuid.uuid5(KEY_NAMESPACE, key))}
        return body

    def _message_id(self, response):
        return self._json(response).get("messageId")

    def _error_of(self, response):
        body = self._json(response)
        return body.get("code") or "error", body.get("message") or response.text

    def _wait(self, headers):
        """Retry-After if given, else Brevo's own seconds-until-reset header."""
        wait = retry_after(headers)
        if wait is None:
            wait = retry_after({"Retry-After": headers.get("x-sib-ratelimit-reset")})
        return wait


def _short_key(key):
    """Resend takes keys up to 256 characters; a longer one is hashed."""
    if len(key) <= IDEMPOTENCY_KEY_MAX:
        return key
    return hashlib.sha256(key.encode()).hexdigest()
