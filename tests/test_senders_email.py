"""Resend and Brevo: the exact requests they make and how answers map to outcomes."""

import base64
import hashlib
import json
import logging
import uuid

import pytest
import requests
import responses

from exceptions import ConfigurationError
from senders import Attachment, Outcome
from senders.email import KEY_NAMESPACE, BrevoSender, ResendSender
from tests.sender_support import make_config, refuse_remote_connections
from tests.sender_support import make_email as email

RESEND = "https://api.resend.com"
BREVO = "https://api.brevo.com/v3"
PDF = b"%PDF-1.4 invoice"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    refuse_remote_connections(monkeypatch)


@pytest.fixture
def api():
    with responses.RequestsMock() as mock:
        yield mock


def resend(**settings):
    return ResendSender(make_config(RESEND_API_KEY="re_test_key", **settings))


def brevo(**settings):
    return BrevoSender(make_config(BREVO_API_KEY="xkeysib-test", **settings))


def sent_json(call):
    return json.loads(call.request.body)


# Resend: one email


def test_resend_posts_one_email_with_its_idempotency_key(api):
    api.post(f"{RESEND}/emails", json={"id": "em_1"})

    result = resend().send(email(1))

    assert (result.outcome, result.detail) == (Outcome.SENT, "em_1")
    request = api.calls[0].request
    assert request.url == f"{RESEND}/emails"
    assert request.headers["Authorization"] == "Bearer re_test_key"
    assert request.headers["Idempotency-Key"] == "appointment-reminder:1"
    assert request.headers["Content-Type"] == "application/json"
    assert request.req_kwargs["timeout"] == 2.0
    assert sent_json(api.calls[0]) == {
        "from": "The Royal Glow <noreply@theroyalglow.in>",
        "to": ["guest1@example.com"],
        "subject": "Your booking 1",
        "html": "<p>See you soon 1</p>",
        "text": "See you soon 1\n",
    }


def test_resend_sends_reply_to_tags_and_attachments_as_base64(api):
    api.post(f"{RESEND}/emails", json={"id": "em_2"})
    invoice = email(
        2,
        attachments=[Attachment("INV-0042.pdf", PDF)],
        tags={"job": "invoice-pdf"},
    )

    result = resend(EMAIL_REPLY_TO="care@theroyalglow.in").send(invoice)

    assert result.outcome is Outcome.SENT
    body = sent_json(api.calls[0])
    assert body["reply_to"] == "care@theroyalglow.in"
    assert body["tags"] == [{"name": "job", "value": "invoice-pdf"}]
    assert body["attachments"] == [
        {
            "filename": "INV-0042.pdf",
            "content": base64.b64encode(PDF).decode(),
            "content_type": "application/pdf",
        }
    ]


def test_resend_email_without_key_carries_no_idempotency_header(api):
    api.post(f"{RESEND}/emails", json={"id": "em_3"})

    resend().send(email(3, key=""))

    assert "Idempotency-Key" not in api.calls[0].request.headers


def test_resend_hashes_an_idempotency_key_longer_than_it_accepts(api):
    api.post(f"{RESEND}/emails", json={"id": "em_4"})
    long_key = "daily-sales-report:" + "x" * 300

    resend().send(email(4, key=long_key))

    sent = api.calls[0].request.headers["Idempotency-Key"]
    assert sent == hashlib.sha256(long_key.encode()).hexdigest()


def test_resend_base_url_comes_from_the_setting(api):
    api.post("http://127.0.0.1:8025/resend/emails", json={"id": "em_5"})

    result = resend(RESEND_API_URL="http://127.0.0.1:8025/resend/").send(email(5))

    assert result.outcome is Outcome.SENT


RESEND_ANSWERS = {
    "accepted": (200, {"id": "em_9"}, {}, Outcome.SENT, None),
    "invalid address": (
        422,
        {"statusCode": 422, "name": "validation_error", "message": "Invalid `to`"},
        {},
        Outcome.PERMANENT,
        None,
    ),
    "bad request": (
        400,
        {"statusCode": 400, "name": "validation_error", "message": "bad"},
        {},
        Outcome.PERMANENT,
        None,
    ),
    "domain not verified": (
        403,
        {"name": "validation_error", "message": "domain"},
        {},
        Outcome.PERMANENT,
        None,
    ),
    "same key, other payload": (
        409,
        {"name": "invalid_idempotent_request", "message": "used"},
        {},
        Outcome.PERMANENT,
        None,
    ),
    "same key still running": (
        409,
        {"name": "concurrent_idempotent_requests", "message": "in progress"},
        {},
        Outcome.TRANSIENT,
        None,
    ),
    "rate limited": (
        429,
        {"name": "rate_limit_exceeded", "message": "slow down"},
        {"Retry-After": "3"},
        Outcome.TRANSIENT,
        3.0,
    ),
    "server error": (
        500,
        {"name": "internal_server_error"},
        {},
        Outcome.TRANSIENT,
        None,
    ),
    "unavailable": (503, {}, {}, Outcome.TRANSIENT, None),
}


