"""Web push: a signed, encrypted request with a TTL, and answers mapped to outcomes."""

import base64
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import http_ece
import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid, Vapid02
from py_vapid.utils import b64urlencode

from exceptions import ConfigurationError
from senders import Outcome, PushMessage, PushTarget
from senders.push import WebPushSender, push_payload
from tests.sender_support import make_config, new_vapid_key, refuse_remote_connections

ENDPOINT = "https://push.example.test/send/abc123"
MESSAGE = PushMessage(
    title="Reminder: facial at 3:30 PM",
    body="Your appointment at Bandra is today at 3:30 PM.",
    url="/bookings/bk_1",
    tag="appointment-reminder",
)


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    refuse_remote_connections(monkeypatch)


@pytest.fixture
def api():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture(scope="module")
def vapid_key():
    return new_vapid_key()


class Browser:
    """A subscriber: its keys, so the test can decrypt what was pushed."""

    def __init__(self, endpoint=ENDPOINT, id="ps_1"):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth_secret = os.urandom(16)
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.target = PushTarget(
            id, endpoint, b64urlencode(public), b64urlencode(self.auth_secret)
        )

    def read(self, body):
        plain = http_ece.decrypt(
            body,
            private_key=self.private_key,
            auth_secret=self.auth_secret,
            version="aes128gcm",
        )
        return json.loads(plain)


def jwt_claims(authorization):
    token = authorization.split(" ", 1)[1].split(",")[0].removeprefix("t=")
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def sender(vapid_key, **settings):
    values = {
        "VAPID_PRIVATE_KEY": vapid_key,
        "VAPID_SUBJECT": "mailto:tech@theroyalglow.in",
    }
    values.update(settings)
    return WebPushSender(make_config(**values))


def test_push_sends_a_signed_encrypted_payload_with_a_ttl(api, vapid_key):
    api.post(ENDPOINT, status=201)
    browser = Browser()

    result = sender(vapid_key, PUSH_TTL_SECONDS=3600).send(browser.target, MESSAGE)

    assert result.outcome is Outcome.SENT
    request = api.calls[0].request
    assert request.url == ENDPOINT
    assert request.headers["TTL"] == "3600"
    assert request.headers["Content-Encoding"] == "aes128gcm"
    assert request.req_kwargs["timeout"] == 2.0
    authorization = request.headers["Authorization"]
    assert authorization.startswith("vapid t=")
    assert Vapid02.verify(authorization)
    claims = jwt_claims(authorization)
    assert claims["sub"] == "mailto:tech@theroyalglow.in"
    assert claims["aud"] == "https://push.example.test"
    assert claims["exp"] > time.time()
    assert b"Bandra" not in request.body
    assert browser.read(request.body) == {
        "title": "Reminder: facial at 3:30 PM",
        "body": "Your appointment at Bandra is today at 3:30 PM.",
        "url": "/bookings/bk_1",
        "tag": "appointment-reminder",
    }


def test_push_uses_fresh_claims_for_each_push_service(api, vapid_key):
    other = "https://updates.push.other.test/wpush/v2/xyz"
    api.post(ENDPOINT, status=201)
    api.post(other, status=201)
    push = sender(vapid_key)

    push.send(Browser(ENDPOINT).target, MESSAGE)
    push.send(Browser(other).target, MESSAGE)

    audiences = [
        jwt_claims(c.request.headers["Authorization"])["aud"] for c in api.calls
    ]
    assert audiences == ["https://push.example.test", "https://updates.push.other.test"]


def test_push_from_many_threads_signs_each_for_its_own_service(api, vapid_key):
    browsers = [
        Browser(f"https://push{n % 4}.example.test/s/{n}", id=f"ps_{n}")
        for n in range(16)
    ]
    for browser in browsers:
        api.post(browser.target.endpoint, status=201)
    push = sender(vapid_key)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda b: push.send(b.target, MESSAGE), browsers))

    assert [r.outcome for r in results] == [Outcome.SENT] * 16
    for call in api.calls:
        host = call.request.url.split("/")[2]
        assert jwt_claims(call.request.headers["Authorization"])["aud"] == (
            f"https://{host}"
        )


PUSH_ANSWERS = {
    "created": (201, {}, Outcome.SENT, False, None),
    "ok": (200, {}, Outcome.SENT, False, None),
    "accepted": (202, {}, Outcome.SENT, False, None),
    "not found": (404, {}, Outcome.PERMANENT, True, None),
    "gone": (410, {}, Outcome.PERMANENT, True, None),
    "bad request": (400, {}, Outcome.PERMANENT, False, None),
    "wrong vapid key": (403, {}, Outcome.PERMANENT, False, None),
    "payload too large": (413, {}, Outcome.PERMANENT, False, None),
    "rate limited": (429, {"Retry-After": "60"}, Outcome.TRANSIENT, False, 60.0),
    "server error": (500, {}, Outcome.TRANSIENT, False, None),
    "unavailable": (503, {}, Outcome.TRANSIENT, False, None),
}


