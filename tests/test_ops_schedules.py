"""`flask jobs schedules sync` against a fake QStash API on 127.0.0.1."""

import pytest

from jobs.catalog import JOBS
from tests.fake_qstash import TOKEN, FakeQStash

BASE_URL = "https://jobs.example.test"
SLUG = "jobs-example-test"
SCHEDULED = [spec for spec in JOBS if spec.cron]


@pytest.fixture
def fake_qstash():
    with FakeQStash() as fake:
        yield fake


@pytest.fixture
def config_overrides(fake_qstash):
    return {
        "QSTASH_URL": fake_qstash.url,
        "QSTASH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": BASE_URL,
    }


@pytest.fixture
def sync(app):
    runner = app.test_cli_runner()

    def invoke(*options):
        return runner.invoke(args=["jobs", "schedules", "sync", *options])

    return invoke


def catalog_schedules():
    return {
        f"{spec.name}_{SLUG}": (f"{BASE_URL}/api/jobs/{spec.name}", spec.cron, 3)
        for spec in SCHEDULED
    }


def summary(fake):
    return {
        s["scheduleId"]: (s["destination"], s["cron"], s["retries"])
        for s in fake.schedules.values()
    }


def test_sync_creates_a_schedule_for_every_scheduled_job(sync, fake_qstash):
    result = sync()

    assert result.exit_code == 0, result.output
    assert summary(fake_qstash) == catalog_schedules()
    assert {s["method"] for s in fake_qstash.schedules.values()} == {"POST"}
    assert "+ create membership-expiry: 0 19 * * *, retries 3, " in result.output
    assert result.output.splitlines()[-1] == (
        "schedules: 14 created, 0 updated, 0 deleted, 0 unchanged"
    )


def test_sync_sends_the_stable_id_with_each_schedule(sync, fake_qstash):
    sync()

    creates = [r for r in fake_qstash.requests if r.method == "POST"]
    assert [
        (r.path, r.headers["upstash-schedule-id"], r.headers["upstash-cron"])
        for r in creates
    ] == [
        (
            f"/v2/schedules/{BASE_URL}/api/jobs/{spec.name}",
            f"{spec.name}_{SLUG}",
            spec.cron,
        )
        for spec in SCHEDULED
    ]


def test_second_sync_changes_nothing(sync, fake_qstash):
    sync()
    served = len(fake_qstash.requests)

    result = sync()

    assert result.exit_code == 0, result.output
    assert result.output == (
        "schedules: 0 created, 0 updated, 0 deleted, 14 unchanged\n"
    )
    assert [r.method for r in fake_qstash.requests[served:]] == ["GET"]


def test_sync_updates_a_changed_schedule_in_place(sync, fake_qstash):
    sync()
    stable_id = f"weekly-report_{SLUG}"
    fake_qstash.schedules[stable_id].update(cron="30 3 * * 2", retries=5)
    served = len(fake_qstash.requests)

    result = sync()

    assert result.exit_code == 0, result.output
    assert result.output == (
        "~ update weekly-report: cron 30 3 * * 2 -> 30 3 * * 1; retries 5 -> 3\n"
        "schedules: 0 created, 1 updated, 0 deleted, 13 unchanged\n"
    )
    assert fake_qstash.changes()[-1:] == [
        ("POST", f"/v2/schedules/{BASE_URL}/api/jobs/weekly-report")
    ]
    assert fake_qstash.requests[-1].headers["upstash-schedule-id"] == stable_id
    assert len(fake_qstash.requests) == served + 2
    assert summary(fake_qstash) == catalog_schedules()


def test_sync_deletes_the_services_schedules_that_are_no_longer_defined(
    sync, fake_qstash
):
    sync()
    retired = fake_qstash.add_schedule(f"{BASE_URL}/api/jobs/old-report", "0 6 * * *")
    by_hand = fake_qstash.add_schedule(
        f"{BASE_URL}/api/jobs/birthday-emails", "0 4 * * *"
    )
    other_service = fake_qstash.add_schedule(
        "https://billing.example.test/api/cron", "0 1 * * *"
    )

    result = sync()

    assert result.exit_code == 0, result.output
    assert result.output == (
        f"- delete {retired}: 0 6 * * *, {BASE_URL}/api/jobs/old-report "
        "(not in the catalog)\n"
        f"- delete {by_hand}: 0 4 * * *, {BASE_URL}/api/jobs/birthday-emails "
        "(not in the catalog)\n"
        "schedules: 0 created, 0 updated, 2 deleted, 14 unchanged\n"
    )
    assert set(fake_qstash.schedules) == set(catalog_schedules()) | {other_service}


def test_sync_moves_a_schedule_to_a_new_address_of_the_same_host(sync, fake_qstash):
    fake_qstash.add_schedule(
        "https://jobs.example.test/old/api/jobs/session-cleanup",
        "0 21 * * 6",
        schedule_id=f"session-cleanup_{SLUG}",
    )

    result = sync()

    assert result.exit_code == 0, result.output
    assert (
        "~ update session-cleanup: destination "
        "https://jobs.example.test/old/api/jobs/session-cleanup -> "
        "https://jobs.example.test/api/jobs/session-cleanup\n"
    ) in result.output
    assert summary(fake_qstash) == catalog_schedules()


def test_dry_run_prints_the_diff_and_changes_nothing(sync, fake_qstash):
    sync()
    fake_qstash.schedules[f"offer-auto-expire_{SLUG}"]["cron"] = "35 19 * * *"
    del fake_qstash.schedules[f"gems-auto-expire_{SLUG}"]
    retired = fake_qstash.add_schedule(f"{BASE_URL}/api/jobs/old-report", "0 6 * * *")
    before = {k: dict(v) for k, v in fake_qstash.schedules.items()}
    served = len(fake_qstash.requests)

    result = sync("--dry-run")

    assert result.exit_code == 0, result.output
    assert result.output == (
        "+ create gems-auto-expire: 40 18 * * *, retries 3, "
        f"{BASE_URL}/api/jobs/gems-auto-expire (id gems-auto-expire_{SLUG})\n"
        "~ update offer-auto-expire: cron 35 19 * * * -> 35 18 * * *\n"
        f"- delete {retired}: 0 6 * * *, {BASE_URL}/api/jobs/old-report "
        "(not in the catalog)\n"
        "schedules: 1 to create, 1 to update, 1 to delete, 12 unchanged\n"
        "dry run: nothing was changed (3 change(s) would be made)\n"
    )
    assert fake_qstash.schedules == before
    assert [r.method for r in fake_qstash.requests[served:]] == ["GET"]


@pytest.mark.parametrize(
    "config_overrides",
    [{"QSTASH_TOKEN": None, "PUBLIC_BASE_URL": BASE_URL}],
)
def test_sync_without_a_token_says_so(sync):
    result = sync()

    assert result.exit_code == 1
    assert result.output == "Error: QSTASH_TOKEN is not set\n"


def test_sync_without_a_public_base_url_says_so(app, sync):
    app.config["PUBLIC_BASE_URL"] = None

    result = sync("--dry-run")

    assert result.exit_code == 1
    assert "PUBLIC_BASE_URL is not set" in result.output


def test_sync_reports_a_token_qstash_refuses(app, sync, fake_qstash):
    app.config["QSTASH_TOKEN"] = "qstash_wrong_token"

    result = sync()

    assert result.exit_code == 1
    assert "Request failed with status: 401" in result.output
    assert "qstash_wrong_token" not in result.output
    assert fake_qstash.schedules == {}
