"""`flask` commands: the database, and the jobs (run, sign, enqueue, schedules)."""

import json
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import wraps

import click
from flask import current_app
from flask.cli import AppGroup
from peewee import DatabaseError
from qstash.errors import QStashError

from clock import IST, as_utc, format_ist, utc_iso
from exceptions import ConfigurationError
from jobs.catalog import JOBS
from models import db

db_cli = AppGroup("db", help="Create, migrate and fill the database.")
jobs_cli = AppGroup("jobs", help="List, run, sign, enqueue and schedule the jobs.")
schedules_cli = AppGroup("schedules", help="Keep QStash's schedules as the code says.")
jobs_cli.add_command(schedules_cli)

JOB_NAMES = click.Choice([spec.name for spec in JOBS])


@contextmanager
def connected():
    """Use the open connection, or open one for the command and close it after."""
    opened = db.is_closed()
    if opened:
        db.connect()
    try:
        yield
    finally:
        if opened and not db.is_closed():
            db.close()


def fail_clearly(command):
    """Turn a missing setting or a refusal by QStash into a one-line error."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (ConfigurationError, QStashError) as error:
            raise click.ClickException(str(error)) from error
        except DatabaseError as error:
            raise click.ClickException(
                f"the database answered: {str(error).splitlines()[0]} "
                "(is DATABASE_URL right, and has `flask --app app db migrate` run?)"
            ) from error

    return wrapper


# Database


@db_cli.command("create")
def db_create():
    """Create every missing table and apply the service's migrations."""
    _migrate()


@db_cli.command("migrate")
def db_migrate():
    """Bring the schema up to date (the Procfile's release phase runs this)."""
    _migrate()


def _migrate():
    from ops.migrate import migrate

    with connected():
        created, applied = migrate()
    for name in created:
        click.echo(f"db: created platform table {name}")
    for name in applied:
        click.echo(f"db: applied migration {name}")
    click.echo("db: schema is up to date")


@db_cli.command("seed")
@click.option("--customers", default=300, show_default=True, help="How many.")
@click.option("--seed", "seed_value", default=7, help="Random seed, for the same data.")
def db_seed(customers, seed_value):
    """Load realistic demo data around the current time (empty database only)."""
    from demo.seed import seed

    now = current_app.extensions["clock"].now()
    with connected():
        _migrate()
        try:
            rows = seed(now, customers=customers, seed=seed_value)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"db: demo data loaded as of {format_ist(now)} IST")
    for table, count in rows.counts.items():
        click.echo(f"  {table:<20} {count:>5}")


# Jobs


@jobs_cli.command("list")
@fail_clearly
def jobs_list():
    """Every job: its kind, its cron in UTC and in IST, its last run."""
    from ops.cron import describe_ist
    from ops.history import last_run_by_job

    with connected():
        last = last_run_by_job()
    rows = []
    for spec in JOBS:
        run = last.get(spec.name)
        rows.append(
            (
                spec.name,
                spec.kind,
                spec.cron
                or (
                    f"{_delay(spec.delay)} after the event"
                    if spec.delay
                    else "as the event happens"
                ),
                describe_ist(spec.cron) if spec.cron else "-",
                f"{_ist(run.started_at)} {run.outcome}" if run else "never",
            )
        )
    _table(("JOB", "KIND", "CRON (UTC unless CRON_TZ)", "IST", "LAST RUN (IST)"), rows)


FUTURE_SLACK = timedelta(minutes=5)


@jobs_cli.command("run")
@click.argument("name", type=JOB_NAMES, metavar="NAME")
@click.option("--at", "at", help="ISO-8601 instant to run as of (naive = IST).")
@click.option("--payload", default=None, help="JSON object, the request body.")
@click.option("--yes", is_flag=True, help="Run as of a future instant all the same.")
def jobs_run(name, at, payload, yes):
    """Run a job in-process as of an instant and print its response.

    It works on the configured database: as of an instant more than five
    minutes ahead it changes real rows as if that time had come, so that
    needs --yes.
    """
    from ops.run import run_job

    real_now = current_app.extensions["clock"].now()
    now = _instant(at) if at else real_now
    body = _payload(payload)
    if now - real_now > FUTURE_SLACK and not yes:
        raise click.UsageError(
            f"--at is {format_ist(now)} IST, after now: {name} would change the "
            "database as if that time had come (memberships and gems expired, "
            "notices sent and logged early). Add --yes if that is what you want."
        )

    with connected():
        answer = run_job(current_app._get_current_object(), name, now, body)
    click.echo(f"{name} as of {utc_iso(now)} ({format_ist(now)} IST): {answer.status}")
    click.echo(
        json.dumps(answer.body, default=str)
        if isinstance(answer.body, dict)
        else answer.body
    )
    if answer.status != 200:
        raise SystemExit(1)


@jobs_cli.command("sign")
@click.argument("name", type=JOB_NAMES, metavar="NAME")
@click.option("--payload", default=None, help="JSON object, the request body.")
@click.option(
    "--url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="The server to call.",
)
@click.option(
    "--ttl",
    default=300,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seconds it stays valid.",
)
@fail_clearly
def jobs_sign(name, payload, url, ttl):
    """Print a curl command with a valid Upstash-Signature for a running server.

    It is signed with QSTASH_CURRENT_SIGNING_KEY for the URL the server checks:
    PUBLIC_BASE_URL's when that is set, else --url's.
    """
    from ops.signing import curl_command, sign

    config = current_app.config
    body = b"" if payload is None else json.dumps(_payload(payload)).encode()
    target = f"{url.rstrip('/')}/api/jobs/{name}"
    signed_for = (
        f"{config['PUBLIC_BASE_URL'].rstrip('/')}/api/jobs/{name}"
        if config.get("PUBLIC_BASE_URL")
        else target
    )

    token = sign(config.get("QSTASH_CURRENT_SIGNING_KEY"), signed_for, body, ttl=ttl)
    click.echo(f"# signed for {signed_for}, valid for {ttl} s", err=True)
    click.echo(curl_command(target, token, body))