@pytest.mark.parametrize(
    "status, body, headers, outcome, wait",
    list(RESEND_ANSWERS.values()),
    ids=list(RESEND_ANSWERS),
)
def test_resend_status_maps_to_outcome(api, status, body, headers, outcome, wait):
    api.post(f"{RESEND}/emails", status=status, json=body, headers=headers)

    result = resend().send(email(9))

    assert result.outcome is outcome
    assert result.retry_after == wait


def test_resend_refusal_detail_names_status_and_error(api):
    api.post(
        f"{RESEND}/emails",
        status=422,
        json={"name": "validation_error", "message": "Invalid `to` field."},
    )

    result = resend().send(email(9))

    assert result.detail == "resend 422 validation_error: Invalid `to` field."


@pytest.mark.parametrize(
    "error",
    [requests.ReadTimeout(), requests.ConnectTimeout(), requests.ConnectionError()],
)
def test_resend_network_failure_is_transient(api, error):
    api.post(f"{RESEND}/emails", body=error)

    result = resend().send(email(9))

    assert result.outcome is Outcome.TRANSIENT


def test_resend_logs_a_masked_address_and_no_key(api, caplog):
    api.post(
        f"{RESEND}/emails",
        status=422,
        json={"name": "validation_error", "message": "guest7@example.com is invalid"},
    )

    with caplog.at_level(logging.DEBUG, logger="senders"):
        result = resend().send(email(7))

    assert "email: resend answered 422 validation_error for g***@example.com" in (
        caplog.text
    )
    assert "guest7@example.com" not in caplog.text
    assert "guest7@example.com" not in result.detail
    assert "re_test_key" not in caplog.text


# Resend: batches


def test_resend_sends_several_emails_in_one_permissive_batch(api):
    api.post(
        f"{RESEND}/emails/batch",
        json={"data": [{"id": "em_a"}, {"id": "em_b"}, {"id": "em_c"}]},
    )
    emails = [email(1), email(2), email(3)]

    results = resend().send_many(emails)

    assert [(r.outcome, r.detail) for r in results] == [
        (Outcome.SENT, "em_a"),
        (Outcome.SENT, "em_b"),
        (Outcome.SENT, "em_c"),
    ]
    assert len(api.calls) == 1
    request = api.calls[0].request
    assert request.url == f"{RESEND}/emails/batch"
    assert request.headers["x-batch-validation"] == "permissive"
    keys = "appointment-reminder:1\nappointment-reminder:2\nappointment-reminder:3"
    expected_key = "batch-" + hashlib.sha256(keys.encode()).hexdigest()
    assert request.headers["Idempotency-Key"] == expected_key
    assert sent_json(api.calls[0]) == [
        {
            "from": "The Royal Glow <noreply@theroyalglow.in>",
            "to": [f"guest{n}@example.com"],
            "subject": f"Your booking {n}",
            "html": f"<p>See you soon {n}</p>",
            "text": f"See you soon {n}\n",
        }
        for n in (1, 2, 3)
    ]


def test_resend_batch_without_every_key_has_no_idempotency_header(api):
    api.post(f"{RESEND}/emails/batch", json={"data": [{"id": "a"}, {"id": "b"}]})

    resend().send_many([email(1), email(2, key="")])

    assert "Idempotency-Key" not in api.calls[0].request.headers


def test_resend_batch_item_rejected_in_permissive_mode_fails_alone(api):
    api.post(
        f"{RESEND}/emails/batch",
        json={
            "data": [{"id": "em_a"}, {"id": "em_c"}],
            "errors": [{"index": 1, "message": "The `to` field is invalid."}],
        },
    )

    results = resend().send_many([email(1), email(2), email(3)])

    assert [(r.outcome, r.detail) for r in results] == [
        (Outcome.SENT, "em_a"),
        (Outcome.PERMANENT, "resend rejected: The `to` field is invalid."),
        (Outcome.SENT, "em_c"),
    ]


