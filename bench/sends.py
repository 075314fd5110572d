"""Notify 2,000 customers by push and email through a slow, rate-limited provider.

    python -m bench.sends                      # Resend, 100 ms, 5 email calls/s
    python -m bench.sends --provider brevo --customers 2000

A fake provider on 127.0.0.1 (bench/fakeprovider.py) answers every call after
100 ms and lets through 5 email calls a second (429 with Retry-After past
that). 2,000 customers, each with an email address, one browser push
subscription and a booking starting in 30 minutes, go into a fresh database
(jobs_bench_sends). Then appointment-reminders is delivered the way QStash
delivers it, a signed POST to its route, with the real senders (ResendSender
or BrevoSender, WebPushSender with a generated VAPID key) and the real
notifier, which waits out the provider's 429 Retry-After inside the run while
the time budget allows. When the route answers 503 (time budget) or 500 (a
transient failure, such as a 429 it could not wait out) the delivery is
repeated at once, as QStash would after its back-off, until it answers 200.
Sent one at a time the 4,000 sends would take 4,000 x 100 ms = 400 s.
"""

import argparse
import base64
import os
import time
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bench.common import bench_url, recreate_database, with_database, write_json
from bench.fakeprovider import FakeProvider

JOB = "appointment-reminders"
MAX_DELIVERIES = 8
SIGNING_KEY = "sig_bench_local_only_" + "0" * 16


