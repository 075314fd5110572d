"""Attacks on the Upstash-Signature check, beyond the contract's basics.

Every attack is rejected (401, no job function runs, no row written) or
harmless (a replay of an accepted request sends nothing twice), and every
rejection is logged with its reason and without the token.
"""

import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import time

import jwt
import pytest

from jobs.catalog import BY_NAME, JOBS
from models import JobRun, NotificationLog
from notifications import Notice
from senders import Email, PushMessage
from tests import factories as f
from tests.qstash_tokens import BASE, CURRENT_KEY, NEXT_KEY, body_hash, make_token

ROUTE = "noshow-check"
URL = f"{BASE}/api/jobs/{ROUTE}"
BODY = b'{"bookingId": "bk_000001"}'


@pytest.fixture
def ran(monkeypatch):
    """Replace every job with a recorder: the names of the jobs that ran."""
    calls = []

    def recorder(name):
        def run(ctx):
            calls.append(name)
            return {"success": True, "processed": 0}

        return run

    for spec in JOBS:
        replaced = dataclasses.replace(spec, run=recorder(spec.name))
        monkeypatch.setitem(BY_NAME, spec.name, replaced)
    return calls


def post(client, token, body=BODY, path=f"/api/jobs/{ROUTE}", headers=None):
    sent = {"Upstash-Signature": token, "Content-Type": "application/json"}
    sent.update(headers or {})
    return client.post(path, data=body, headers=sent)


def rejections(caplog):
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "signature" and r.getMessage().startswith("signature: rejected")
    ]


def assert_rejected_quietly(response, ran, caplog, token):
    """401 with no work done, one reason logged, and no part of the token in it."""
    assert response.status_code == 401
    assert response.data == b"Unauthorized"
    assert ran == []
    assert JobRun.select().count() == 0
    assert len(rejections(caplog)) == 1
    _, claims, signature = token.split(".") if token.count(".") == 2 else ("", "", "")
    for secret in filter(None, (token, claims, signature, CURRENT_KEY, NEXT_KEY)):
        assert secret not in caplog.text


def now():
    return int(time.time())


def sign(claims, key=CURRENT_KEY, algorithm="HS256"):
    return jwt.encode(claims, key, algorithm=algorithm)


def claims_for(url=URL, body=BODY, **overrides):
    issued = now()
    claims = {
        "iss": "Upstash",
        "sub": url,
        "exp": issued + 300,
        "nbf": issued,
        "iat": issued,
        "jti": "jwt_attack",
        "body": body_hash(body),
    }
    claims.update(overrides)
    return claims


def segment(data):
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unsigned(claims, alg="none"):
    return segment({"alg": alg, "typ": "JWT"}) + "." + segment(claims) + "."


