"""gems-auto-expire: the unspent part of each lot past expiry, once (JOBS.md 5, 6)."""

import threading
import time
from datetime import timedelta

import pytest

from exceptions import BudgetExceeded
from jobs import maintenance
from models import Customer, GemsTransaction, db
from tests import factories as f
from tests.query_count import count_queries
from tests.write_job_support import (
    budget_spent_after,
    in_threads,
    job_context,
    twice_at_once,
)

G = GemsTransaction
# 00:10 IST on Saturday 5 December 2026, when the job runs.
RUN = f.at("2026-12-05 00:10")
# Lots earned a year and more before RUN are due; their expiry is created + 365 d.
YEAR_AGO = RUN - timedelta(days=365)


@pytest.fixture
def run_at(app, clock):
    clock.set(RUN)
    return clock


def expiry_rows():
    return [
        (t.id, t.customer_id, t.amount, t.reference, t.created_at)
        for t in G.select().where(G.kind == "expired").order_by(G.id)
    ]


def balance(customer):
    return Customer.get_by_id(customer.id).gems_balance


def ledger_sum(customer):
    return sum(t.amount for t in G.select().where(G.customer == customer.id))


def expired_row(lot, amount):
    return (
        f"gem_exp_{lot.id}",
        lot.customer_id,
        amount,
        f"expired:{lot.id}",
        RUN,
    )


def worked_example(customer_name="Priya Sharma"):
    """Earn 100, earn 50, redeem 60: the first lot is due, 40 of it unspent."""
    customer = f.customer(name=customer_name, gems_balance=90)
    first = f.gems(customer, "earned", 100, YEAR_AGO - timedelta(days=2))
    second = f.gems(customer, "earned", 50, YEAR_AGO + timedelta(days=20))
    f.gems(customer, "redeemed", -60, YEAR_AGO + timedelta(days=30))
    return customer, first, second


def test_worked_example_expires_forty_and_leaves_fifty(run_at, call_job):
    customer, first, _ = worked_example()

    response = call_job("gems-auto-expire")

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "processed": 1}
    assert expiry_rows() == [expired_row(first, -40)]
    assert balance(customer) == 50
    assert ledger_sum(customer) == 50


def test_fully_spent_lot_gets_a_zero_marker_and_is_not_counted(run_at, call_job):
    customer = f.customer(gems_balance=50)
    spent = f.gems(customer, "earned", 100, YEAR_AGO - timedelta(days=1))
    f.gems(customer, "earned", 50, YEAR_AGO + timedelta(days=10))
    f.gems(customer, "redeemed", -100, YEAR_AGO + timedelta(days=20))

    response = call_job("gems-auto-expire")

    assert response.get_json() == {"success": True, "processed": 0}
    assert expiry_rows() == [expired_row(spent, 0)]
    assert balance(customer) == 50


def test_two_lots_expiring_in_one_run(run_at, call_job):
    customer = f.customer(gems_balance=160)
    first = f.gems(customer, "earned", 100, YEAR_AGO - timedelta(days=3))
    second = f.gems(customer, "earned", 50, YEAR_AGO - timedelta(hours=1))
    f.gems(customer, "earned", 30, YEAR_AGO + timedelta(days=5))
    f.gems(customer, "redeemed", -20, YEAR_AGO + timedelta(days=6))

    response = call_job("gems-auto-expire")

    assert response.get_json() == {"success": True, "processed": 2}
    assert expiry_rows() == [expired_row(first, -80), expired_row(second, -50)]
    assert balance(customer) == 30
    assert ledger_sum(customer) == 30


def test_lot_expiring_exactly_now_is_due_and_one_a_second_later_is_not(
    run_at, call_job
):
    customer = f.customer(gems_balance=30)
    on_the_dot = f.gems(customer, "earned", 10, YEAR_AGO)
    f.gems(customer, "earned", 20, YEAR_AGO + timedelta(seconds=1))

    response = call_job("gems-auto-expire")

    assert response.get_json() == {"success": True, "processed": 1}
    assert expiry_rows() == [expired_row(on_the_dot, -10)]
    assert balance(customer) == 20


def test_each_customer_is_expired_from_their_own_ledger(run_at, call_job):
    priya, priya_lot, _ = worked_example("Priya Sharma")
    rahul = f.customer(name="Rahul Verma", gems_balance=75)
    rahul_lot = f.gems(rahul, "earned", 75, YEAR_AGO - timedelta(days=9))
    nobody_due = f.customer(gems_balance=40)
    f.gems(nobody_due, "earned", 40, YEAR_AGO + timedelta(days=100))

    response = call_job("gems-auto-expire")

    assert response.get_json() == {"success": True, "processed": 2}
    assert sorted(expiry_rows()) == sorted(
        [expired_row(priya_lot, -40), expired_row(rahul_lot, -75)]
    )
    assert (balance(priya), balance(rahul), balance(nobody_due)) == (50, 0, 40)


