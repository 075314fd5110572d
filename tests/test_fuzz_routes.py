"""Hostile requests against every route: never a 5xx, never work unsigned.

Hypothesis draws methods, paths, headers, bodies and signatures (see
reliability/hostile.py); a fixed seed keeps the sample the same in CI.
`python -m reliability` sends many more through gunicorn.
"""

import dataclasses
import inspect
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings

from jobs.catalog import BY_NAME, JOBS
from models import JobRun
from reliability.hostile import (
    OUT_OF_RANGE_RETRIED,
    Hostile,
    expected_status,
    hostile_requests,
    prepare,
)
from tests.qstash_tokens import CURRENT_KEY, NEXT_KEY

LIMIT = 64 * 1024
# The URL QStash calls; forwarded headers in the fuzz then must not matter.
PUBLIC = "https://jobs.theroyalglow.in"

SAMPLE = settings(
    max_examples=250,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@pytest.fixture
def config_overrides():
    return {"PUBLIC_BASE_URL": PUBLIC}


@pytest.fixture
def ran(monkeypatch):
    """Replace every job with a recorder of (route, payload)."""
    calls = []

    def recorder(name):
        def run(ctx):
            calls.append((name, ctx.payload))
            return {"success": True, "processed": 0}

        return run

    for spec in JOBS:
        replaced = dataclasses.replace(spec, run=recorder(spec.name))
        monkeypatch.setitem(BY_NAME, spec.name, replaced)
    return calls


def send(client, hostile):
    prepared = prepare(hostile, PUBLIC, CURRENT_KEY, NEXT_KEY, LIMIT)
    # The raw bytes as a stream: given `data`, the test client would encode an
    # empty multipart or form body itself.
    response = client.open(
        hostile.path,
        method=hostile.method,
        input_stream=io.BytesIO(hostile.body),
        content_length=len(hostile.body),
        headers=prepared.headers,
    )
    return response, prepared


@SAMPLE
@given(hostile=hostile_requests())
def test_hostile_request_gets_its_exact_answer_and_runs_only_when_signed(
    client, ran, hostile
):
    runs_before = JobRun.select().count()
    calls_before = len(ran)

    response, prepared = send(client, hostile)

    assert response.status_code == expected_status(hostile, prepared, LIMIT), hostile
    if prepared.runs_job:
        assert ran[calls_before:] == [(hostile.route, _payload(hostile.body))]
        assert JobRun.select().count() == runs_before + 1
    else:
        assert ran[calls_before:] == []
        assert JobRun.select().count() == runs_before


def _payload(body):
    try:
        value = json.loads(body) if body else {}
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _written(spec):
    """False while a job is still the placeholder that raises NotImplementedError."""
    return "raise NotImplementedError" not in inspect.getsource(spec.run)


WRITTEN = [spec for spec in JOBS if _written(spec)]


@SAMPLE
@given(hostile=hostile_requests())
def test_written_jobs_never_fail_on_a_signed_hostile_request(client, hostile):
    spec = BY_NAME.get(hostile.route or "")
    if spec is None or spec not in WRITTEN:
        return
    signed = dataclasses.replace(
        hostile, method="POST", signature="valid", body=hostile.body[:LIMIT]
    )

    response, prepared = send(client, signed)

    assert response.status_code < 500, (signed.describe(), response.data[:200])


NASTY_VALUES = ["\x00", "bk_\x00", "x" * 5000, 2**70, -1, 1.5, ["bk_1"], {}, None]
NASTY_FIELDS = ["bookingId", "membershipId", "invoiceId", "date", "month"]


@pytest.mark.parametrize("spec", WRITTEN, ids=lambda spec: spec.name)
def test_written_job_answers_nasty_payload_fields_without_a_server_error(client, spec):
    for field in NASTY_FIELDS:
        for value in NASTY_VALUES:
            hostile = Hostile(
                method="POST",
                route=spec.name,
                path=f"/api/jobs/{spec.name}",
                headers=(("Content-Type", "application/json"),),
                body=json.dumps({field: value}).encode(),
                signature="valid",
            )

            response, _ = send(client, hostile)

            assert response.status_code < 500, (field, value, response.data[:200])


# Upstash-Retried is not covered by the signature: any value is clamped.
@pytest.mark.parametrize("value", OUT_OF_RANGE_RETRIED)
def test_out_of_range_upstash_retried_is_not_a_server_error(client, ran, value):
    hostile = Hostile(
        method="POST",
        route="offer-auto-expire",
        path="/api/jobs/offer-auto-expire",
        headers=(("Upstash-Retried", value),),
        body=b"",
        signature="valid",
    )

    response, _ = send(client, hostile)

    assert response.status_code == 200
    assert ran == [("offer-auto-expire", {})]


class BrokenChunks(io.RawIOBase):
    """A request body whose chunked framing is broken, as gunicorn reads it."""

    def readable(self):
        return True

    def readinto(self, buffer):
        from gunicorn.http.errors import InvalidChunkSize

        raise InvalidChunkSize(b"zz")


# blueprints.jobs.read_body reads request.stream without a guard: gunicorn
# raises InvalidChunkSize from that read for a chunked body with a bad chunk
# size line, before the signature is looked at, and the request is a 500.
def test_body_with_broken_chunked_framing_is_a_bad_request(client, ran):
    response = client.post(
        "/api/jobs/offer-auto-expire",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={
            "wsgi.input": BrokenChunks(),
            "wsgi.input_terminated": True,  # as gunicorn says of chunked bodies
        },
    )

    assert response.status_code == 400
    assert ran == []