def signed_with_empty_key(claims):
    """PyJWT refuses an empty HMAC key, so sign by hand as an attacker would."""
    signing_input = segment({"alg": "HS256", "typ": "JWT"}) + "." + segment(claims)
    mac = hmac.new(b"", signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + segment(mac)


ATTACKS = {
    "expired a minute ago": lambda: sign(claims_for(exp=now() - 60)),
    "guessed key": lambda: sign(claims_for(), key="qstash-signing-key-guess-000000"),
    "empty key": lambda: signed_with_empty_key(claims_for()),
    "alg none": lambda: unsigned(claims_for()),
    "alg None spelled oddly": lambda: unsigned(claims_for(), alg="nOnE"),
    "alg HS512 with the real key": lambda: sign(claims_for(), algorithm="HS512"),
    "alg HS384 with the real key": lambda: sign(claims_for(), algorithm="HS384"),
    "other host": lambda: sign(claims_for(URL.replace("localhost", "evil.test"))),
    "https instead of http": lambda: sign(claims_for(URL.replace("http:", "https:"))),
    "trailing slash": lambda: sign(claims_for(URL + "/")),
    "query string": lambda: sign(claims_for(URL + "?bookingId=bk_000002")),
    "upper-case path": lambda: sign(claims_for(URL.upper())),
    "other route": lambda: sign(claims_for(f"{BASE}/api/jobs/stale-booking-alert")),
    "changed body": lambda: sign(claims_for(body=b'{"bookingId": "bk_000002"}')),
    "body claim of another type": lambda: sign({**claims_for(), "body": 12}),
    "sub as a list": lambda: sign(claims_for(sub=[URL])),
    "exp as text": lambda: sign(claims_for(exp="never")),
    "no nbf": lambda: jwt.encode(
        {k: v for k, v in claims_for().items() if k != "nbf"}, CURRENT_KEY
    ),
    "token with spaces around it": lambda: " " + make_token(URL, BODY) + " ",
    "two tokens joined": lambda: make_token(URL, BODY) + "," + make_token(URL, BODY),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_is_rejected_with_its_reason_logged_but_not_the_token(
    client, ran, caplog, attack
):
    token = ATTACKS[attack]()

    with caplog.at_level(logging.WARNING):
        response = post(client, token)

    assert_rejected_quietly(response, ran, caplog, token)


@pytest.mark.parametrize("spec", JOBS, ids=lambda spec: spec.name)
def test_token_for_one_route_replayed_on_the_next_is_rejected(
    client, ran, caplog, spec
):
    target = JOBS[(JOBS.index(spec) + 1) % len(JOBS)].name
    token = make_token(f"{BASE}/api/jobs/{spec.name}", b"")

    with caplog.at_level(logging.WARNING):
        response = post(client, token, body=b"", path=f"/api/jobs/{target}")

    assert_rejected_quietly(response, ran, caplog, token)


# Each case: the token's claims and the reason the log must give.
REASONS = {
    "expired": (lambda: claims_for(exp=now() - 60), "expired"),
    "other route": (
        lambda: claims_for(f"{BASE}/api/jobs/stale-booking-alert"),
        "invalid subject",
    ),
    "changed body": (
        lambda: claims_for(body=b'{"bookingId": "bk_000002"}'),
        "invalid body hash",
    ),
}


@pytest.mark.parametrize("case", sorted(REASONS))
def test_rejection_with_the_next_key_names_what_was_wrong(client, ran, caplog, case):
    claims, reason = REASONS[case]
    token = sign(claims(), key=NEXT_KEY)

    with caplog.at_level(logging.WARNING):
        response = post(client, token)

    assert_rejected_quietly(response, ran, caplog, token)
    assert reason in rejections(caplog)[0]


@pytest.mark.parametrize("case", sorted(REASONS))
def test_rejection_with_the_current_key_names_what_was_wrong(client, ran, caplog, case):
    claims, reason = REASONS[case]
    token = sign(claims(), key=CURRENT_KEY)

    with caplog.at_level(logging.WARNING):
        response = post(client, token)

    assert_rejected_quietly(response, ran, caplog, token)
    assert reason in rejections(caplog)[0]


# ProxyFix trusts only X-Forwarded-For/-Proto: a caller's X-Forwarded-Host
# cannot make a token QStash signed for another host of the same account (a
# staging app) name this one.
def test_token_for_another_host_with_a_forged_forwarded_host_is_rejected(
    client, ran, caplog
):
    token = make_token(URL.replace("localhost", "staging.test"), BODY)

    with caplog.at_level(logging.WARNING):
        response = post(client, token, headers={"X-Forwarded-Host": "staging.test"})

    assert_rejected_quietly(response, ran, caplog, token)


@pytest.mark.parametrize(
    "config_overrides", [{"PUBLIC_BASE_URL": "https://jobs.theroyalglow.in"}]
)
@pytest.mark.parametrize(
    "forged",
    [
        {"X-Forwarded-Host": "staging.test"},
        {"Host": "staging.test"},
        {"X-Forwarded-Host": "staging.test", "X-Forwarded-Proto": "https"},
    ],
    ids=["forwarded host", "host", "forwarded host and proto"],
)
def test_public_base_url_rejects_a_token_for_another_host_whatever_the_headers(
    client, ran, caplog, config_overrides, forged
):
    token = make_token(f"https://staging.test/api/jobs/{ROUTE}", BODY)

    with caplog.at_level(logging.WARNING):
        response = post(client, token, headers=forged)

    assert_rejected_quietly(response, ran, caplog, token)


# qstash's Receiver passes the tolerance as options={"leeway": ...}, which
# PyJWT ignores; signature.py passes it as PyJWT's leeway argument.
@pytest.mark.parametrize(
    "skew",
    [{"exp": -2}, {"nbf": 2, "iat": 2}],
    ids=["expired 2 s ago", "valid from 2 s ahead"],
)
def test_clock_skew_within_the_tolerance_is_accepted(client, ran, skew):
    claims = claims_for(**{name: now() + delta for name, delta in skew.items()})

    response = post(client, sign(claims))

    assert response.status_code == 200
    assert ran == [ROUTE]


def test_rejections_are_never_answered_with_details(client, ran):
    for attack in sorted(ATTACKS):
        token = ATTACKS[attack]()
        response = post(client, token)

        assert (response.status_code, response.data) == (401, b"Unauthorized")
        assert set(response.headers.keys()) <= {"Content-Type", "Content-Length"}


@pytest.fixture
def notifying_job(monkeypatch):
    """The route sends one push and one email to each customer in the payload."""

    def run(ctx):
        notices = [
            Notice(
                dedupe_key=f"attack-replay:{customer_id}",
                type="attack_replay",
                recipient_type="customer",
                recipient_id=customer_id,
                push=PushMessage("Reminder", "See you soon", "https://t.test/b"),
                email=Email(f"{customer_id}@example.com", "Reminder", "t", "<p>t</p>"),
            )
            for customer_id in ctx.payload.get("customers", [])
        ]
        return {"success": True, "processed": ctx.notify(notices).processed}

    monkeypatch.setitem(BY_NAME, ROUTE, dataclasses.replace(BY_NAME[ROUTE], run=run))


def test_exact_replay_of_an_accepted_request_sends_nothing_twice(
    client, senders, notifying_job
):
    customers = [f.customer(), f.customer()]
    subscriptions = [f.push_subscription(customer) for customer in customers]
    body = json.dumps({"customers": [c.id for c in customers]}).encode()
    token = make_token(URL, body)

    first = post(client, token, body=body)
    replay = post(client, token, body=body)

    assert first.get_json() == {"success": True, "processed": 2}
    assert replay.get_json() == {"success": True, "processed": 0}
    assert sorted(e.to for e in senders.email.sent) == sorted(
        f"{c.id}@example.com" for c in customers
    )
    assert sorted(t.endpoint for t, _ in senders.push.sent) == sorted(
        s.endpoint for s in subscriptions
    )
    statuses = NotificationLog.select(NotificationLog.status).tuples()
    assert sorted(statuses) == [("sent",)] * 4
    assert [run.outcome for run in JobRun.select().order_by(JobRun.id)] == [
        "success",
        "success",
    ]