def test_run_repeated_changes_nothing(run_at, call_job):
    customer, first, _ = worked_example()
    call_job("gems-auto-expire")
    run_at.advance(minutes=10)

    response = call_job("gems-auto-expire")

    assert response.get_json() == {"success": True, "processed": 0}
    assert expiry_rows() == [expired_row(first, -40)]
    assert balance(customer) == 50


def test_next_year_expiry_accounts_for_this_years(run_at, call_job):
    customer, first, second = worked_example()
    call_job("gems-auto-expire")
    run_at.set(second.expires_at)

    response = call_job("gems-auto-expire")

    assert response.get_json() == {"success": True, "processed": 1}
    assert [row[2] for row in expiry_rows()] == [-40, -50]
    assert balance(customer) == 0
    assert ledger_sum(customer) == 0


def test_balance_never_goes_below_zero(run_at, call_job):
    customer = f.customer(gems_balance=25)  # out of step with its ledger
    lot = f.gems(customer, "earned", 40, YEAR_AGO - timedelta(days=1))

    response = call_job("gems-auto-expire")

    assert response.get_json() == {"success": True, "processed": 1}
    assert expiry_rows() == [expired_row(lot, -40)]
    assert balance(customer) == 0


@pytest.fixture
def chunk_of(monkeypatch):
    """Set how many customers gems-auto-expire takes per transaction."""

    def set_chunk(size):
        monkeypatch.setattr(maintenance, "GEMS_CHUNK", size)

    return set_chunk


@pytest.mark.parametrize(("chunk", "chunks"), [(500, 1), (2, 2)])
def test_queries_grow_with_chunks_not_customers_or_lots(
    run_at, app, backend, monkeypatch, chunk_of, chunk, chunks
):
    chunk_of(chunk)
    customers = []
    for n in range(3):
        customer = f.customer(gems_balance=300)
        for days in (1, 2, 3):
            f.gems(customer, "earned", 100, YEAR_AGO - timedelta(days=days + n))
        customers.append(customer)

    with count_queries(monkeypatch) as queries:
        result = maintenance.gems_auto_expire(job_context(app, "gems-auto-expire", RUN))

    # One to find the customers; per chunk: its lots, their expiry rows, the
    # balances, and on PostgreSQL the row locks taken first.
    per_chunk = 4 if backend == "postgres" else 3
    assert result == {"success": True, "processed": 9}
    assert len(queries) == 1 + chunks * per_chunk
    assert [balance(c) for c in customers] == [0, 0, 0]
    assert [row[2] for row in expiry_rows()] == [-100] * 9


def test_customers_over_several_chunks_are_each_expired_once(
    run_at, call_job, chunk_of
):
    chunk_of(2)
    customers, lots = [], []
    for n in range(5):
        customer, lot, _ = worked_example(f"Customer {n}")
        customers.append(customer)
        lots.append(lot)

    response = call_job("gems-auto-expire")

    assert response.get_json() == {"success": True, "processed": 5}
    assert expiry_rows() == sorted(expired_row(lot, -40) for lot in lots)
    assert [balance(c) for c in customers] == [50] * 5
    assert [ledger_sum(c) for c in customers] == [50] * 5


def test_expiry_row_appearing_after_the_read_is_kept_and_not_counted(
    run_at, app, monkeypatch
):
    priya, priya_lot, _ = worked_example("Priya Sharma")
    rahul = f.customer(name="Rahul Verma", gems_balance=75)
    rahul_lot = f.gems(rahul, "earned", 75, YEAR_AGO - timedelta(days=9))
    platform_row = (
        "gem_platform_exp",
        priya.id,
        -40,
        f"expired:{priya_lot.id}",
        RUN - timedelta(seconds=1),
    )
    real_unspent_of_lots = maintenance.unspent_of_lots

    def read_then_the_platform_expires_priya(where, **options):
        lots = real_unspent_of_lots(where, **options)
        f.gems(
            priya,
            "expired",
            -40,
            platform_row[4],
            id=platform_row[0],
            reference=platform_row[3],
        )
        return lots

    monkeypatch.setattr(
        maintenance, "unspent_of_lots", read_then_the_platform_expires_priya
    )

    result = maintenance.gems_auto_expire(job_context(app, "gems-auto-expire", RUN))

    assert result == {"success": True, "processed": 1}
    assert expiry_rows() == sorted([platform_row, expired_row(rahul_lot, -75)])
    assert (balance(priya), balance(rahul)) == (90, 0)


