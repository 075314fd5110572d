"""The invocation contract every route shares (spec/JOBS.md section 2)."""

import dataclasses
import logging
import time

import pytest

from jobs.catalog import BY_NAME, JOBS
from models import JobRun
from tests.qstash_tokens import BASE, CURRENT_KEY, NEXT_KEY, make_token

ROUTE = "offer-auto-expire"
URL = f"{BASE}/api/jobs/{ROUTE}"


@pytest.fixture
def runs(monkeypatch):
    """Replace the route's job with one that records its calls."""
    calls = []

    def fake_job(ctx):
        calls.append(ctx)
        return {"success": True, "processed": 2}

    spec = dataclasses.replace(BY_NAME[ROUTE], run=fake_job)
    monkeypatch.setitem(BY_NAME, ROUTE, spec)
    return calls


def post(client, token, body=b"", headers=None, path=f"/api/jobs/{ROUTE}"):
    sent = {} if token is None else {"Upstash-Signature": token}
    sent.update(headers or {})
    return client.post(path, data=body, headers=sent)


def test_valid_token_with_current_key_runs_the_job(client, runs, senders, clock):
    response = post(client, make_token(URL, b""))

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "processed": 2}
    assert len(runs) == 1
    assert runs[0].now == clock.now()
    assert senders.heartbeat.pings == [(ROUTE, False)]


def test_valid_token_with_next_key_runs_the_job(client, runs):
    response = post(client, make_token(URL, b"", key=NEXT_KEY))

    assert response.status_code == 200
    assert len(runs) == 1


def now():
    return int(time.time())


BAD_TOKENS = {
    "wrong key": lambda: make_token(
        URL, b"", key="guessed-key-guessed-key-guessed-key"
    ),
    "expired": lambda: make_token(URL, b"", now=now() - 3600),
    "not yet valid": lambda: make_token(URL, b"", nbf=now() + 600),
    "tampered body": lambda: make_token(URL, b'{"x": 1}'),
    "other route": lambda: make_token(f"{BASE}/api/jobs/session-cleanup", b""),
    "no body claim": lambda: make_token(URL, b"", drop=("body",)),
    "no sub claim": lambda: make_token(URL, b"", drop=("sub",)),
    "other issuer": lambda: make_token(URL, b"", iss="Someone"),
    "https sub without proxy": lambda: make_token(URL.replace("http:", "https:"), b""),
    "trailing slash": lambda: make_token(URL + "/", b""),
    "query string": lambda: make_token(URL + "?a=1", b""),
    "other host": lambda: make_token(URL.replace("localhost", "evil.test"), b""),
    "alg none": lambda: _unsigned(URL),
    "garbage": lambda: "not-a-jwt",
    "empty": lambda: "",
}


def _unsigned(url):
    import base64
    import json

    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {
        "iss": "Upstash",
        "sub": url,
        "exp": now() + 300,
        "nbf": now(),
        "body": "",
    }
    return part({"alg": "none", "typ": "JWT"}) + "." + part(claims) + "."


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_signature_is_401_and_does_nothing(client, runs, senders, case):
    response = post(client, BAD_TOKENS[case]())

    assert response.status_code == 401
    assert response.data == b"Unauthorized"
    assert response.mimetype == "text/plain"
    assert runs == []
    assert senders.heartbeat.pings == []
    assert JobRun.select().count() == 0


def test_missing_header_is_401(client, runs):
    response = post(client, None)

    assert response.status_code == 401
    assert runs == []


def test_body_that_is_not_utf8_is_401(client, runs):
    body = b"\xff\xfe\x00bad"
    response = post(client, make_token(URL, body), body=body)

    assert response.status_code == 401
    assert runs == []


@pytest.mark.parametrize(
    "config_overrides",
    [{"QSTASH_CURRENT_SIGNING_KEY": None, "QSTASH_NEXT_SIGNING_KEY": None}],
)
def test_no_keys_configured_rejects_every_call(client, runs, config_overrides):
    response = post(client, make_token(URL, b""))

    assert response.status_code == 401
    assert runs == []


def test_https_sub_is_accepted_behind_a_forwarding_proxy(client, runs):
    token = make_token(URL.replace("http:", "https:"), b"")

    response = post(client, token, headers={"X-Forwarded-Proto": "https"})

    assert response.status_code == 200
    assert len(runs) == 1


@pytest.mark.parametrize(
    "config_overrides", [{"PUBLIC_BASE_URL": "https://admin.theroyalglow.in/"}]
)
def test_public_base_url_is_what_sub_must_name(client, runs, config_overrides):
    public = f"https://admin.theroyalglow.in/api/jobs/{ROUTE}"

    assert post(client, make_token(URL, b"")).status_code == 401
    assert post(client, make_token(public, b"")).status_code == 200
    assert len(runs) == 1


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_other_methods_get_405(client, runs, method):
    response = getattr(client, method)(f"/api/jobs/{ROUTE}")

    assert response.status_code == 405
    assert runs == []


