"""birthday-emails: email and in-app wishes on the IST birthday."""

from datetime import date, timedelta

import pytest

from models import InAppNotification
from senders import Outcome, Result
from tests import factories as f
from tests.reminder_support import log_rows

JOB = "birthday-emails"


@pytest.fixture(autouse=True)
def at_half_past_nine(clock):
    clock.set(f.at("2026-12-04 09:30"))


def in_app_rows():
    query = InAppNotification.select(
        InAppNotification.customer,
        InAppNotification.kind,
        InAppNotification.title,
        InAppNotification.body,
    )
    return sorted(query.tuples())


def test_customer_born_today_gets_an_email_and_an_in_app_wish(app, call_job, senders):
    customer = f.customer(name="Priya Sharma", date_of_birth=date(1992, 12, 4))

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 1}
    [email] = senders.email.sent
    assert email.to == customer.email
    assert email.subject == "Happy birthday, Priya!"
    assert email.idempotency_key == f"birthday:{customer.id}:2026"
    assert email.text == (
        "Happy birthday, Priya!\n\n"
        "Everyone at The Royal Glow wishes you a wonderful year ahead.\n\n"
        "A birthday is a fine reason to slow down. Treat yourself to a massage,\n"
        "a facial or a fresh look with us this month: https://theroyalglow.in/book\n\n"
        "Warm wishes,\nThe Royal Glow\n"
    )
    assert "Happy birthday, Priya!" in email.html
    assert 'href="https://theroyalglow.in/book"' in email.html
    assert in_app_rows() == [
        (
            customer.id,
            "birthday",
            "Happy birthday, Priya!",
            "Everyone at The Royal Glow wishes you a lovely year ahead. "
            "Treat yourself to some time with us this month.",
        )
    ]
    key = f"birthday:{customer.id}:2026"
    assert log_rows() == [(key, "email", "sent"), (key, "in_app", "sent")]


@pytest.mark.parametrize(
    "config_overrides", [{"BIRTHDAY_OFFER": "20% off any spa service this month"}]
)
def test_configured_birthday_offer_is_in_the_email_and_the_inbox(
    app, call_job, senders, config_overrides
):
    customer = f.customer(name="Priya Sharma", date_of_birth=date(1992, 12, 4))

    call_job(JOB)

    [email] = senders.email.sent
    assert email.text == (
        "Happy birthday, Priya!\n\n"
        "Everyone at The Royal Glow wishes you a wonderful year ahead.\n\n"
        "Our birthday gift to you: 20% off any spa service this month.\n\n"
        "Book it here: https://theroyalglow.in/book\n\n"
        "Warm wishes,\nThe Royal Glow\n"
    )
    assert "<strong>20% off any spa service this month</strong>" in email.html
    assert in_app_rows() == [
        (
            customer.id,
            "birthday",
            "Happy birthday, Priya!",
            "Everyone at The Royal Glow wishes you a lovely year ahead. "
            "Our birthday gift to you: 20% off any spa service this month.",
        )
    ]


@pytest.mark.parametrize(
    "born", [date(1990, 12, 3), date(1990, 12, 5), date(1990, 11, 4), None]
)
def test_customer_not_born_today_gets_nothing(app, call_job, senders, born):
    f.customer(date_of_birth=born)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert senders.email.sent == [] and in_app_rows() == []


def test_birthday_follows_the_ist_date_just_after_midnight(
    app, call_job, senders, clock
):
    clock.set(f.at("2026-12-05 00:10"))  # 4 December in UTC
    born_5th = f.customer(date_of_birth=date(1990, 12, 5))
    f.customer(date_of_birth=date(1990, 12, 4))

    call_job(JOB)

    assert [email.to for email in senders.email.sent] == [born_5th.email]


def test_customer_without_marketing_consent_gets_nothing(app, call_job, senders):
    f.customer(date_of_birth=date(1992, 12, 4), marketing_consent=False)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert senders.email.sent == [] and in_app_rows() == []
    assert log_rows() == []


def test_deleted_customer_gets_nothing(app, call_job, senders, clock):
    f.customer(
        date_of_birth=date(1992, 12, 4), deleted_at=clock.now() - timedelta(days=1)
    )

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert senders.email.sent == [] and in_app_rows() == []


def test_29_february_is_celebrated_once_on_28_february_of_a_common_year(
    app, call_job, senders, clock
):
    leapling = f.customer(name="Arjun Rao", date_of_birth=date(2000, 2, 29))
    born_28th = f.customer(name="Meera Nair", date_of_birth=date(1995, 2, 28))
    clock.set(f.at("2027-02-27 09:30"))
    call_job(JOB)
    clock.set(f.at("2027-02-28 09:30"))
    on_the_28th = call_job(JOB)
    clock.set(f.at("2027-03-01 09:30"))
    on_the_1st = call_job(JOB)

    assert on_the_28th.get_json() == {"success": True, "processed": 2}
    assert on_the_1st.get_json() == {"success": True, "processed": 0}
    assert sorted(email.to for email in senders.email.sent) == sorted(
        [leapling.email, born_28th.email]
    )


def test_29_february_is_celebrated_on_the_day_in_a_leap_year(
    app, call_job, senders, clock
):
    leapling = f.customer(date_of_birth=date(2000, 2, 29))
    born_28th = f.customer(date_of_birth=date(1995, 2, 28))
    clock.set(f.at("2028-02-28 09:30"))
    on_the_28th = call_job(JOB)
    clock.set(f.at("2028-02-29 09:30"))
    on_the_29th = call_job(JOB)

    assert on_the_28th.get_json() == {"success": True, "processed": 1}
    assert on_the_29th.get_json() == {"success": True, "processed": 1}
    assert [email.to for email in senders.email.sent] == [
        born_28th.email,
        leapling.email,
    ]
    assert log_rows()[0][0] == f"birthday:{leapling.id}:2028"


def test_customer_without_an_email_still_gets_the_in_app_wish(app, call_job, senders):
    customer = f.customer(email=None, date_of_birth=date(1992, 12, 4))

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 1}
    assert senders.email.sent == []
    assert [row[0] for row in in_app_rows()] == [customer.id]
    key = f"birthday:{customer.id}:2026"
    assert log_rows() == [(key, "email", "skipped"), (key, "in_app", "sent")]


def test_one_bad_recipient_never_stops_the_others(app, call_job, senders):
    rejected = f.customer(email="bounce@example.com", date_of_birth=date(1990, 12, 4))
    no_email = f.customer(email=None, date_of_birth=date(1991, 12, 4))
    fine = f.customer(date_of_birth=date(1993, 12, 4))
    senders.email.by_address[rejected.email] = Result(Outcome.PERMANENT, "422")

    response = call_job(JOB)

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "processed": 3}
    assert [email.to for email in senders.email.sent] == [fine.email]
    assert sorted(row[0] for row in in_app_rows()) == sorted(
        [rejected.id, no_email.id, fine.id]
    )


def test_second_run_the_same_day_sends_nothing_new(app, call_job, senders, clock):
    f.customer(date_of_birth=date(1992, 12, 4))
    call_job(JOB)
    clock.advance(hours=2)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert len(senders.email.sent) == 1
    assert len(in_app_rows()) == 1


def test_each_year_brings_a_new_wish(app, call_job, senders, clock):
    customer = f.customer(date_of_birth=date(1992, 12, 4))
    call_job(JOB)
    clock.set(f.at("2027-12-04 09:30"))

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 1}
    assert [email.idempotency_key for email in senders.email.sent] == [
        f"birthday:{customer.id}:2026",
        f"birthday:{customer.id}:2027",
    ]
