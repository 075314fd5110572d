"""The whole benchmark in one command: python -m bench

Seeds the chain-scale database and two smaller ones, times every job, times
each job again without the indexes it depends on, runs the send benchmark
(Resend and Brevo) and the dispatch timing,
then writes bench/out/report.md, the tables of the README's Benchmarks section.
About 15 minutes on 2 cores; everything stays on 127.0.0.1.

    python -m bench                # everything
    python -m bench --skip-seed    # reuse the seeded databases
"""

import argparse
import subprocess
import sys

from bench.common import OUT, bench_url, with_database

SIZES = (("jobs_bench_1k", "0.002"), ("jobs_bench_100k", "0.2"))

# The indexes the service's migrations add, and the jobs that use them.
INDEX_GROUPS = (
    (
        ("push_subscription_customer_id", "push_subscription_staff_id"),
        "appointment-reminders,membership-expiry,lead-followups,"
        "gems-expiry-reminder,membership-usage-nudges",
    ),
    (
        ("booking_completed_at", "booking_created_at", "booking_cancelled_at"),
        "daily-sales-report,weekly-report,nightly-sales-summary",
    ),
    (("notification_log_usage_nudge",), "membership-usage-nudges"),
    (("customer_birthday",), "birthday-emails"),
    (("invoice_booking_id",), "invoice-pdf (by booking)"),
)


def step(*args):
    """Run one bench module; stop everything if it fails."""
    command = [sys.executable, "-m", *args]
    print("bench: " + " ".join(args), flush=True)
    if subprocess.run(command).returncode != 0:
        raise SystemExit(f"bench: {args[0]} failed")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-seed", action="store_true")
    args = parser.parse_args(argv)
    url = bench_url()

    if not args.skip_seed:
        step("bench.seed", "--url", url)
        for name, scale in SIZES:
            step("bench.seed", "--url", with_database(url, name), "--scale", scale)
    step("bench.run", "--url", url)
    for name, _ in SIZES:
        step("bench.run", "--url", with_database(url, name), "--repeat", "1")
    for indexes, jobs in INDEX_GROUPS:
        dropped = [arg for index in indexes for arg in ("--without-index", index)]
        step("bench.run", "--url", url, "--jobs", jobs, *dropped)
    for provider in ("resend", "brevo"):
        step("bench.sends", "--provider", provider)
    step("bench.dispatch")

    report = OUT / "report.md"
    with report.open("w") as out:
        subprocess.run([sys.executable, "-m", "bench.report"], stdout=out, check=True)
    print(f"bench: tables in {report}")


if __name__ == "__main__":
    main()