def test_body_over_the_limit_gets_413_without_work(client, runs):
    body = b"{" + b" " * (64 * 1024) + b"}"

    response = post(client, make_token(URL, body), body=body)

    assert response.status_code == 413
    assert runs == []


def test_failing_job_answers_500_and_pings_the_failure_url(
    client, monkeypatch, senders, caplog
):
    def broken(ctx):
        raise RuntimeError("database went away")

    monkeypatch.setitem(BY_NAME, ROUTE, dataclasses.replace(BY_NAME[ROUTE], run=broken))

    with caplog.at_level(logging.ERROR):
        response = post(client, make_token(URL, b""))

    assert response.status_code == 500
    assert response.data == b"Job failed"
    assert response.mimetype == "text/plain"
    assert senders.heartbeat.pings == [(ROUTE, True)]
    assert "RuntimeError: database went away" in caplog.text
    run = JobRun.get()
    assert (run.outcome, run.processed) == ("failed", None)
    assert run.error.startswith("RuntimeError: database went away")


def test_each_run_is_recorded_with_its_qstash_headers(client, runs, clock):
    headers = {
        "Upstash-Message-Id": "msg_123",
        "Upstash-Retried": "2",
        "Upstash-Schedule-Id": "scd_9",
    }

    post(client, make_token(URL, b""), headers=headers)

    run = JobRun.get()
    assert (run.job, run.message_id, run.retried, run.schedule_id) == (
        ROUTE,
        "msg_123",
        2,
        "scd_9",
    )
    assert (run.outcome, run.processed) == ("success", 2)
    assert run.started_at == clock.now() and run.finished_at == clock.now()


def test_payload_is_parsed_into_a_dict(client, runs):
    body = b'{"date": "2026-12-01"}'
    post(client, make_token(URL, body), body=body)

    assert runs[0].payload == {"date": "2026-12-01"}


@pytest.mark.parametrize(
    "body", [b"[1, 2]", b'"text"', b"{not json", b"", b"null", b"12"]
)
def test_malformed_payload_becomes_an_empty_dict(client, runs, body):
    response = post(client, make_token(URL, body), body=body)

    assert response.status_code == 200
    assert runs[0].payload == {}


def test_every_job_has_a_route_answering_only_post(app):
    rules = {rule.rule: rule.methods for rule in app.url_map.iter_rules()}

    assert len(JOBS) == 19
    for spec in JOBS:
        assert "POST" in rules[f"/api/jobs/{spec.name}"]
        assert "GET" not in rules[f"/api/jobs/{spec.name}"]


def test_heartbeat_is_not_pinged_for_invoice_pdf():
    assert [spec.name for spec in JOBS if not spec.heartbeat] == ["invoice-pdf"]


def test_current_key_is_tried_first_then_next():
    assert CURRENT_KEY != NEXT_KEY


def test_options_is_not_answered_either(client, runs):
    response = client.options(f"/api/jobs/{ROUTE}")

    assert response.status_code == 405
    assert runs == []


def test_database_down_is_job_failed_after_the_signature_check(senders, clock):
    from app import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/unreachable",
            "QSTASH_CURRENT_SIGNING_KEY": CURRENT_KEY,
            "CLOCK": clock,
            "SENDERS": senders,
        }
    )
    client = app.test_client()

    unsigned = post(client, None)
    signed = post(client, make_token(URL, b""))

    assert (unsigned.status_code, unsigned.data) == (401, b"Unauthorized")
    assert (signed.status_code, signed.data) == (500, b"Job failed")
    assert senders.heartbeat.pings == [(ROUTE, True)]


def test_405_names_the_method_that_is_allowed(client):
    response = client.get(f"/api/jobs/{ROUTE}")

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.data == b"Method Not Allowed"


def test_log_lines_carry_the_cleaned_delivery_ids(client, monkeypatch, caplog):
    from logs import JobFieldsFilter

    def talkative(ctx):
        logging.getLogger("jobs.test").info("%s: working", ctx.job)
        return {"success": True, "processed": 0}

    spec = dataclasses.replace(BY_NAME[ROUTE], run=talkative)
    monkeypatch.setitem(BY_NAME, ROUTE, spec)
    headers = {
        "Upstash-Message-Id": "msg_1<script> x",
        "Upstash-Retried": "99999999999999999999",
    }
    caplog.handler.addFilter(JobFieldsFilter())
    with caplog.at_level(logging.INFO):
        post(client, make_token(URL, b""), headers=headers)

    tagged = [r for r in caplog.records if getattr(r, "job", "-") == ROUTE]
    assert tagged
    assert {(r.message_id, r.retried) for r in tagged} == {("msg_1scriptx", 1000)}
