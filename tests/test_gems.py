"""What is unspent of a gem lot (spec/JOBS.md section 6), computed in SQL."""

from datetime import date, timedelta

import pytest

from clock import ist_day_bounds
from jobs.gems import Lot, unspent_of_lots
from models import GemsTransaction
from tests import factories as f
from tests.query_count import count_queries

G = GemsTransaction
EARNED = G.kind == "earned"


def expiring_on(day):
    start, end = ist_day_bounds(day)
    return EARNED & (G.expires_at >= start) & (G.expires_at < end)


def lots(where=EARNED):
    return {lot.lot_id: lot.unspent for lot in unspent_of_lots(where)}


@pytest.fixture
def customer(app):
    return f.customer()


def test_worked_example_leaves_forty_of_the_first_lot(customer):
    first = f.gems(customer, "earned", 100, f.at("2025-12-01 10:00"))
    second = f.gems(customer, "earned", 50, f.at("2025-12-02 10:00"))
    f.gems(customer, "redeemed", -60, f.at("2025-12-03 10:00"))

    assert unspent_of_lots(EARNED) == [
        Lot(first.id, customer.id, 100, first.expires_at, 40),
        Lot(second.id, customer.id, 50, second.expires_at, 50),
    ]


def test_lot_fields_are_plain_values(customer):
    lot = f.gems(customer, "earned", 25, f.at("2025-12-01 10:00"))

    (found,) = unspent_of_lots(G.id == lot.id)

    assert found.expires_at == f.at("2026-12-01 10:00")
    assert found.expires_at.utcoffset() == timedelta(0)
    assert isinstance(found.amount, int) and isinstance(found.unspent, int)


def test_redemption_larger_than_the_oldest_lot_eats_into_the_next(customer):
    first = f.gems(customer, "earned", 100, f.at("2025-12-01 10:00"))
    second = f.gems(customer, "earned", 50, f.at("2025-12-02 10:00"))
    third = f.gems(customer, "earned", 30, f.at("2025-12-03 10:00"))
    f.gems(customer, "redeemed", -70, f.at("2025-12-04 10:00"))
    f.gems(customer, "redeemed", -50, f.at("2025-12-05 10:00"))

    assert lots() == {first.id: 0, second.id: 30, third.id: 30}


def test_earlier_expiry_counts_as_consumed(customer):
    first = f.gems(customer, "earned", 100, f.at("2025-12-01 10:00"))
    second = f.gems(customer, "earned", 50, f.at("2025-12-02 10:00"))
    f.gems(customer, "redeemed", -60, f.at("2025-12-03 10:00"))
    f.gems(
        customer,
        "expired",
        -40,
        f.at("2026-12-01 00:10"),
        reference=f"expired:{first.id}",
    )

    assert lots() == {first.id: 0, second.id: 50}


def test_zero_amount_expiry_of_a_spent_lot_changes_nothing(customer):
    first = f.gems(customer, "earned", 100, f.at("2025-12-01 10:00"))
    second = f.gems(customer, "earned", 50, f.at("2025-12-02 10:00"))
    f.gems(customer, "redeemed", -100, f.at("2025-12-03 10:00"))
    f.gems(
        customer,
        "expired",
        0,
        f.at("2026-12-01 00:10"),
        reference=f"expired:{first.id}",
    )

    assert lots() == {first.id: 0, second.id: 50}


def test_lots_of_the_same_instant_are_consumed_in_id_order(customer):
    when = f.at("2025-12-01 10:00")
    later_id = f.gems(customer, "earned", 40, when, id="gem_b")
    earlier_id = f.gems(customer, "earned", 40, when, id="gem_a")
    f.gems(customer, "redeemed", -50, f.at("2025-12-02 10:00"))

    assert lots() == {earlier_id.id: 0, later_id.id: 30}


