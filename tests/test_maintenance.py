"""membership-auto-expire, offer-auto-expire and session-cleanup (JOBS.md section 5)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from exceptions import BudgetExceeded
from jobs import maintenance
from models import JobRun, Offer, Session, SpaMembership
from tests import factories as f
from tests.query_count import count_queries
from tests.write_job_support import budget_spent_after, job_context, twice_at_once

# 00:00 IST on Saturday 5 December 2026, when membership-auto-expire runs.
MIDNIGHT = f.at("2026-12-05 00:00")
CREATED = datetime(2025, 1, 1, tzinfo=UTC)


def memberships():
    return {
        m.id: (m.status, m.updated_at)
        for m in SpaMembership.select().order_by(SpaMembership.id)
    }


def offers():
    return {
        o.id: (o.is_active, o.updated_at) for o in Offer.select().order_by(Offer.id)
    }


def session_ids():
    return sorted(s.id for s in Session.select())


# membership-auto-expire


@pytest.fixture
def owner(app, clock):
    clock.set(MIDNIGHT)
    return f.customer()


def test_active_memberships_past_expiry_become_expired(owner, call_job):
    lapsed = f.membership(owner, MIDNIGHT - timedelta(days=3), updated_at=CREATED)
    on_the_dot = f.membership(owner, MIDNIGHT, updated_at=CREATED)
    running = f.membership(owner, MIDNIGHT + timedelta(seconds=1), updated_at=CREATED)

    response = call_job("membership-auto-expire")

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "processed": 2}
    assert memberships() == {
        lapsed.id: ("expired", MIDNIGHT),
        on_the_dot.id: ("expired", MIDNIGHT),
        running.id: ("active", CREATED),
    }


def test_cancelled_and_already_expired_memberships_are_left_alone(owner, call_job):
    past = MIDNIGHT - timedelta(days=1)
    cancelled = f.membership(owner, past, status="cancelled", updated_at=CREATED)
    expired = f.membership(owner, past, status="expired", updated_at=CREATED)

    response = call_job("membership-auto-expire")

    assert response.get_json() == {"success": True, "processed": 0}
    assert memberships() == {
        cancelled.id: ("cancelled", CREATED),
        expired.id: ("expired", CREATED),
    }


def test_membership_expiry_run_twice_changes_nothing_the_second_time(
    owner, call_job, clock
):
    f.membership(owner, MIDNIGHT - timedelta(days=1), updated_at=CREATED)
    f.membership(owner, MIDNIGHT + timedelta(days=1), updated_at=CREATED)
    call_job("membership-auto-expire")
    after_first = memberships()
    clock.advance(minutes=5)

    response = call_job("membership-auto-expire")

    assert response.get_json() == {"success": True, "processed": 0}
    assert memberships() == after_first


def test_membership_expiry_is_one_update(owner, app, monkeypatch):
    for days in range(1, 6):
        f.membership(owner, MIDNIGHT - timedelta(days=days))

    with count_queries(monkeypatch) as queries:
        result = maintenance.membership_auto_expire(
            job_context(app, "membership-auto-expire", MIDNIGHT)
        )

    assert result == {"success": True, "processed": 5}
    assert len(queries) == 1


def test_membership_expiry_twice_at_once_expires_each_once(owner, app, backend):
    if backend != "postgres":
        pytest.skip("concurrent runs need PostgreSQL")
    due = [f.membership(owner, MIDNIGHT - timedelta(days=d)) for d in (1, 2, 3)]
    running = f.membership(owner, MIDNIGHT + timedelta(days=1), updated_at=CREATED)

    results = twice_at_once(
        app, maintenance.membership_auto_expire, "membership-auto-expire", MIDNIGHT
    )

    assert sum(r["processed"] for r in results) == 3
    assert memberships() == {
        **{m.id: ("expired", MIDNIGHT) for m in due},
        running.id: ("active", CREATED),
    }


# offer-auto-expire


@pytest.fixture
def offer_clock(app, clock):
    # 00:05 IST on 5 December is still 4 December in UTC.
    clock.set(f.at("2026-12-05 00:05"))
    return clock


def test_offer_that_ended_yesterday_becomes_inactive(offer_clock, call_job):
    ended = f.offer(end_date=date(2026, 12, 4), updated_at=CREATED)
    ending_today = f.offer(end_date=date(2026, 12, 5), updated_at=CREATED)
    endless = f.offer(end_date=None, updated_at=CREATED)

    response = call_job("offer-auto-expire")

    assert response.get_json() == {"success": True, "processed": 1}
    assert offers() == {
        ended.id: (False, offer_clock.now()),
        ending_today.id: (True, CREATED),
        endless.id: (True, CREATED),
    }


def test_offer_ending_today_stays_active_until_ist_midnight(app, clock, call_job):
    last_day = f.offer(end_date=date(2026, 12, 5), updated_at=CREATED)

    clock.set(f.at("2026-12-05 23:59"))
    late_evening = call_job("offer-auto-expire").get_json()
    clock.set(f.at("2026-12-06 00:05"))
    next_morning = call_job("offer-auto-expire").get_json()

    assert late_evening == {"success": True, "processed": 0}
    assert next_morning == {"success": True, "processed": 1}
    assert offers() == {last_day.id: (False, f.at("2026-12-06 00:05"))}


def test_inactive_offers_are_not_touched_again(offer_clock, call_job):
    old = f.offer(end_date=date(2026, 11, 1), is_active=False, updated_at=CREATED)

    response = call_job("offer-auto-expire")

    assert response.get_json() == {"success": True, "processed": 0}
    assert offers() == {old.id: (False, CREATED)}


def test_offer_expiry_run_twice_changes_nothing_the_second_time(offer_clock, call_job):
    f.offer(end_date=date(2026, 12, 1))
    f.offer(end_date=date(2026, 12, 30))
    first = call_job("offer-auto-expire").get_json()
    after_first = offers()
    offer_clock.advance(minutes=1)

    second = call_job("offer-auto-expire").get_json()

    assert (first, second) == (
        {"success": True, "processed": 1},
        {"success": True, "processed": 0},
    )
    assert offers() == after_first


def test_offer_expiry_twice_at_once_deactivates_each_once(offer_clock, app, backend):
    if backend != "postgres":
        pytest.skip("concurrent runs need PostgreSQL")
    ended = [f.offer(end_date=date(2026, 12, d)) for d in (1, 2, 3, 4)]
    running = f.offer(end_date=date(2026, 12, 5))

    results = twice_at_once(
        app, maintenance.offer_auto_expire, "offer-auto-expire", offer_clock.now()
    )

    assert sum(r["processed"] for r in results) == 4
    assert {i: active for i, (active, _) in offers().items()} == {
        **{o.id: False for o in ended},
        running.id: True,
    }


# session-cleanup

# 02:30 IST on Sunday 6 December 2026.
SUNDAY = f.at("2026-12-06 02:30")


@pytest.fixture
def sunday(app, clock):
    clock.set(SUNDAY)
    return clock


def test_expired_sessions_are_deleted_and_live_ones_kept(sunday, call_job):
    gone = [f.session(SUNDAY - timedelta(days=d)) for d in (1, 30)]
    gone.append(f.session(SUNDAY - timedelta(microseconds=1)))
    on_the_dot = f.session(SUNDAY)
    live = f.session(SUNDAY + timedelta(days=3))

    response = call_job("session-cleanup")

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "processed": 3}
    assert session_ids() == sorted([on_the_dot.id, live.id])
    assert all(s.id not in session_ids() for s in gone)


def test_session_cleanup_run_twice_deletes_nothing_the_second_time(sunday, call_job):
    f.session(SUNDAY - timedelta(days=1))
    live = f.session(SUNDAY + timedelta(days=1))
    call_job("session-cleanup")

    response = call_job("session-cleanup")

    assert response.get_json() == {"success": True, "processed": 0}
    assert session_ids() == [live.id]


def test_sessions_are_deleted_in_batches(sunday, app, monkeypatch):
    monkeypatch.setattr(maintenance, "SESSION_BATCH", 2)
    for minutes in range(1, 6):
        f.session(SUNDAY - timedelta(minutes=minutes))
    live = f.session(SUNDAY + timedelta(minutes=1))

    with count_queries(monkeypatch) as queries:
        result = maintenance.session_cleanup(
            job_context(app, "session-cleanup", SUNDAY)
        )

    deletes = [sql for sql in queries.sql if sql.startswith("DELETE")]
    assert result == {"success": True, "processed": 5}
    assert len(deletes) == 3
    assert all("LIMIT" in sql for sql in deletes)
    assert session_ids() == [live.id]


def test_ten_thousand_expired_sessions_take_three_statements(sunday, app, monkeypatch):
    Session.insert_many(
        [
            {
                "id": f"ses_bulk_{n:05d}",
                "token": f"tok_bulk_{n:05d}",
                "expires_at": SUNDAY - timedelta(seconds=n + 1),
                "updated_at": SUNDAY - timedelta(days=8),
                "user_id": "usr_1",
            }
            for n in range(10_001)
        ]
    ).execute()
    live = f.session(SUNDAY + timedelta(hours=1))

    with count_queries(monkeypatch) as queries:
        result = maintenance.session_cleanup(
            job_context(app, "session-cleanup", SUNDAY)
        )

    assert result == {"success": True, "processed": 10_001}
    assert sum(sql.startswith("DELETE") for sql in queries.sql) == 3
    assert session_ids() == [live.id]


def test_cleanup_cut_short_keeps_what_it_deleted(sunday, app, monkeypatch):
    monkeypatch.setattr(maintenance, "SESSION_BATCH", 2)
    for minutes in range(1, 6):
        f.session(SUNDAY - timedelta(minutes=minutes), id=f"ses_old_{minutes}")
    ctx = job_context(
        app,
        "session-cleanup",
        SUNDAY,
        budget=budget_spent_after("session-cleanup", checks=1),
    )

    with pytest.raises(BudgetExceeded):
        maintenance.session_cleanup(ctx)

    assert len(session_ids()) == 3
    rerun = maintenance.session_cleanup(job_context(app, "session-cleanup", SUNDAY))
    assert rerun == {"success": True, "processed": 3}
    assert session_ids() == []


@pytest.mark.parametrize("config_overrides", [{"JOB_TIME_BUDGET": 0}])
def test_cleanup_with_no_time_left_asks_qstash_to_retry(sunday, call_job):
    expired = f.session(SUNDAY - timedelta(days=1))

    response = call_job("session-cleanup")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert session_ids() == [expired.id]
    assert [r.outcome for r in JobRun.select()] == ["deferred"]


def test_session_cleanup_twice_at_once_deletes_each_once(sunday, app, backend):
    if backend != "postgres":
        pytest.skip("concurrent runs need PostgreSQL")
    Session.insert_many(
        [
            {
                "id": f"ses_pair_{n:05d}",
                "token": f"tok_pair_{n:05d}",
                "expires_at": SUNDAY - timedelta(seconds=n + 1),
                "updated_at": SUNDAY - timedelta(days=8),
                "user_id": "usr_1",
            }
            for n in range(12_000)
        ]
    ).execute()
    live = f.session(SUNDAY + timedelta(hours=1))

    results = twice_at_once(app, maintenance.session_cleanup, "session-cleanup", SUNDAY)

    assert sum(r["processed"] for r in results) == 12_000
    assert session_ids() == [live.id]
