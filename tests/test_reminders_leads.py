"""lead-followups: a daily push to the staff member of a lead left waiting."""

from datetime import timedelta

import pytest

from senders import Outcome, Result
from tests import factories as f
from tests.reminder_support import log_rows

JOB = "lead-followups"


@pytest.fixture(autouse=True)
def at_half_past_ten(clock):
    clock.set(f.at("2026-12-04 10:30"))


def seller(name="Ananya Iyer", **kw):
    staff = f.staff(name=name, role="sales", **kw)
    f.push_subscription(staff, endpoint=f"https://push.example.test/{staff.id}")
    return staff


def lead_quiet_for(clock, quiet, **kw):
    kw.setdefault("created_at", clock.now() - timedelta(days=10))
    return f.lead(last_contacted_at=clock.now() - quiet, **kw)


@pytest.mark.parametrize(
    "quiet, nudged",
    [
        (timedelta(hours=47), False),
        (timedelta(hours=48), False),
        (timedelta(hours=48, minutes=1), True),
        (timedelta(hours=49), True),
    ],
)
def test_lead_is_nudged_only_after_48_quiet_hours(
    app, call_job, senders, clock, quiet, nudged
):
    staff = seller()
    lead_quiet_for(clock, quiet, assigned_staff=staff)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": int(nudged)}
    assert len(senders.push.sent) == int(nudged)


def test_lead_quiet_for_49_hours_sends_one_push_to_its_staff(
    app, call_job, senders, clock
):
    staff = seller()
    lead = lead_quiet_for(
        clock, timedelta(hours=49), name="Rahul Verma", assigned_staff=staff
    )

    call_job(JOB)

    [(target, push)] = senders.push.sent
    assert target.endpoint == f"https://push.example.test/{staff.id}"
    assert push.title == "Follow up with Rahul Verma"
    assert push.body == (
        "Last contacted Wed 2 Dec, 9:30 AM. A call today keeps the lead warm."
    )
    assert push.url == f"https://admin.theroyalglow.in/leads/{lead.id}"
    assert push.tag == f"lead-{lead.id}"
    assert log_rows() == [(f"lead-followup:{lead.id}:2026-12-04", "push", "sent")]


def test_lead_never_contacted_counts_from_its_creation(app, call_job, senders, clock):
    staff = seller()
    f.lead(assigned_staff=staff, created_at=clock.now() - timedelta(hours=47))
    old = f.lead(
        name="Sneha Pillai",
        assigned_staff=staff,
        created_at=clock.now() - timedelta(hours=50),
    )

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 1}
    [(_, push)] = senders.push.sent
    assert push.title == "Follow up with Sneha Pillai"
    assert push.body == (
        "Added Wed 2 Dec, 8:30 AM and not contacted yet. "
        "A call today keeps the lead warm."
    )
    assert log_rows()[0][0] == f"lead-followup:{old.id}:2026-12-04"


def test_recent_contact_wins_over_an_old_creation(app, call_job, senders, clock):
    lead_quiet_for(clock, timedelta(hours=5), assigned_staff=seller())

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}


def test_unassigned_lead_gets_nothing(app, call_job, senders, clock):
    seller()
    lead_quiet_for(clock, timedelta(hours=72), assigned_staff=None)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert senders.push.sent == [] and log_rows() == []


def test_lead_of_inactive_staff_gets_nothing(app, call_job, senders, clock):
    lead_quiet_for(clock, timedelta(hours=72), assigned_staff=seller(is_active=False))

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert senders.push.sent == []


@pytest.mark.parametrize("status", ["new", "contacted", "converted", "lost"])
def test_lead_not_in_follow_up_gets_nothing(app, call_job, senders, clock, status):
    lead_quiet_for(clock, timedelta(hours=72), assigned_staff=seller(), status=status)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}


def test_second_run_the_same_day_sends_nothing_new(app, call_job, senders, clock):
    lead_quiet_for(clock, timedelta(hours=72), assigned_staff=seller())
    call_job(JOB)
    clock.set(f.at("2026-12-04 23:59"))

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert len(senders.push.sent) == 1


def test_lead_still_waiting_the_next_day_is_nudged_again(app, call_job, senders, clock):
    lead = lead_quiet_for(clock, timedelta(hours=72), assigned_staff=seller())
    call_job(JOB)
    clock.set(f.at("2026-12-05 10:30"))

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 1}
    assert [row[0] for row in log_rows()] == [
        f"lead-followup:{lead.id}:2026-12-04",
        f"lead-followup:{lead.id}:2026-12-05",
    ]


def test_one_staff_member_gets_one_push_per_waiting_lead_on_every_browser(
    app, call_job, senders, clock
):
    staff = seller()
    f.push_subscription(staff, endpoint="https://push.example.test/laptop")
    for name in ("Rahul Verma", "Sneha Pillai"):
        lead_quiet_for(clock, timedelta(hours=72), name=name, assigned_staff=staff)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 2}
    phone = f"https://push.example.test/{staff.id}"
    laptop = "https://push.example.test/laptop"
    assert sorted((t.endpoint, m.title) for t, m in senders.push.sent) == sorted(
        (endpoint, f"Follow up with {name}")
        for endpoint in (phone, laptop)
        for name in ("Rahul Verma", "Sneha Pillai")
    )


def test_one_bad_recipient_never_stops_the_others(app, call_job, senders, clock):
    dead = seller("Kiran Das")
    without_push = f.staff(name="Vikram Singh", role="sales")
    fine = seller("Ananya Iyer")
    for staff in (dead, without_push, fine):
        lead_quiet_for(clock, timedelta(hours=72), assigned_staff=staff)
    senders.push.by_endpoint[f"https://push.example.test/{dead.id}"] = Result(
        Outcome.PERMANENT, "410 Gone", gone=True
    )

    response = call_job(JOB)

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "processed": 1}
    assert [t.endpoint for t, _ in senders.push.sent] == [
        f"https://push.example.test/{fine.id}"
    ]