@pytest.mark.parametrize(
    "status, headers, outcome, gone, wait",
    list(PUSH_ANSWERS.values()),
    ids=list(PUSH_ANSWERS),
)
def test_push_status_maps_to_outcome(
    api, vapid_key, status, headers, outcome, gone, wait
):
    api.post(ENDPOINT, status=status, headers=headers)

    result = sender(vapid_key).send(Browser().target, MESSAGE)

    assert (result.outcome, result.gone, result.retry_after) == (outcome, gone, wait)


@pytest.mark.parametrize(
    "error",
    [requests.ReadTimeout(), requests.ConnectTimeout(), requests.ConnectionError()],
)
def test_push_network_failure_is_transient(api, vapid_key, error):
    api.post(ENDPOINT, body=error)

    result = sender(vapid_key).send(Browser().target, MESSAGE)

    assert (result.outcome, result.gone) == (Outcome.TRANSIENT, False)


@pytest.mark.parametrize(
    "p256dh, auth",
    [("", "c2VjcmV0"), ("not-a-key", "c2VjcmV0"), ("@@@", "@@@")],
    ids=["empty key", "short key", "not base64"],
)
def test_push_to_a_subscription_with_unusable_keys_is_permanent(
    api, vapid_key, p256dh, auth
):
    target = PushTarget("ps_bad", ENDPOINT, p256dh, auth)

    result = sender(vapid_key).send(target, MESSAGE)

    assert (result.outcome, result.gone) == (Outcome.PERMANENT, False)
    assert len(api.calls) == 0


def test_push_logs_the_subscription_id_never_its_endpoint(api, vapid_key, caplog):
    api.post(ENDPOINT, status=410)

    with caplog.at_level("DEBUG", logger="senders"):
        sender(vapid_key).send(Browser(id="ps_77").target, MESSAGE)

    assert "push: subscription ps_77 is gone (410)" in caplog.text
    assert "abc123" not in caplog.text
    assert vapid_key not in caplog.text


@pytest.mark.parametrize(
    "settings",
    [
        {"VAPID_SUBJECT": None},
        {"VAPID_SUBJECT": "tech@theroyalglow.in"},
        {"VAPID_SUBJECT": "http://theroyalglow.in"},
        {"VAPID_PRIVATE_KEY": "not-a-key"},
    ],
    ids=["no subject", "bare address", "http subject", "bad key"],
)
def test_push_refuses_to_start_misconfigured(vapid_key, settings):
    with pytest.raises(ConfigurationError):
        sender(vapid_key, **settings)


def test_push_accepts_a_pem_key(api):
    vapid = Vapid()
    vapid.generate_keys()
    pem = vapid.private_pem().decode()
    api.post(ENDPOINT, status=201)

    push = WebPushSender(
        make_config(VAPID_PRIVATE_KEY=pem, VAPID_SUBJECT="mailto:tech@theroyalglow.in")
    )
    result = push.send(Browser().target, MESSAGE)

    assert result.outcome is Outcome.SENT
    assert Vapid02.verify(api.calls[0].request.headers["Authorization"])


def test_push_accepts_an_https_subject(api, vapid_key):
    api.post(ENDPOINT, status=201)

    push = sender(vapid_key, VAPID_SUBJECT="https://theroyalglow.in")

    assert push.send(Browser().target, MESSAGE).outcome is Outcome.SENT


# The payload limit


def test_short_payload_is_left_whole():
    data = push_payload(MESSAGE)

    assert json.loads(data)["body"] == MESSAGE.body


def test_long_body_is_cut_to_fit_and_the_url_kept():
    url = "https://theroyalglow.in/bookings/bk_1?utm=reminder"
    message = PushMessage("Offer", "स्पा " * 2000, url, "offer")

    data = push_payload(message)

    assert len(data) <= 3000
    fields = json.loads(data)
    assert fields["url"] == url
    assert fields["title"] == "Offer"
    assert fields["body"].endswith("…")
    assert "स्पा " * 100 in fields["body"]
    assert len(push_payload(message, limit=len(data) - 1)) < len(data)


def test_long_title_is_cut_when_the_body_alone_cannot_make_room():
    message = PushMessage("T" * 5000, "short", "/x", None)

    fields = json.loads(push_payload(message))

    assert fields["body"] == ""
    assert fields["title"].endswith("…")
    assert fields["url"] == "/x"
    assert len(push_payload(message)) <= 3000