@jobs_cli.command("history")
@click.argument("name", type=JOB_NAMES, metavar="[NAME]", required=False)
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many runs.",
)
@fail_clearly
def jobs_history(name, limit):
    """The latest runs, and each scheduled job's last success; stale ones flagged."""
    from ops.history import health, latest_runs

    now = current_app.extensions["clock"].now()
    with connected():
        runs = latest_runs(name, limit)
        states = health(now, name)

    _table(
        (
            "STARTED (IST)",
            "JOB",
            "OUTCOME",
            "PROCESSED",
            "RETRY",
            "TOOK",
            "MESSAGE",
            "SCHEDULE",
            "ERROR",
        ),
        [
            (
                _ist(run.started_at),
                run.job,
                run.outcome,
                "-" if run.processed is None else run.processed,
                run.retried,
                _took(run),
                run.message_id or "-",
                run.schedule_id or "-",
                (run.error or "")[:60],
            )
            for run in runs
        ],
        empty="no runs recorded yet",
    )
    if not states:
        return
    click.echo()
    _table(
        ("SCHEDULED JOB", "EVERY", "LAST SUCCESS (IST)", "STATUS"),
        [
            (
                state.job,
                _delay(state.period),
                _ist(state.last_success) if state.last_success else "never",
                ("STALE: " if state.stale else "") + state.note,
            )
            for state in states
        ],
    )


@jobs_cli.command("enqueue")
@click.argument("name", type=JOB_NAMES, metavar="NAME")
@click.option("--payload", default=None, help="JSON object naming the record.")
@click.option("--not-before", help="ISO-8601 instant to deliver at (naive = IST).")
@click.option("--dedup-id", help="Deduplication id; default: job + payload digest.")
@fail_clearly
def jobs_enqueue(name, payload, not_before, dedup_id):
    """Publish a job to QStash with its delay, once per event."""
    from ops.enqueue import enqueue

    result = enqueue(
        name,
        _payload(payload),
        not_before=_instant(not_before) if not_before else None,
        deduplication_id=dedup_id,
    )
    if result.deduplicated:
        click.echo(
            f"{name}: already enqueued as {result.message_id}, nothing new "
            f"(dedup id {result.deduplication_id})"
        )
    else:
        click.echo(
            f"{name}: enqueued as {result.message_id}, due {_ist(result.deliver_at)} "
            f"IST (dedup id {result.deduplication_id})"
        )


@schedules_cli.command("sync")
@click.option("--dry-run", is_flag=True, help="Print the changes, make none.")
@fail_clearly
def schedules_sync(dry_run):
    """Create, update and delete QStash schedules to match the catalog."""
    from ops.schedules import sync

    plan = sync(current_app.config, dry_run=dry_run)
    for wanted in plan.create:
        click.echo(
            f"+ create {wanted.job}: {wanted.cron}, retries {wanted.retries}, "
            f"{wanted.destination} (id {wanted.schedule_id})"
        )
    for _, wanted, changes in plan.update:
        click.echo(f"~ update {wanted.job}: {'; '.join(changes)}")
    for schedule in plan.delete:
        click.echo(
            f"- delete {schedule.schedule_id}: {schedule.cron}, "
            f"{schedule.destination} (not in the catalog)"
        )
    if dry_run:
        done = ("to create", "to update", "to delete")
    else:
        done = ("created", "updated", "deleted")
    click.echo(
        f"schedules: {len(plan.create)} {done[0]}, {len(plan.update)} {done[1]}, "
        f"{len(plan.delete)} {done[2]}, {len(plan.unchanged)} unchanged"
    )
    if dry_run:
        click.echo(
            f"dry run: nothing was changed ({plan.changes} change(s) would be made)"
        )


# Formatting


def _table(headers, rows, empty=None):
    if not rows:
        click.echo(empty or "(none)")
        return
    cells = [tuple(str(c) for c in row) for row in rows]
    widths = [
        max(len(str(v)) for v in column) for column in zip(headers, *cells, strict=True)
    ]
    for row in (headers, *cells):
        line = "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True))
        click.echo(line.rstrip())


def _ist(instant):
    return as_utc(instant).astimezone(IST).strftime("%Y-%m-%d %H:%M")


def _took(run):
    if run.finished_at is None:
        return "-"
    return f"{(run.finished_at - run.started_at).total_seconds():.1f}s"


def _delay(delay):
    if not delay:
        return "at once"
    minutes = int(delay / timedelta(minutes=1))
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return f"{days} day" + ("s" if days > 1 else "")
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"


def _instant(text):
    """Parse ISO-8601; a time without an offset is read as IST."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise click.BadParameter(f"not an ISO-8601 instant: {text!r}") from error
    if value.tzinfo is None:
        value = value.replace(tzinfo=IST)
    try:
        return as_utc(value)
    except OverflowError as error:
        raise click.BadParameter(f"out of range: {text!r}") from error


def _payload(text):
    if text is None:
        return {}
    try:
        payload = json.loads(text)
    except ValueError as error:
        raise click.BadParameter(f"--payload is not JSON: {error}") from error
    if not isinstance(payload, dict):
        raise click.BadParameter("--payload must be a JSON object")
    return payload


def register(app):
    app.cli.add_command(db_cli)
    app.cli.add_command(jobs_cli)