@pytest.mark.parametrize(
    "status, headers, outcome, wait",
    [
        (429, {"Retry-After": "2"}, Outcome.TRANSIENT, 2.0),
        (500, {}, Outcome.TRANSIENT, None),
        (401, {}, Outcome.PERMANENT, None),
    ],
)
def test_resend_whole_batch_refused_gives_every_email_that_outcome(
    api, status, headers, outcome, wait
):
    api.post(
        f"{RESEND}/emails/batch",
        status=status,
        json={"name": "some_error", "message": "no"},
        headers=headers,
    )

    results = resend().send_many([email(1), email(2)])

    assert [(r.outcome, r.retry_after) for r in results] == [(outcome, wait)] * 2


def test_resend_batch_timeout_is_transient_for_every_email(api):
    api.post(f"{RESEND}/emails/batch", body=requests.ReadTimeout())

    results = resend().send_many([email(1), email(2)])

    assert [r.outcome for r in results] == [Outcome.TRANSIENT] * 2


def test_resend_sends_emails_with_attachments_alone_and_keeps_the_order(api):
    api.post(f"{RESEND}/emails", json={"id": "em_invoice"})
    api.post(f"{RESEND}/emails/batch", json={"data": [{"id": "a"}, {"id": "c"}]})
    invoice = email(2, attachments=[Attachment("INV-1.pdf", PDF)])

    results = resend().send_many([email(1), invoice, email(3)])

    assert [r.detail for r in results] == ["a", "em_invoice", "c"]
    single, batch = api.calls
    assert sent_json(single)["to"] == ["guest2@example.com"]
    assert "attachments" in sent_json(single)
    assert [item["to"] for item in sent_json(batch)] == [
        ["guest1@example.com"],
        ["guest3@example.com"],
    ]


def test_resend_single_email_in_send_many_goes_to_the_single_endpoint(api):
    api.post(f"{RESEND}/emails", json={"id": "em_only"})

    results = resend().send_many([email(1)])

    assert [r.detail for r in results] == ["em_only"]
    assert api.calls[0].request.headers["Idempotency-Key"] == "appointment-reminder:1"


def test_resend_splits_more_than_a_hundred_emails_into_batches(api):
    def answer(request):
        count = len(json.loads(request.body))
        data = [{"id": f"em_{i}"} for i in range(count)]
        return 200, {}, json.dumps({"data": data})

    api.add_callback(responses.POST, f"{RESEND}/emails/batch", callback=answer)

    results = resend().send_many([email(n) for n in range(150)])

    assert [len(json.loads(call.request.body)) for call in api.calls] == [100, 50]
    assert [r.outcome for r in results] == [Outcome.SENT] * 150


# Brevo


def test_brevo_posts_one_email_with_sender_and_idempotency_uuid(api):
    api.post(f"{BREVO}/smtp/email", status=201, json={"messageId": "<m1@brevo>"})

    result = brevo().send(email(1))

    assert (result.outcome, result.detail) == (Outcome.SENT, "<m1@brevo>")
    request = api.calls[0].request
    assert request.url == f"{BREVO}/smtp/email"
    assert request.headers["api-key"] == "xkeysib-test"
    assert request.headers["Accept"] == "application/json"
    assert request.req_kwargs["timeout"] == 2.0
    key = str(uuid.uuid5(KEY_NAMESPACE, "appointment-reminder:1"))
    assert sent_json(api.calls[0]) == {
        "sender": {"name": "The Royal Glow", "email": "noreply@theroyalglow.in"},
        "to": [{"email": "guest1@example.com"}],
        "subject": "Your booking 1",
        "htmlContent": "<p>See you soon 1</p>",
        "textContent": "See you soon 1\n",
        "headers": {"idempotencyKey": key},
    }


def test_brevo_sends_attachments_reply_to_and_a_bare_from_address(api):
    api.post(f"{BREVO}/smtp/email", status=201, json={"messageId": "<m2@brevo>"})
    sender = brevo(EMAIL_FROM="bookings@theroyalglow.in", EMAIL_REPLY_TO="care@x.in")

    sender.send(email(2, key="", attachments=[Attachment("INV-2.pdf", PDF)]))

    body = sent_json(api.calls[0])
    assert body["sender"] == {"email": "bookings@theroyalglow.in"}
    assert body["replyTo"] == {"email": "care@x.in"}
    assert body["attachment"] == [
        {"name": "INV-2.pdf", "content": base64.b64encode(PDF).decode()}
    ]
    assert "headers" not in body


def test_brevo_refuses_to_start_with_a_from_without_address():
    with pytest.raises(ConfigurationError):
        brevo(EMAIL_FROM="The Royal Glow")


