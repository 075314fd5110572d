"""`flask jobs list | run | sign | history`."""

import dataclasses
import shlex
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from jobs.catalog import BY_NAME
from models import JobRun, Offer
from ops.signing import sign
from tests import factories as f
from tests.qstash_tokens import CURRENT_KEY, body_hash

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)  # the clock fixture's 15:30 IST


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=list(args))

    return invoke


@pytest.fixture
def recorded(monkeypatch):
    """Replace every job with one that records its context and answers."""
    calls = []

    def fake_job(ctx):
        calls.append(ctx)
        return {"success": True, "processed": len(calls)}

    for name, spec in list(BY_NAME.items()):
        monkeypatch.setitem(BY_NAME, name, dataclasses.replace(spec, run=fake_job))
    return calls


def run_row(job, started, outcome="success", processed=1, **kw):
    return JobRun.create(
        job=job,
        started_at=started,
        finished_at=started + timedelta(seconds=2),
        outcome=outcome,
        processed=processed,
        **kw,
    )


# list


def test_list_shows_every_job_with_its_cron_in_utc_and_ist_and_last_run(cli):
    run_row("appointment-reminders", NOW - timedelta(minutes=15))
    run_row("appointment-reminders", NOW, outcome="failed", processed=None)

    result = cli("jobs", "list")

    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    assert lines[0] == "JOB KIND CRON (UTC unless CRON_TZ) IST LAST RUN (IST)"
    assert lines[1] == (
        "appointment-reminders scheduled CRON_TZ=Asia/Kolkata */15 8-21 * * * "
        "every 15 min 08:00-21:45 daily 2026-12-04 15:30 failed"
    )
    assert lines[2] == "membership-expiry scheduled 0 19 * * * 00:30 daily never"
    assert lines[8] == "weekly-report scheduled 30 3 * * 1 09:00 on Mon never"
    assert lines[13] == "session-cleanup scheduled 0 21 * * 6 02:30 on Sun never"
    assert lines[14] == (
        "monthly-gst-summary scheduled CRON_TZ=Asia/Kolkata 0 1 1 * * "
        "01:00 on day 1 of the month never"
    )
    assert lines[15] == (
        "post-service-followup triggered 1 day after the event - never"
    )
    assert lines[19] == "invoice-pdf triggered as the event happens - never"
    assert len(lines) == 20


# run


def test_run_calls_the_job_as_of_the_instant_with_the_payload(cli, recorded):
    result = cli(
        "jobs",
        "run",
        "noshow-check",
        "--at",
        "2026-12-05T00:10",
        "--payload",
        '{"bookingId": "bk_1"}',
        "--yes",
    )

    assert result.exit_code == 0, result.output
    assert result.output == (
        "noshow-check as of 2026-12-04T18:40:00Z (Sat 5 Dec, 12:10 AM IST): 200\n"
        '{"success": true, "processed": 1}\n'
    )
    assert [(c.job, c.now, c.payload) for c in recorded] == [
        (
            "noshow-check",
            datetime(2026, 12, 4, 18, 40, tzinfo=UTC),
            {"bookingId": "bk_1"},
        )
    ]


def test_run_takes_an_instant_with_an_offset(cli, recorded):
    cli("jobs", "run", "session-cleanup", "--at", "2026-12-06T02:30:00+05:30", "--yes")

    assert recorded[0].now == datetime(2026, 12, 5, 21, 0, tzinfo=UTC)


def test_run_without_at_uses_the_apps_clock(cli, recorded):
    cli("jobs", "run", "birthday-emails")

    assert recorded[0].now == NOW
    assert recorded[0].payload == {}


def test_run_really_runs_the_job_at_that_instant(cli):
    f.offer(id="off_ended", end_date=datetime(2026, 12, 4).date())

    before_midnight = cli(
        "jobs", "run", "offer-auto-expire", "--at", "2026-12-04T23:59", "--yes"
    )
    after_midnight = cli(
        "jobs", "run", "offer-auto-expire", "--at", "2026-12-05T00:05", "--yes"
    )

    assert (
        before_midnight.output.splitlines()[-1] == '{"success": true, "processed": 0}'
    )
    assert after_midnight.output.splitlines()[-1] == '{"success": true, "processed": 1}'
    assert Offer.get_by_id("off_ended").is_active is False


