"""Better Stack heartbeats: which URL is pinged, and that a failed ping never raises."""

import logging

import pytest
import requests
import responses

from senders import Heartbeat
from tests.sender_support import make_config, refuse_remote_connections

URL = "https://uptime.betterstack.test/api/v1/heartbeat/hb_token_1"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    refuse_remote_connections(monkeypatch)


@pytest.fixture
def api():
    with responses.RequestsMock() as mock:
        yield mock


def heartbeat(**settings):
    values = {"BETTER_STACK_HEARTBEAT_APPOINTMENT_REMINDERS": URL}
    values.update(settings)
    return Heartbeat(make_config(**values))


def test_success_pings_the_jobs_url(api):
    api.post(URL)

    assert heartbeat().ping("appointment-reminders") is True

    assert [call.request.url for call in api.calls] == [URL]


@pytest.mark.parametrize("configured", [URL, URL + "/"], ids=["plain", "slash"])
def test_failure_pings_the_fail_url(api, configured):
    api.post(URL + "/fail")
    beat = heartbeat(BETTER_STACK_HEARTBEAT_APPOINTMENT_REMINDERS=configured)

    assert beat.ping("appointment-reminders", failed=True) is True

    assert [call.request.url for call in api.calls] == [URL + "/fail"]


def test_job_without_a_url_is_not_pinged(api):
    assert heartbeat().ping("session-cleanup") is False

    assert len(api.calls) == 0


def test_each_job_reads_its_own_variable(api):
    other = "https://uptime.betterstack.test/api/v1/heartbeat/hb_gst"
    api.post(other)
    beat = heartbeat(BETTER_STACK_HEARTBEAT_MONTHLY_GST_SUMMARY=other)

    assert beat.ping("monthly-gst-summary") is True

    assert [call.request.url for call in api.calls] == [other]


@pytest.mark.parametrize("timeout, expected", [(2.0, 2.0), (30.0, 5.0)])
def test_ping_has_a_timeout_of_at_most_five_seconds(api, timeout, expected):
    api.post(URL)

    heartbeat(HTTP_TIMEOUT=timeout).ping("appointment-reminders")

    assert api.calls[0].request.req_kwargs["timeout"] == expected


@pytest.mark.parametrize("status", [404, 500, 503])
def test_refused_ping_answers_false_and_logs(api, caplog, status):
    api.post(URL, status=status)

    with caplog.at_level(logging.WARNING, logger="senders"):
        assert heartbeat().ping("appointment-reminders") is False

    assert f"heartbeat: appointment-reminders ping answered {status}" in caplog.text


@pytest.mark.parametrize(
    "error",
    [requests.ReadTimeout(), requests.ConnectionError()],
    ids=["timeout", "down"],
)
def test_unreachable_heartbeat_answers_false_without_leaking_the_url(
    api, caplog, error
):
    api.post(URL, body=error)

    with caplog.at_level(logging.DEBUG, logger="senders"):
        assert heartbeat().ping("appointment-reminders") is False

    assert "heartbeat: appointment-reminders ping failed" in caplog.text
    assert "hb_token_1" not in caplog.text


def test_malformed_url_answers_false(api):
    beat = heartbeat(BETTER_STACK_HEARTBEAT_APPOINTMENT_REMINDERS="not a url")

    assert beat.ping("appointment-reminders") is False