def b64url(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def vapid_private_key():
    """A fresh VAPID key in the raw base64url form VAPID_PRIVATE_KEY takes."""
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def browser_keys():
    """A browser's p256dh public key and auth secret, as a subscription holds them."""
    key = ec.generate_private_key(ec.SECP256R1())
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(point), b64url(os.urandom(16))


def fill(customers, endpoint_base, now):
    """Customers with an address, a push subscription and a booking in 30 minutes."""
    from models import Booking, Branch, Customer, PushSubscription, Service, db

    p256dh, auth = browser_keys()
    with db.atomic():
        Branch.create(id="br_1", name="Indiranagar", state_code="29")
        Service.create(id="svc_1", name="Swedish Massage (60 min)")
        Customer.insert_many(
            [
                {
                    "id": f"cus_{n:05d}",
                    "name": f"Customer {n}",
                    "email": f"cus{n}@bench.invalid",
                    "marketing_consent": True,
                }
                for n in range(customers)
            ]
        ).execute()
        PushSubscription.insert_many(
            [
                {
                    "id": f"ps_{n:05d}",
                    "customer": f"cus_{n:05d}",
                    "endpoint": f"{endpoint_base}/push/{n:05d}",
                    "p256dh": p256dh,
                    "auth": auth,
                }
                for n in range(customers)
            ]
        ).execute()
        start = now + timedelta(minutes=30)
        Booking.insert_many(
            [
                {
                    "id": f"bk_{n:05d}",
                    "customer": f"cus_{n:05d}",
                    "branch": "br_1",
                    "service": "svc_1",
                    "status": "confirmed",
                    "start_time": start,
                    "end_time": start + timedelta(hours=1),
                    "created_at": now - timedelta(days=2),
                    "updated_at": now - timedelta(days=2),
                }
                for n in range(customers)
            ]
        ).execute()


def config_for(args, url, fake, now):
    from clock import FixedClock

    config = {
        "DATABASE_URL": url,
        "CLOCK": FixedClock(now),
        "LOG_LEVEL": "CRITICAL",  # the fake's counts say what went wrong
        "QSTASH_CURRENT_SIGNING_KEY": SIGNING_KEY,
        "QSTASH_NEXT_SIGNING_KEY": SIGNING_KEY,
        "VAPID_PRIVATE_KEY": vapid_private_key(),
        "VAPID_SUBJECT": "mailto:bench@bench.invalid",
        "APP_URL": "https://app.bench.invalid",
        "JOB_TIME_BUDGET": args.budget,
        "PUSH_CONCURRENCY": args.push_concurrency,
        "RESEND_API_URL": fake.url,
        "BREVO_API_URL": fake.url,
        "SLACK_API_URL": fake.url,
        "HTTP_TIMEOUT": 10.0,
    }
    if args.provider == "resend":
        config["RESEND_API_KEY"] = "re_bench_local_only"
    else:
        config["BREVO_API_KEY"] = "xkeysib-bench-local-only"
    return config


def deliver(client):
    """One signed POST to the job's route, as QStash sends it."""
    from ops.signing import sign

    path = f"/api/jobs/{JOB}"
    token = sign(SIGNING_KEY, f"http://localhost{path}")
    started = time.perf_counter()
    response = client.post(path, data=b"", headers={"Upstash-Signature": token})
    return {
        "status": response.status_code,
        "seconds": round(time.perf_counter() - started, 2),
        "retry_after": response.headers.get("Retry-After"),
        "body": response.get_data(as_text=True)[:200],
    }


def log_counts():
    from models import NotificationLog as Log

    rows = (
        Log.select(Log.channel, Log.status, Log.attempts)
        .tuples()
        .iterator()  # two rows per customer: stream them
    )
    counts = {}
    for channel, status, attempts in rows:
        key = f"{channel} {status} (attempts {attempts})"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds")
    parser.add_argument("--email-rate", type=int, default=5, help="calls a second")
    parser.add_argument("--provider", choices=("resend", "brevo"), default="resend")
    parser.add_argument("--budget", type=float, default=20.0, help="JOB_TIME_BUDGET")
    parser.add_argument("--push-concurrency", type=int, default=32)
    parser.add_argument("--url", help="database URL (default: jobs_bench_sends)")
    args = parser.parse_args(argv)
    url = bench_url(
        args.url or with_database(bench_url(), "jobs_bench_sends"),
    )

    from app import create_app
    from models import create_tables, db

    now = datetime.now(UTC).replace(microsecond=0)
    recreate_database(url)
    with FakeProvider(args.latency, args.email_rate) as fake:
        app = create_app(config_for(args, url, fake, now))
        with app.app_context():
            db.connect(reuse_if_open=True)
            create_tables()
            fill(args.customers, fake.url, now)
            db.close()
        client = app.test_client()

        print(
            f"sends: {args.customers:,} customers, push + email via {args.provider}, "
            f"{args.latency * 1000:.0f} ms per call, email {args.email_rate} calls/s, "
            f"budget {args.budget:g} s, push pool {args.push_concurrency}"
        )
        deliveries = []
        started = time.perf_counter()
        while len(deliveries) < MAX_DELIVERIES:
            answer = deliver(client)
            deliveries.append(answer)
            wait = answer["retry_after"]
            print(
                f"  delivery {len(deliveries)}: {answer['status']} in "
                f"{answer['seconds']:.2f} s" + (f", Retry-After {wait}" if wait else "")
            )
            if answer["status"] == 200:
                break
        total = time.perf_counter() - started

        received = fake.received()
        with app.app_context():
            db.connect(reuse_if_open=True)
            counts = log_counts()
            db.close()

    result = {
        "customers": args.customers,
        "provider": args.provider,
        "latency_s": args.latency,
        "email_rate": args.email_rate,
        "budget_s": args.budget,
        "push_concurrency": args.push_concurrency,
        "deliveries": deliveries,
        "seconds_in_route": round(sum(d["seconds"] for d in deliveries), 2),
        "seconds_total": round(total, 2),
        "received": received,
        "log": counts,
        "sequential_estimate_s": round(2 * args.customers * args.latency, 1),
    }
    print(
        f"sends: {received['pushes']:,} pushes and {received['emails']:,} emails in "
        f"{result['seconds_in_route']:.1f} s over {len(deliveries)} delivery(ies); "
        f"{received['email_requests']} email calls, {received['rate_limited']} "
        f"answered 429; {received['received_twice']} received twice; at most "
        f"{received['most_in_flight']} calls in flight"
    )
    for key, count in counts.items():
        print(f"  log: {key:<40} {count:>6,}")
    print(f"sends: one at a time this would take {result['sequential_estimate_s']} s")
    write_json(f"sends-{args.provider}.json", result)


if __name__ == "__main__":
    main()