def test_filter_picks_lots_but_older_lots_still_count(customer):
    f.gems(customer, "earned", 100, f.at("2025-12-01 10:00"))
    second = f.gems(customer, "earned", 50, f.at("2025-12-08 10:00"))
    f.gems(customer, "earned", 70, f.at("2025-12-09 10:00"))
    f.gems(customer, "redeemed", -120, f.at("2025-12-10 10:00"))

    due = unspent_of_lots(expiring_on(date(2026, 12, 8)))

    assert [(lot.lot_id, lot.unspent) for lot in due] == [(second.id, 30)]


def test_each_customer_has_their_own_ledger(customer):
    other = f.customer()
    mine = f.gems(customer, "earned", 100, f.at("2025-12-01 10:00"))
    theirs = f.gems(other, "earned", 100, f.at("2025-12-01 11:00"))
    f.gems(other, "redeemed", -90, f.at("2025-12-02 10:00"))

    assert lots() == {mine.id: 100, theirs.id: 10}


def test_customers_without_a_matching_lot_are_left_out(customer):
    other = f.customer()
    f.gems(customer, "earned", 100, f.at("2025-12-01 10:00"))
    theirs = f.gems(other, "earned", 80, f.at("2025-12-05 10:00"))

    due = unspent_of_lots(expiring_on(date(2026, 12, 5)))

    assert [(lot.customer_id, lot.lot_id, lot.unspent) for lot in due] == [
        (other.id, theirs.id, 80)
    ]


def test_redeemed_rows_matching_the_filter_are_not_lots(customer):
    f.gems(customer, "earned", 100, f.at("2025-12-01 10:00"))
    f.gems(customer, "redeemed", -30, f.at("2025-12-02 10:00"))

    assert [lot.unspent for lot in unspent_of_lots(G.customer == customer.id)] == [70]


def test_overspent_ledger_never_gives_a_negative_unspent(customer):
    first = f.gems(customer, "earned", 10, f.at("2025-12-01 10:00"))
    f.gems(customer, "redeemed", -25, f.at("2025-12-02 10:00"))

    assert lots() == {first.id: 0}


def test_nothing_matching_gives_no_lots(customer):
    f.gems(customer, "earned", 10, f.at("2025-12-01 10:00"))

    assert unspent_of_lots(EARNED & (G.expires_at < f.at("2020-01-01 00:00"))) == []


def test_one_query_whatever_the_number_of_customers(customer, monkeypatch):
    for n in range(30):
        someone = f.customer()
        f.gems(someone, "earned", 100 + n, f.at("2025-12-01 10:00"))
        f.gems(someone, "earned", 50, f.at("2025-12-02 10:00"))
        f.gems(someone, "redeemed", -(110 + n), f.at("2025-12-03 10:00"))

    with count_queries(monkeypatch) as queries:
        found = unspent_of_lots(EARNED)

    assert len(queries) == 1
    assert len(found) == 60
    assert {lot.unspent for lot in found if lot.amount == 50} == {40}
    assert {lot.unspent for lot in found if lot.amount != 50} == {0}


def test_named_customers_are_the_only_ledgers_read(customer):
    other = f.customer()
    first = f.gems(customer, "earned", 100, f.at("2025-12-01 10:00"))
    second = f.gems(customer, "earned", 50, f.at("2025-12-02 10:00"))
    f.gems(customer, "redeemed", -60, f.at("2025-12-03 10:00"))
    f.gems(other, "earned", 80, f.at("2025-12-01 11:00"))

    found = unspent_of_lots(EARNED, customers=[customer.id])

    assert [(lot.lot_id, lot.unspent) for lot in found] == [
        (first.id, 40),
        (second.id, 50),
    ]


def test_named_customers_still_give_only_the_matching_lots(customer):
    first = f.gems(customer, "earned", 100, f.at("2025-12-01 10:00"))
    f.gems(customer, "earned", 50, f.at("2025-12-02 10:00"))
    f.gems(customer, "redeemed", -60, f.at("2025-12-03 10:00"))

    found = unspent_of_lots(G.id == first.id, customers=[customer.id])

    assert [(lot.lot_id, lot.unspent) for lot in found] == [(first.id, 40)]
