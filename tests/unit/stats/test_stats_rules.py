"""Pure rules of the stats domain: percentage rounding, month bounds, holding keys."""

from __future__ import annotations

from decimal import Decimal

import marshmallow as ma
import pytest
from bson import ObjectId

from finance.stats import totals
from finance.stats.schemas import BalanceHistoryArgsSchema
from finance.stats.service import _next_month, percentages


def test_percentages_add_up_to_exactly_100_with_the_residue_on_the_largest_remainders():
    assert percentages({"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)}) == {
        "a": Decimal("33.34"),  # equal remainders and values: ties go by name
        "b": Decimal("33.33"),
        "c": Decimal("33.33"),
    }
    seven = percentages({f"t{i}": Decimal(1) for i in range(7)})
    assert sum(seven.values()) == 100
    assert sorted(set(seven.values())) == [Decimal("14.28"), Decimal("14.29")]
    assert percentages({"only": Decimal("0.01")}) == {"only": Decimal("100.00")}
    assert percentages({"tiny": Decimal("0.01"), "big": Decimal("99999.99")}) == {
        "tiny": Decimal("0.00"),
        "big": Decimal("100.00"),
    }
    assert percentages({}) == {}
    assert percentages({"zero": Decimal(0)}) == {}


def test_percentages_of_many_uneven_values():
    values = {f"k{i}": Decimal(i * i + 1) / 7 for i in range(1, 40)}
    shares = percentages(values)
    assert sum(shares.values()) == Decimal(100)
    total = sum(values.values())
    for name, share in shares.items():
        assert abs(share - values[name] * 100 / total) < Decimal("0.01")


def test_next_month_rolls_the_year():
    assert _next_month("2024-11") == "2024-12"
    assert _next_month("2024-12") == "2025-01"


@pytest.mark.parametrize(
    ("given", "month"),
    [("2024-03-15", "2024-03"), ("2024-03", "2024-03"), (" 2024-12-31 ", "2024-12")],
)
def test_dates_and_months_both_bound_the_history(given, month):
    loaded = BalanceHistoryArgsSchema().load({"date_from": given})
    assert loaded == {"wallet_id": None, "date_from": month, "date_to": None}


@pytest.mark.parametrize("given", ["2024-3", "2024-00", "2024-02-30", "March", "20240301"])
def test_other_bounds_are_refused(given):
    with pytest.raises(ma.ValidationError) as caught:
        BalanceHistoryArgsSchema().load({"date_to": given})
    assert caught.value.messages == {
        "date_to": ["Must be a date (YYYY-MM-DD) or a month (YYYY-MM)."]
    }


def test_holding_keys():
    asset = ObjectId()
    key = totals.holding_key
    assert key({"transaction_type": "BUY", "asset": asset, "asset_symbol": "X"}) == str(asset)
    assert key({"transaction_type": "SELL", "asset_symbol": " aapl "}) == "AAPL"
    assert key({"transaction_type": "BUY", "asset_name": "Nestlé"}) == "NESTLÉ"  # Unicode
    # A blank symbol is no symbol: the name is used, and with neither there is no holding.
    assert key({"transaction_type": "BUY", "asset_symbol": "  ", "asset_name": "Apple"}) == (
        "APPLE"
    )
    assert key({"transaction_type": "BUY", "asset_symbol": " ", "asset_name": ""}) is None
    # Dividends join a holding only when they name the security (id or symbol).
    assert key({"transaction_type": "DIVIDEND", "asset_symbol": "aapl"}) == "AAPL"
    assert key({"transaction_type": "DIVIDEND", "asset_name": "Apple"}) is None
    assert key({"transaction_type": "DIVIDEND", "asset_symbol": " ", "asset_name": "A"}) is None
    assert key({"transaction_type": "INTEREST", "asset_symbol": "AAPL"}) is None
