"""Make QStash's schedules match the catalog: create, update, delete.

The catalog (jobs/catalog.py) is the one table of crons and retries. Every
scheduled job gets a schedule with a stable id built from the job's name and
the host of PUBLIC_BASE_URL, so that a second sync updates in place and two
deployments sharing a QStash account never touch each other's schedules.
The service's schedules are those whose destination is one of its job routes
or whose id carries its host; any other schedule on the account is left alone.
"""

import logging
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from jobs.catalog import JOBS
from ops.qstash import jobs_url, qstash_client

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Wanted:
    """A schedule as the catalog defines it."""

    schedule_id: str
    job: str
    destination: str
    cron: str
    retries: int


@dataclass
class Plan:
    """What a sync does, or would do on a dry run."""

    create: list = field(default_factory=list)  # Wanted
    update: list = field(default_factory=list)  # (Schedule, Wanted, changes)
    delete: list = field(default_factory=list)  # Schedule
    unchanged: list = field(default_factory=list)  # Schedule

    @property
    def changes(self):
        return len(self.create) + len(self.update) + len(self.delete)


def host_slug(config):
    """'https://admin.theroyalglow.in' -> 'admin-theroyalglow-in'."""
    parts = urlsplit(jobs_url(config))
    text = parts.netloc + parts.path.removesuffix("/api/jobs/")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def schedule_id(config, job):
    return f"{job}_{host_slug(config)}"


def wanted_schedules(config):
    """The schedules the catalog asks for, one per scheduled job."""
    return [
        Wanted(
            schedule_id=schedule_id(config, spec.name),
            job=spec.name,
            destination=jobs_url(config, spec.name),
            cron=spec.cron,
            retries=spec.retries,
        )
        for spec in JOBS
        if spec.cron
    ]


def is_ours(config, schedule):
    return schedule.destination.startswith(jobs_url(config)) or (
        schedule.schedule_id.endswith("_" + host_slug(config))
    )


def plan(config, current):
    """Compare QStash's schedules with the catalog's."""
    result = Plan()
    ours = {s.schedule_id: s for s in current if is_ours(config, s)}

    for wanted in wanted_schedules(config):
        existing = ours.pop(wanted.schedule_id, None)
        if existing is None:
            result.create.append(wanted)
            continue
        changes = differences(existing, wanted)
        if changes:
            result.update.append((existing, wanted, changes))
        else:
            result.unchanged.append(existing)

    result.delete.extend(sorted(ours.values(), key=lambda s: s.schedule_id))
    return result


def differences(existing, wanted):
    """Each setting of a schedule that differs from the catalog: 'cron a -> b'."""
    pairs = (
        ("destination", existing.destination, wanted.destination),
        ("cron", existing.cron, wanted.cron),
        ("retries", existing.retries, wanted.retries),
        ("method", existing.method, "POST"),
        ("body", existing.body or "", ""),
    )
    return [f"{name} {old} -> {new}" for name, old, new in pairs if old != new]


def sync(config, dry_run=False, client=None):
    """Bring QStash in line with the catalog; a dry run only plans."""
    client = client or qstash_client(config)
    result = plan(config, client.schedule.list())
    if dry_run:
        return result

    for wanted in result.create + [wanted for _, wanted, _ in result.update]:
        client.schedule.create(
            destination=wanted.destination,
            cron=wanted.cron,
            method="POST",
            retries=wanted.retries,
            schedule_id=wanted.schedule_id,
        )
    for schedule in result.delete:
        client.schedule.delete(schedule.schedule_id)

    log.info(
        "schedules: synced, %d created, %d updated, %d deleted, %d unchanged",
        len(result.create),
        len(result.update),
        len(result.delete),
        len(result.unchanged),
    )
    return result
