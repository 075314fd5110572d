"""Time what every request pays before and after its job: verify, dispatch, answer.

    python -m bench.dispatch --requests 2000

A signed POST goes through the real route (body limit, Upstash-Signature
verified by qstash-py, the job_run row written and closed, the heartbeat
skipped for want of a URL, the JSON answer) with the job itself replaced by
one that does nothing, so that only the route's own cost is timed. The
database is PostgreSQL (jobs_bench_dispatch, made afresh). Signing the token
happens outside the timed part, as QStash does it elsewhere. Prints the
median and 95th percentile per request; those of the same route with the two
job_run writes made no-ops (what verification and dispatch cost by
themselves); and those of the signature check alone.
"""

import argparse
import dataclasses
import statistics
import time
from contextlib import contextmanager
from types import SimpleNamespace

from bench.common import bench_url, recreate_database, with_database, write_json

JOB = "offer-auto-expire"
KEY = "sig_bench_local_only_" + "1" * 16


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def ms(seconds):
    return round(seconds * 1000, 3)


class NoHistory:
    """Stands in for JobRun in the route: the history rows are not written."""

    id = 0  # the route's `JobRun.id == run.id` compares plain numbers here

    @staticmethod
    def create(**fields):
        return SimpleNamespace(id=0, **fields)

    @staticmethod
    def update(**fields):
        return SimpleNamespace(where=lambda *a: SimpleNamespace(execute=lambda: 1))


@contextmanager
def without_history():
    import blueprints.jobs

    real = blueprints.jobs.JobRun
    blueprints.jobs.JobRun = NoHistory
    try:
        yield
    finally:
        blueprints.jobs.JobRun = real


def timed_requests(client, path, called, count):
    from ops.signing import sign

    seconds = []
    for _ in range(count):
        token = sign(KEY, called)
        started = time.perf_counter()
        response = client.post(path, data=b"", headers={"Upstash-Signature": token})
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, response.data
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--url", help="database URL (default: jobs_bench_dispatch)")
    args = parser.parse_args(argv)
    url = bench_url(args.url or with_database(bench_url(), "jobs_bench_dispatch"))

    from app import create_app
    from jobs import catalog
    from models import create_tables, db
    from ops.signing import sign
    from signature import verify_request

    recreate_database(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "LOG_LEVEL": "WARNING",
            "QSTASH_CURRENT_SIGNING_KEY": KEY,
            "QSTASH_NEXT_SIGNING_KEY": KEY,
        }
    )
    with app.app_context():
        db.connect(reuse_if_open=True)
        create_tables()
        db.close()
    catalog.BY_NAME[JOB] = dataclasses.replace(
        catalog.BY_NAME[JOB], run=lambda ctx: {"success": True, "processed": 0}
    )
    client = app.test_client()
    path = f"/api/jobs/{JOB}"
    called = f"http://localhost{path}"

    routed = timed_requests(client, path, called, args.requests)
    with without_history():
        dispatched = timed_requests(client, path, called, args.requests)
    verified = []
    for _ in range(args.requests):
        token = sign(KEY, called)
        started = time.perf_counter()
        assert verify_request(app.config, token, b"", called)
        verified.append(time.perf_counter() - started)

    result = {
        "requests": args.requests,
        "route_median_ms": ms(statistics.median(routed)),
        "route_p95_ms": ms(percentile(routed, 0.95)),
        "dispatch_median_ms": ms(statistics.median(dispatched)),
        "dispatch_p95_ms": ms(percentile(dispatched, 0.95)),
        "verify_median_ms": ms(statistics.median(verified)),
        "verify_p95_ms": ms(percentile(verified, 0.95)),
    }
    print(
        f"dispatch: {args.requests} signed requests; route median "
        f"{result['route_median_ms']} ms (p95 {result['route_p95_ms']} ms); "
        f"without the job_run writes {result['dispatch_median_ms']} ms "
        f"(p95 {result['dispatch_p95_ms']} ms); signature check alone "
        f"{result['verify_median_ms']} ms (p95 {result['verify_p95_ms']} ms)"
    )
    write_json("dispatch.json", result)


if __name__ == "__main__":
    main()
