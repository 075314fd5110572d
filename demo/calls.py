"""Call every job route once, signed as QStash signs, and collect the answers."""

import json
import secrets
from dataclasses import dataclass

from jobs.catalog import JOBS
from ops.signing import sign


@dataclass(frozen=True)
class Call:
    job: str
    body: bytes
    scheduled: bool
    status: int = 0
    answer: str = ""


def planned_calls(payloads):
    """One call per route in catalog order: empty bodies for scheduled jobs,
    the named demo record for triggered ones."""
    return [
        Call(
            spec.name,
            b"" if spec.cron else json.dumps(payloads.get(spec.name, {})).encode(),
            scheduled=bool(spec.cron),
        )
        for spec in JOBS
    ]


def fire(send, signed_base, key, payloads):
    """POST each planned call through `send(path, body, headers)`, which
    returns (status, text), with the headers QStash sends; the token's
    subject is `signed_base` + path."""
    answered = []
    for call in planned_calls(payloads):
        path = f"/api/jobs/{call.job}"
        headers = {
            "Upstash-Signature": sign(key, signed_base + path, call.body),
            "Upstash-Message-Id": f"msg_demo_{secrets.token_hex(8)}",
            "Upstash-Retried": "0",
            "Content-Type": "application/json",
        }
        if call.scheduled:
            headers["Upstash-Schedule-Id"] = f"scd_demo_{call.job}"
        status, text = send(path, call.body, headers)
        answered.append(Call(call.job, call.body, call.scheduled, status, text.strip()))
    return answered


def report(calls):
    """Lines for people: each route's status and body, then a count."""
    width = max(len(call.job) for call in calls) + len("POST /api/jobs/")
    lines = [
        f"{'POST /api/jobs/' + call.job:<{width}}  {call.status}  {call.answer}"
        for call in calls
    ]
    ok = sum(call.status == 200 for call in calls)
    lines.append(f"{len(calls)} routes called: {ok} answered 200")
    return lines
