"""The catalog's crons read back in IST, as `flask jobs list` shows them."""

import pytest

from jobs.catalog import BY_NAME
from ops.cron import describe_ist, parse

# The IST times in the product document (spec/background-jobs.txt).
IST_TIMES = {
    "appointment-reminders": "every 15 min 08:00-21:45 daily",
    "membership-expiry": "00:30 daily",
    "birthday-emails": "09:30 daily",
    "lead-followups": "10:30 daily",
    "gems-expiry-reminder": "10:30 daily",
    "membership-usage-nudges": "11:00 daily",
    "daily-sales-report": "22:30 daily",
    "weekly-report": "09:00 on Mon",
    "nightly-sales-summary": "23:30 daily",
    "membership-auto-expire": "00:00 daily",
    "offer-auto-expire": "00:05 daily",
    "gems-auto-expire": "00:10 daily",
    "session-cleanup": "02:30 on Sun",
    "monthly-gst-summary": "01:00 on day 1 of the month",
}


@pytest.mark.parametrize("job, ist", IST_TIMES.items())
def test_each_scheduled_job_fires_at_its_documented_ist_time(job, ist):
    assert describe_ist(BY_NAME[job].cron) == ist


def test_every_scheduled_job_is_checked():
    assert set(IST_TIMES) == {name for name, s in BY_NAME.items() if s.cron}


@pytest.mark.parametrize(
    "cron, ist",
    [
        ("0 20 1 * *", "01:30 on the day after day 1 of the month"),
        (
            "0 16-20/2 * * 1-5",
            "21:30, 23:30 on Mon, Tue, Wed, Thu, Fri; 01:30 on Tue, Wed, Thu, Fri, Sat",
        ),
        ("15,45 6 * 3 *", "11:45, 12:15 daily in Mar"),
        ("*/20 18 * * *", "00:10, 23:30, 23:50 daily"),
        ("0 0 * * 7", "05:30 on Sun"),
    ],
)
def test_times_after_midnight_in_ist_fall_on_the_next_day(cron, ist):
    assert describe_ist(cron) == ist


@pytest.mark.parametrize("cron", ["0 4 * *", "61 4 * * *", "0 4-2 * * *"])
def test_a_malformed_cron_is_refused(cron):
    with pytest.raises(ValueError):
        parse(cron)
