"""The fast part of `python -m reliability`: gunicorn on PostgreSQL, one job
delivered 8 times at once, then an email outage retried until it passes.

Runs when TEST_DATABASE_URL names a PostgreSQL server (as in CI); it makes
and drops a database of its own there.
"""

import os
import uuid
from urllib.parse import urlparse

import pytest

from models import NotificationLog, db, make_database
from reliability.harness import Database, Deliverer, Service
from reliability.providers import Providers
from reliability.seed import Seeder, seed

PG_URL = os.environ.get("TEST_DATABASE_URL")

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL"
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """(service, deliverer, providers, database, seeder), torn down at the end."""
    admin = urlparse(PG_URL)._replace(query="").geturl()
    database = Database(admin, f"jobs_reliability_ci_{uuid.uuid4().hex[:8]}")
    database.create()
    providers = Providers().start()
    # A loaded CI machine must not turn a slow answer into a timeout here.
    service = Service(
        database.url,
        providers.url,
        workers=4,
        workdir=tmp_path_factory.mktemp("reliability"),
        settings={"HTTP_TIMEOUT": 10},
    )
    try:
        db.initialize(
            make_database(database.url + "?application_name=reliability-harness", 2)
        )
        service.start()
        yield service, Deliverer(service), providers, database, Seeder(providers)
    finally:
        service.stop()
        providers.stop()
        database.drop()


@pytest.fixture
def fresh(stack):
    service, deliverer, providers, database, seeder = stack
    database.truncate()
    seeder.reset()
    with db.connection_context():
        yield stack


def statuses():
    return sorted(
        status for (status,) in NotificationLog.select(NotificationLog.status).tuples()
    )


def test_reminders_delivered_8_times_at_once_reach_each_person_once(fresh):
    service, deliverer, providers, database, seeder = fresh
    providers.begin("eight at once")
    due = seed(seeder, "appointment-reminders", 12)

    deliveries = deliverer.at_once("appointment-reminders", b"", copies=8)

    assert all(d.ok for d in deliveries)
    assert sum(d.answer["processed"] for d in deliveries) == 12
    received = providers.received("eight at once")
    sends = sorted(
        (r.channel, r.recipient) for r in received if r.channel != "heartbeat"
    )
    assert sends == sorted(due.expected.elements())
    assert providers.duplicates("eight at once") == {}
    assert statuses() == ["sent"] * 24


def test_email_outage_is_retried_until_every_reminder_went_once(fresh):
    service, deliverer, providers, database, seeder = fresh
    providers.begin("outage", email_fail_at={2})
    due = seed(seeder, "appointment-reminders", 25)

    delivery = deliverer.deliver("appointment-reminders")

    assert [a.status for a in delivery.attempts] == [500, 200]
    assert delivery.answer == {"success": True, "processed": 10}
    assert providers.injected["email 500"] == 1
    received = providers.received("outage")
    sends = sorted(
        (r.channel, r.recipient) for r in received if r.channel != "heartbeat"
    )
    assert sends == sorted(due.expected.elements())
    assert statuses() == ["sent"] * 50
