from decimal import Decimal

import pytest

from formatting import first_name, inr


@pytest.mark.parametrize(
    "amount, shown",
    [
        ("0", "₹0.00"),
        ("999.5", "₹999.50"),
        ("1000", "₹1,000.00"),
        ("123456.5", "₹1,23,456.50"),
        ("12345678.05", "₹1,23,45,678.05"),
        ("-2500", "-₹2,500.00"),
        ("0.005", "₹0.01"),
    ],
)
def test_rupees_are_grouped_the_indian_way(amount, shown):
    assert inr(Decimal(amount)) == shown


def test_first_name_greets_by_the_first_word():
    assert first_name("Priya Sharma") == "Priya"
    assert first_name("  ") == "there"
    assert first_name(None) == "there"
