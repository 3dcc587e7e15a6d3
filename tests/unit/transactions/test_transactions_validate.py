"""validate_canonical: the rules manual entry and imports share (pure, no database)."""

import datetime as dt
from decimal import Decimal

import pytest

from finance.errors import ValidationError
from finance.transactions.service import CANONICAL_FIELDS, validate_canonical

TODAY = dt.date(2024, 6, 30)


def check(**fields):
    base = {"date": dt.date(2024, 3, 15), "currency": "EUR"}
    base.update(fields)
    return validate_canonical(base, today=TODAY)


def rejected(**fields) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        check(**fields)
    assert caught.value.status_code == 422
    return caught.value


def test_a_valid_deposit_is_normalised_and_complete():
    result = check(
        transaction_type=" deposit ",
        transaction_amount=Decimal("100.50"),
        currency="usd",
        asset_type="CASH",
        description="  salary ",
    )
    assert result == {
        "date": dt.date(2024, 3, 15),
        "transaction_type": "DEPOSIT",
        "transaction_amount": Decimal("100.50"),
        "volume": None,
        "item_price": None,
        "fee": Decimal(0),
        "currency": "USD",
        "asset_name": None,
        "asset_symbol": None,
        "asset_type": "cash",
        "description": "salary",
    }
    assert tuple(result) == CANONICAL_FIELDS


@pytest.mark.parametrize("kind", ["BUY", "WITHDRAWAL", "FEE", "TAX", "TRANSFER_OUT"])
def test_outflows_must_not_be_positive(kind):
    error = rejected(transaction_type=kind, transaction_amount=5, asset_name="X")
    message = (
        f"A {kind} moves cash out of the wallet, so transaction_amount must be negative (got 5)."
    )
    assert error.errors == {"transaction_amount": [message]}
    assert error.detail == message
    assert check(transaction_type=kind, transaction_amount=-5, asset_name="X")[
        "transaction_amount"
    ] == Decimal(-5)


@pytest.mark.parametrize("kind", ["SELL", "DEPOSIT", "DIVIDEND", "INTEREST", "TRANSFER_IN"])
def test_inflows_must_not_be_negative(kind):
    error = rejected(transaction_type=kind, transaction_amount="-5.25", asset_name="X")
    assert error.errors == {
        "transaction_amount": [
            f"A {kind} moves cash into the wallet, so transaction_amount must be positive "
            "(got -5.25)."
        ]
    }
    assert check(transaction_type=kind, transaction_amount="5.25", asset_name="X")[
        "transaction_amount"
    ] == Decimal("5.25")


@pytest.mark.parametrize("kind", ["TRANSFER", "OTHER"])
@pytest.mark.parametrize("amount", ["-7", "7", "0"])
def test_transfer_and_other_take_either_sign(kind, amount):
    assert check(transaction_type=kind, transaction_amount=amount)["transaction_amount"] == (
        Decimal(amount)
    )


def test_zero_has_no_wrong_sign():
    assert (
        check(
            transaction_type="BUY",
            transaction_amount=0,
            asset_name="Gift share",
            volume=1,
            item_price=0,
        )["transaction_amount"]
        == 0
    )


def test_buy_and_sell_amounts_are_computed_from_volume_price_and_fee():
    buy = check(
        transaction_type="BUY", asset_symbol="AAPL", volume="10", item_price="170.5", fee="1.5"
    )
    assert buy["transaction_amount"] == Decimal("-1706.5")
    sell = check(
        transaction_type="sell",
        asset_symbol="AAPL",
        volume=Decimal("0.5"),
        item_price=Decimal("200"),
        fee=Decimal("1"),
    )
    assert sell["transaction_amount"] == Decimal("99.0")
    no_fee = check(
        transaction_type="BUY", asset_name="BTC", volume="0.00012345", item_price="61234.56"
    )
    assert no_fee["transaction_amount"] == Decimal("-7.559406432")
    assert no_fee["fee"] == Decimal(0)


def test_a_sell_whose_fee_exceeds_the_proceeds_breaks_the_sign_rule():
    error = rejected(transaction_type="SELL", asset_name="X", volume=1, item_price=1, fee=2)
    assert "must be positive (got -1)" in error.errors["transaction_amount"][0]


def test_a_trade_needs_an_amount_or_volume_and_price():
    error = rejected(transaction_type="BUY", asset_name="X", volume=3)
    assert error.errors == {
        "transaction_amount": [
            "A BUY needs transaction_amount, or volume and item_price to compute it."
        ]
    }


def test_other_types_need_an_amount():
    error = rejected(transaction_type="DIVIDEND", volume=3, item_price=2)
    assert error.errors == {"transaction_amount": ["transaction_amount is required."]}


