"""Web push to browser subscriptions, signed with the service's VAPID key."""

import base64
import binascii
import json
import logging
import threading

import requests
from http_ece import ECEException
from py_vapid import Vapid, VapidException
from pywebpush import WebPushException, webpush

from exceptions import ConfigurationError
from messages import PUSH_LIMIT

from .base import Outcome, PushSender, Result, outcome_for_status, retry_after

log = logging.getLogger(__name__)

ELLIPSIS = "…"


def push_payload(message, limit=PUSH_LIMIT):
    """The JSON the service worker reads, at most `limit` bytes of UTF-8.

    A long body is shortened (then, if need be, the title); the url never is.
    """
    fields = {
        "title": message.title,
        "body": message.body,
        "url": message.url,
        "tag": message.tag,
    }
    data = _dump(fields)
    for name in ("body", "title"):
        if len(data) <= limit:
            break
        fields[name] = _longest_fitting(fields, name, limit)
        data = _dump(fields)
    return data


def _dump(fields):
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def _longest_fitting(fields, name, limit):
    """The longest prefix of fields[name] (marked as cut) that keeps the JSON
    within limit; empty when none does."""
    text = fields[name]
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        trial = dict(fields, **{name: text[:middle].rstrip() + ELLIPSIS})
        if len(_dump(trial)) <= limit:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + ELLIPSIS if low else ""


def load_vapid_key(text):
    """A Vapid signer from a PEM key, or a raw or DER key in base64url."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            return Vapid.from_pem(text.encode())
        return Vapid.from_string(text)
    except Exception:  # the library raises several types for a bad key
        raise ConfigurationError("VAPID_PRIVATE_KEY is not a usable key") from None


def usable_keys(target):
    """True when the subscription's keys have the shape RFC 8291 gives them: a
    65-byte uncompressed P-256 point and a 16-byte auth secret."""
    try:
        p256dh = _b64url(target.p256dh)
        auth = _b64url(target.auth)
    except (binascii.Error, ValueError):
        return False
    return len(p256dh) == 65 and p256dh[0] == 4 and len(auth) == 16


def _b64url(text):
    text = (text or "").strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class WebPushSender(PushSender):
    """Send web push with pywebpush, one subscription per call.

    Never raises for provider or network failures: 2xx is SENT; 404 and 410
    are PERMANENT with `gone=True` (the subscription no longer exists); 429,
    5xx, timeouts and connection errors are TRANSIENT; any other 4xx, or a
    subscription whose keys cannot be used, is PERMANENT. A missing or
    malformed VAPID key or subject raises ConfigurationError when the sender
    is built.

    Thread safe: the notifier calls it from a pool. Each send builds its own
    VAPID claims (pywebpush writes `aud` and `exp` into the dict it is given)
    and each thread keeps its own HTTP session.
    """

    def __init__(self, config):
        self.subject = config.get("VAPID_SUBJECT") or ""
        if not self.subject.startswith(("mailto:", "https:")):
            raise ConfigurationError("VAPID_SUBJECT must start with mailto: or https:")
        self.vapid = load_vapid_key(config["VAPID_PRIVATE_KEY"])
        self.ttl = int(config.get("PUSH_TTL_SECONDS", 86400))
        self.timeout = float(config.get("HTTP_TIMEOUT", 10))
        self._local = threading.local()

    def send(self, target, message):
        if not usable_keys(target):
            return self._unusable(target, "malformed p256dh or auth key")
        subscription = {
            "endpoint": target.endpoint,
            "keys": {"p256dh": target.p256dh, "auth": target.auth},
        }
        try:
            response = webpush(
                subscription,
                data=push_payload(message),
                vapid_private_key=self.vapid,
                vapid_claims={"sub": self.subject},
                ttl=self.ttl,
                timeout=self.timeout,
                requests_session=self._session(),
            )
        except WebPushException as error:
            if error.response is None:
                return self._unusable(target, error.message)
            return self._refused(target, error.response)
        except requests.Timeout:
            return self._unreachable(target, "timed out")
        except requests.RequestException as error:
            return self._unreachable(target, type(error).__name__)
        except (ValueError, LookupError, ECEException, VapidException) as error:
            return self._unusable(target, type(error).__name__)

        if not 200 <= response.status_code < 300:
            return self._refused(target, response)
        log.debug("push: subscription %s accepted %r", target.id, message.title)
        return Result(Outcome.SENT)

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _refused(self, target, response):
        status = response.status_code
        detail = f"push {status} {response.reason or ''}".strip()
        if status in (404, 410):
            log.info("push: subscription %s is gone (%s)", target.id, status)
            return Result(Outcome.PERMANENT, detail, gone=True)
        outcome = outcome_for_status(status)
        wait = retry_after(response.headers) if outcome is Outcome.TRANSIENT else None
        log.warning("push: subscription %s answered %s", target.id, status)
        return Result(outcome, detail, retry_after=wait)

    def _unreachable(self, target, reason):
        log.warning("push: subscription %s unreachable, %s", target.id, reason)
        return Result(Outcome.TRANSIENT, f"push: {reason}")

    def _unusable(self, target, reason):
        log.warning("push: subscription %s unusable, %s", target.id, reason)
        return Result(Outcome.PERMANENT, f"push: subscription unusable, {reason}")