BREVO_ANSWERS = {
    "created": (201, {"messageId": "<m@b>"}, {}, Outcome.SENT, None),
    "invalid address": (
        400,
        {"code": "invalid_parameter", "message": "email is not valid in to"},
        {},
        Outcome.PERMANENT,
        None,
    ),
    "bad key": (401, {"code": "unauthorized"}, {}, Outcome.PERMANENT, None),
    "rate limited": (
        429,
        {"code": "too_many_requests"},
        {"x-sib-ratelimit-reset": "12"},
        Outcome.TRANSIENT,
        12.0,
    ),
    "rate limited with retry-after": (
        429,
        {},
        {"Retry-After": "4", "x-sib-ratelimit-reset": "12"},
        Outcome.TRANSIENT,
        4.0,
    ),
    "server error": (500, {}, {}, Outcome.TRANSIENT, None),
    "bad gateway": (502, {}, {}, Outcome.TRANSIENT, None),
}


@pytest.mark.parametrize(
    "status, body, headers, outcome, wait",
    list(BREVO_ANSWERS.values()),
    ids=list(BREVO_ANSWERS),
)
def test_brevo_status_maps_to_outcome(api, status, body, headers, outcome, wait):
    api.post(f"{BREVO}/smtp/email", status=status, json=body, headers=headers)

    result = brevo().send(email(9))

    assert result.outcome is outcome
    assert result.retry_after == wait


def test_brevo_network_failure_is_transient(api):
    api.post(f"{BREVO}/smtp/email", body=requests.ConnectionError())

    assert brevo().send(email(9)).outcome is Outcome.TRANSIENT


def test_brevo_sends_a_batch_as_message_versions(api):
    api.post(
        f"{BREVO}/smtp/email",
        status=201,
        json={"messageIds": ["<a@b>", "<b@b>"]},
    )

    results = brevo().send_many([email(1), email(2)])

    assert [(r.outcome, r.detail) for r in results] == [
        (Outcome.SENT, "<a@b>"),
        (Outcome.SENT, "<b@b>"),
    ]
    keys = "appointment-reminder:1\nappointment-reminder:2"
    batch = hashlib.sha256(keys.encode()).hexdigest()
    assert sent_json(api.calls[0]) == {
        "sender": {"name": "The Royal Glow", "email": "noreply@theroyalglow.in"},
        "headers": {"idempotencyKey": str(uuid.uuid5(KEY_NAMESPACE, batch))},
        "subject": "Your booking 1",
        "htmlContent": "<p>See you soon 1</p>",
        "textContent": "See you soon 1\n",
        "messageVersions": [
            {
                "to": [{"email": f"guest{n}@example.com"}],
                "subject": f"Your booking {n}",
                "htmlContent": f"<p>See you soon {n}</p>",
                "textContent": f"See you soon {n}\n",
            }
            for n in (1, 2)
        ],
    }


def test_brevo_batch_refused_for_one_bad_address_is_resent_one_by_one(api):
    def answer(request):
        body = json.loads(request.body)
        if "messageVersions" in body:
            return 400, {}, json.dumps({"code": "invalid_parameter"})
        if body["to"] == [{"email": "guest2@example.com"}]:
            return 400, {}, json.dumps({"code": "invalid_parameter", "message": "to"})
        return 201, {}, json.dumps({"messageId": f"<{body['to'][0]['email']}>"})

    api.add_callback(responses.POST, f"{BREVO}/smtp/email", callback=answer)

    results = brevo().send_many([email(1), email(2), email(3)])

    assert [r.outcome for r in results] == [
        Outcome.SENT,
        Outcome.PERMANENT,
        Outcome.SENT,
    ]
    assert len(api.calls) == 4


def test_brevo_whole_batch_rate_limited_is_transient_for_every_email(api):
    api.post(f"{BREVO}/smtp/email", status=429, json={}, headers={"Retry-After": "9"})

    results = brevo().send_many([email(1), email(2)])

    assert [(r.outcome, r.retry_after) for r in results] == [
        (Outcome.TRANSIENT, 9.0)
    ] * 2
    assert len(api.calls) == 1


def test_brevo_batch_with_shared_tags_carries_them_once(api):
    api.post(f"{BREVO}/smtp/email", status=201, json={"messageIds": ["a", "b"]})
    tags = {"job": "birthday-emails"}

    brevo().send_many([email(1, tags=tags), email(2, tags=tags)])

    assert sent_json(api.calls[0])["tags"] == ["job:birthday-emails"]