def test_run_in_the_future_needs_yes_and_changes_nothing_without(cli):
    f.offer(id="off_later", end_date=datetime(2027, 1, 31).date())

    result = cli("jobs", "run", "offer-auto-expire", "--at", "2031-01-01T00:00")

    assert result.exit_code == 2
    assert "Add --yes if that is what you want" in result.output
    assert Offer.get_by_id("off_later").is_active is True


def test_run_records_no_delivery_in_the_history(cli, recorded):
    cli("jobs", "run", "birthday-emails")

    assert JobRun.select().count() == 0


def test_a_failing_run_prints_500_and_exits_non_zero(cli, monkeypatch):
    def broken(ctx):
        raise RuntimeError("database went away")

    spec = dataclasses.replace(BY_NAME["offer-auto-expire"], run=broken)
    monkeypatch.setitem(BY_NAME, "offer-auto-expire", spec)

    result = cli("jobs", "run", "offer-auto-expire")

    assert result.exit_code == 1
    assert result.output.splitlines()[-2:] == [
        "offer-auto-expire as of 2026-12-04T10:00:00Z (Fri 4 Dec, 3:30 PM IST): 500",
        "Job failed",
    ]


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["--payload", "{not json"], "--payload is not JSON"),
        (["--payload", "[1, 2]"], "--payload must be a JSON object"),
        (["--at", "tomorrow"], "not an ISO-8601 instant"),
        (["--at", "0001-01-01T00:00"], "out of range"),
    ],
)
def test_run_refuses_bad_options(cli, recorded, args, complaint):
    result = cli("jobs", "run", "noshow-check", *args)

    assert result.exit_code == 2
    assert complaint in result.output
    assert recorded == []


# sign


def curl_parts(output):
    words = shlex.split(output.strip().splitlines()[-1])
    assert words[:6] == ["curl", "-sS", "-i", "-X", "POST", words[5]]
    headers = dict(
        words[i + 1].split(": ", 1) for i, w in enumerate(words) if w == "-H"
    )
    return words[5], headers, words[words.index("--data-raw") + 1]


def test_sign_prints_a_curl_command_the_server_accepts(cli, client, recorded):
    result = cli(
        "jobs",
        "sign",
        "stale-booking-alert",
        "--payload",
        '{"bookingId": "bk_42"}',
        "--url",
        "http://localhost",
    )
    url, headers, data = curl_parts(result.output)

    response = client.post(
        url.removeprefix("http://localhost"), data=data.encode(), headers=headers
    )

    assert result.exit_code == 0, result.output
    assert url == "http://localhost/api/jobs/stale-booking-alert"
    assert headers["Content-Type"] == "application/json"
    assert response.status_code == 200
    assert recorded[0].payload == {"bookingId": "bk_42"}


def test_a_signature_for_one_route_is_refused_by_another(cli, client, recorded):
    result = cli("jobs", "sign", "birthday-emails", "--url", "http://localhost")
    _, headers, data = curl_parts(result.output)

    response = client.post("/api/jobs/session-cleanup", data=data, headers=headers)

    assert response.status_code == 401
    assert recorded == []


@pytest.mark.parametrize(
    "config_overrides", [{"PUBLIC_BASE_URL": "https://jobs.example.test"}]
)
def test_sign_signs_for_the_public_base_url_the_server_checks(cli):
    result = cli("jobs", "sign", "birthday-emails")
    url, headers, data = curl_parts(result.output)

    claims = jwt.decode(headers["Upstash-Signature"], CURRENT_KEY, algorithms=["HS256"])

    assert url == "http://127.0.0.1:5000/api/jobs/birthday-emails"
    assert claims["sub"] == "https://jobs.example.test/api/jobs/birthday-emails"
    assert claims["iss"] == "Upstash"
    assert claims["exp"] - claims["iat"] == 300
    assert data == ""


def test_sign_never_prints_the_signing_key(cli):
    result = cli("jobs", "sign", "birthday-emails")

    assert CURRENT_KEY not in result.output