def test_a_trade_names_its_asset():
    error = rejected(transaction_type="SELL", transaction_amount=10)
    assert error.errors == {"asset_name": ["A SELL needs asset_name or asset_symbol."]}
    assert check(transaction_type="SELL", transaction_amount=10, asset_symbol="VWCE")


@pytest.mark.parametrize("name", ["volume", "item_price", "fee"])
def test_quantities_prices_and_fees_are_not_negative(name):
    fields = {
        "transaction_type": "BUY",
        "asset_name": "X",
        "transaction_amount": -10,
        "volume": 1,
        "item_price": 10,
        name: -1,
    }
    error = rejected(**fields)
    assert error.errors == {name: [f"{name} must be zero or positive."]}


def test_type_is_required_and_known():
    assert rejected(transaction_amount=1).errors == {
        "transaction_type": ["transaction_type is required."]
    }
    error = rejected(transaction_type="gift", transaction_amount=1)
    assert error.errors == {
        "transaction_type": [
            "transaction_type must be one of BUY, SELL, DEPOSIT, WITHDRAWAL, TRANSFER, DIVIDEND, "
            "INTEREST, FEE, TAX, TRANSFER_IN, TRANSFER_OUT, OTHER."
        ]
    }


def test_dates_run_from_1900_to_tomorrow():
    assert check(transaction_type="FEE", transaction_amount=-1, date=dt.date(2024, 7, 1))[
        "date"
    ] == dt.date(2024, 7, 1)
    error = rejected(transaction_type="FEE", transaction_amount=-1, date=dt.date(2024, 7, 2))
    assert error.errors == {
        "date": ["date 2024-07-02 is in the future; the latest allowed is 2024-07-01."]
    }
    assert rejected(
        transaction_type="FEE", transaction_amount=-1, date=dt.date(1899, 12, 31)
    ).errors == {"date": ["date must be 1900-01-01 or later."]}
    assert rejected(transaction_type="FEE", transaction_amount=-1, date=None).errors == {
        "date": ["date is required (YYYY-MM-DD)."]
    }
    assert rejected(transaction_type="FEE", transaction_amount=-1, date="2024-01-01").errors == {
        "date": ["date must be a calendar date (YYYY-MM-DD)."]
    }
    moment = dt.datetime(2024, 5, 5, 13, 30, tzinfo=dt.UTC)
    assert check(transaction_type="FEE", transaction_amount=-1, date=moment)["date"] == (
        dt.date(2024, 5, 5)
    )


def test_currency_defaults_to_the_wallets_and_is_three_letters():
    fields = {"date": dt.date(2024, 1, 2), "transaction_type": "FEE", "transaction_amount": -1}
    assert validate_canonical(fields, default_currency="CHF", today=TODAY)["currency"] == "CHF"
    with pytest.raises(ValidationError) as caught:
        validate_canonical(fields, today=TODAY)
    assert caught.value.errors == {
        "currency": [
            "currency is required: the wallet has no base currency, so give a 3-letter ISO-4217 "
            "code."
        ]
    }
    assert rejected(transaction_type="FEE", transaction_amount=-1, currency="EURO").errors == {
        "currency": ["currency must be a 3-letter ISO-4217 code."]
    }


def test_asset_type_is_one_of_the_asset_types():
    error = rejected(transaction_type="FEE", transaction_amount=-1, asset_type="stonks")
    assert error.errors["asset_type"][0].startswith("asset_type must be one of stock, etf,")
    assert check(transaction_type="FEE", transaction_amount=-1)["asset_type"] is None


@pytest.mark.parametrize("bad", ["abc", True, "NaN", "Infinity", "1e16", [1]])
def test_numbers_must_be_finite_numbers(bad):
    error = rejected(transaction_type="OTHER", transaction_amount=bad)
    assert list(error.errors) == ["transaction_amount"]
    assert error.errors["transaction_amount"][0].startswith("transaction_amount must be a")


def test_text_limits_and_types():
    error = rejected(
        transaction_type="OTHER", transaction_amount=1, description="x" * 2001, asset_symbol=123
    )
    assert error.errors == {
        "description": ["description must be at most 2000 characters."],
        "asset_symbol": ["asset_symbol must be text."],
    }


def test_every_problem_is_reported_at_once_and_the_detail_is_a_sentence():
    error = rejected(
        transaction_type="BUY", transaction_amount=5, fee=-1, currency="E", date=dt.date(2030, 1, 1)
    )
    assert set(error.errors) == {"date", "fee", "transaction_amount", "asset_name", "currency"}
    assert isinstance(error.detail, str)
    assert error.detail.startswith("date 2030-01-01 is in the future")