def test_out_of_time_keeps_finished_chunks_and_defers_the_rest(run_at, app, chunk_of):
    chunk_of(1)
    first, first_lot, _ = worked_example()
    second = f.customer(gems_balance=75)
    second_lot = f.gems(second, "earned", 75, YEAR_AGO - timedelta(days=9))
    budget = budget_spent_after("gems-auto-expire", checks=1)

    with pytest.raises(BudgetExceeded):
        maintenance.gems_auto_expire(
            job_context(app, "gems-auto-expire", RUN, budget=budget)
        )
    done = expiry_rows()
    rerun = maintenance.gems_auto_expire(job_context(app, "gems-auto-expire", RUN))

    assert done == [expired_row(first_lot, -40)]
    assert rerun == {"success": True, "processed": 1}
    assert sorted(expiry_rows()) == sorted(
        [expired_row(first_lot, -40), expired_row(second_lot, -75)]
    )
    assert (balance(first), balance(second)) == (50, 0)


@pytest.mark.parametrize("config_overrides", [{"JOB_TIME_BUDGET": 0}])
def test_no_time_left_answers_503_and_writes_nothing(run_at, call_job):
    customer, _, _ = worked_example()

    response = call_job("gems-auto-expire")

    assert response.status_code == 503
    assert expiry_rows() == []
    assert balance(customer) == 90


def test_expiry_row_written_by_someone_else_is_respected(run_at, call_job):
    customer, first, _ = worked_example()
    f.gems(
        customer,
        "expired",
        -40,
        RUN - timedelta(minutes=1),
        id="gem_platform_exp",
        reference=f"expired:{first.id}",
    )
    Customer.update(gems_balance=50).where(Customer.id == customer.id).execute()

    response = call_job("gems-auto-expire")

    assert response.get_json() == {"success": True, "processed": 0}
    assert balance(customer) == 50
    assert [row[0] for row in expiry_rows()] == ["gem_platform_exp"]


@pytest.mark.parametrize("chunk", [500, 3])
def test_twice_at_once_expires_each_lot_once(run_at, app, backend, chunk_of, chunk):
    if backend != "postgres":
        pytest.skip("concurrent runs need PostgreSQL")
    chunk_of(chunk)
    customers = []
    for n in range(8):
        customer, _, _ = worked_example(f"Customer {n}")
        customers.append(customer)

    results = twice_at_once(app, maintenance.gems_auto_expire, "gems-auto-expire", RUN)

    assert sum(r["processed"] for r in results) == 8
    assert [row[2] for row in expiry_rows()] == [-40] * 8
    assert [balance(c) for c in customers] == [50] * 8
    assert [ledger_sum(c) for c in customers] == [50] * 8


def test_redemption_committed_while_the_job_waits_is_counted(run_at, app, backend):
    if backend != "postgres":
        pytest.skip("row locks need PostgreSQL")
    customer = f.customer(gems_balance=150)
    lot = f.gems(customer, "earned", 100, YEAR_AGO - timedelta(days=2))
    f.gems(customer, "earned", 50, YEAR_AGO + timedelta(days=20))
    redeeming = threading.Event()
    release = threading.Event()
    job_pid = []

    def redeem_30():
        # The platform's redemption: lock the customer, write, then commit late.
        with db.atomic():
            Customer.update(gems_balance=Customer.gems_balance - 30).where(
                Customer.id == customer.id
            ).execute()
            f.gems(customer, "redeemed", -30, RUN - timedelta(seconds=5))
            redeeming.set()
            assert release.wait(timeout=30)

    def expire():
        assert redeeming.wait(timeout=30)
        job_pid.append(db.execute_sql("SELECT pg_backend_pid()").fetchone()[0])
        return maintenance.gems_auto_expire(job_context(app, "gems-auto-expire", RUN))

    def release_once_the_job_waits():
        assert redeeming.wait(timeout=30)
        try:
            _wait_until_blocked(job_pid)
        finally:
            release.set()

    _, result, _ = in_threads(redeem_30, expire, release_once_the_job_waits)

    assert result == {"success": True, "processed": 1}
    assert expiry_rows() == [expired_row(lot, -70)]
    assert balance(customer) == 50
    assert ledger_sum(customer) == 50


def _wait_until_blocked(job_pid, attempts=300):
    """Poll pg_stat_activity until the job's connection waits on a lock."""
    for _ in range(attempts):
        if job_pid:
            waiting = db.execute_sql(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                (job_pid[0],),
            ).fetchone()
            if waiting and waiting[0] == "Lock":
                return
        time.sleep(0.05)
    raise AssertionError("gems-auto-expire never waited for the customer's row")