def test_sign_without_a_signing_key_says_so(app, cli):
    app.config["QSTASH_CURRENT_SIGNING_KEY"] = None

    result = cli("jobs", "sign", "birthday-emails")

    assert result.exit_code == 1
    assert result.output.endswith("Error: QSTASH_CURRENT_SIGNING_KEY is not set\n")


def test_signature_body_claim_matches_the_exact_bytes():
    token = sign(CURRENT_KEY, "http://localhost/api/jobs/x", b'{"a": 1}', now=1000)

    claims = jwt.decode(
        token, CURRENT_KEY, algorithms=["HS256"], options={"verify_exp": False}
    )

    assert claims["body"] == body_hash(b'{"a": 1}')
    assert (claims["nbf"], claims["exp"]) == (1000, 1300)


# history


def test_history_lists_the_latest_runs_newest_first(cli):
    run_row(
        "birthday-emails",
        NOW - timedelta(hours=6),
        message_id="msg_26hVmqVEk",
        schedule_id="scd_birthday",
        retried=0,
        processed=12,
    )
    run_row(
        "noshow-check",
        NOW - timedelta(minutes=30),
        outcome="failed",
        processed=None,
        message_id="msg_7YoJxFpw",
        retried=2,
        error="OperationalError: connection reset at triggered.py:88",
    )

    result = cli("jobs", "history", "--limit", "5")

    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    assert result.exit_code == 0, result.output
    assert lines[:3] == [
        "STARTED (IST) JOB OUTCOME PROCESSED RETRY TOOK MESSAGE SCHEDULE ERROR",
        "2026-12-04 15:00 noshow-check failed - 2 2.0s msg_7YoJxFpw - "
        "OperationalError: connection reset at triggered.py:88",
        "2026-12-04 09:30 birthday-emails success 12 0 2.0s msg_26hVmqVEk scd_birthday",
    ]


def test_history_flags_a_job_whose_last_success_is_older_than_twice_its_period(cli):
    run_row("appointment-reminders", NOW - timedelta(minutes=20))
    run_row("birthday-emails", NOW - timedelta(days=2, minutes=1))
    run_row("membership-expiry", NOW - timedelta(days=1, hours=23))
    run_row("lead-followups", NOW - timedelta(days=3), outcome="failed")
    run_row("lead-followups", NOW - timedelta(hours=1), outcome="failed")

    result = cli("jobs", "history")

    section = result.output.split("\n\n")[1]
    lines = {
        line.split()[0]: " ".join(line.split()[1:]) for line in section.splitlines()
    }
    assert lines["appointment-reminders"] == "15 min 2026-12-04 15:10 ok"
    assert lines["birthday-emails"] == (
        "1 day 2026-12-02 15:29 STALE: last success older than twice its period"
    )
    assert lines["membership-expiry"] == "1 day 2026-12-02 16:30 ok"
    assert lines["lead-followups"] == (
        "1 day never STALE: no success since its first run"
    )
    assert lines["weekly-report"] == "7 days never never run"


def test_history_of_one_job_shows_only_its_runs(cli):
    run_row("birthday-emails", NOW - timedelta(days=1), message_id="msg_a")
    run_row("session-cleanup", NOW - timedelta(days=1), message_id="msg_b")

    result = cli("jobs", "history", "session-cleanup")

    assert "msg_b" in result.output
    assert "msg_a" not in result.output
    assert result.output.split("SCHEDULED JOB")[1].count("\n") == 2


def test_history_of_a_triggered_job_has_no_staleness_table(cli):
    run_row("invoice-pdf", NOW, message_id="msg_inv")

    result = cli("jobs", "history", "invoice-pdf")

    assert "msg_inv" in result.output
    assert "SCHEDULED JOB" not in result.output


def test_history_with_no_runs_says_so(cli):
    result = cli("jobs", "history", "invoice-pdf")

    assert result.output == "no runs recorded yet\n"


def test_history_reads_what_the_routes_record(cli, call_job, recorded):
    call_job("offer-auto-expire", headers={"Upstash-Message-Id": "msg_from_qstash"})

    result = cli("jobs", "history", "offer-auto-expire")

    row = result.output.splitlines()[1].split()
    assert row[:7] == [
        "2026-12-04",
        "15:30",
        "offer-auto-expire",
        "success",
        "1",
        "0",
        "0.0s",
    ]
    assert row[7] == "msg_from_qstash"
