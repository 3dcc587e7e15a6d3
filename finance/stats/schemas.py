"""Query arguments and response shapes of /api/stats (marshmallow 4, explicit and directional).

Money and quantities leave as JSON numbers (exact decimals); months are ``YYYY-MM``.
"""

from __future__ import annotations

import datetime as dt
import re

import marshmallow as ma

from ..common.schemas import Amount, ObjectIdString

WALLET_EXAMPLE = "65f1c0ffee0123456789abcd"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _wallet_id(description: str) -> ObjectIdString:
    return ObjectIdString(
        load_default=None,
        metadata={"description": description, "example": WALLET_EXAMPLE},
    )


class MonthBound(ma.fields.String):
    """A date (``YYYY-MM-DD``) or a month (``YYYY-MM``) in a query; loads as ``YYYY-MM``.

    Monthly totals cannot be split, so a date stands for the whole month that contains it.
    """

    default_error_messages = {"invalid_month": "Must be a date (YYYY-MM-DD) or a month (YYYY-MM)."}

    def __init__(self, **kwargs):
        metadata = {"pattern": r"^\d{4}-(0[1-9]|1[0-2])(-\d{2})?$", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        match = _MONTH.match(text)
        if match:
            year, month = int(match[1]), int(match[2])
            if year >= 1 and 1 <= month <= 12:
                return f"{year:04d}-{month:02d}"
            raise self.make_error("invalid_month")
        if len(text) == 10:
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                raise self.make_error("invalid_month") from None
            return f"{day.year:04d}-{day.month:02d}"
        raise self.make_error("invalid_month")


# -- query arguments -----------------------------------------------------------------------------


class StatsArgsSchema(ma.Schema):
    wallet_id = _wallet_id("One of your wallets; omit it for all your wallets together.")


class HoldingsArgsSchema(StatsArgsSchema):
    include_closed = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Also list positions whose net volume is 0 (sold out)."},
    )


class BalanceHistoryArgsSchema(StatsArgsSchema):
    date_from = MonthBound(
        load_default=None,
        metadata={
            "description": "First month of the series: a date (its month) or `YYYY-MM`. "
            "Earlier months make up `opening_balance`.",
            "example": "2024-01-01",
        },
    )
    date_to = MonthBound(
        load_default=None,
        metadata={
            "description": "Last month of the series: a date (its month) or `YYYY-MM`.",
            "example": "2024-12-31",
        },
    )

    @ma.validates_schema
    def _ordered(self, data, **kwargs):
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ma.ValidationError("Must not be before date_from.", field_name="date_to")


# -- responses -----------------------------------------------------------------------------------


def _money(description: str, example: str | int | None = None, **kwargs) -> Amount:
    metadata: dict = {"description": description}
    if example is not None:
        metadata["example"] = example
    return Amount(required=True, metadata=metadata, **kwargs)


class WalletFiguresSchema(ma.Schema):
    """Figures of one wallet (or of all the caller's wallets), read from the kept totals."""

    wallet_id = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The wallet; `null` when summed over all wallets.",
            "example": WALLET_EXAMPLE,
        },
    )
    wallet_name = ma.fields.String(
        required=True, allow_none=True, metadata={"example": "Broker account"}
    )
    balance = _money("Signed sum of every transaction's `transaction_amount`.", 10250.75)
    total_count = ma.fields.Integer(
        required=True, metadata={"description": "Number of transactions.", "example": 1342}
    )
    deposits = _money("Money paid in: DEPOSIT, TRANSFER_IN and positive TRANSFER.", 25000)
    withdrawals = _money(
        "Money taken out (positive): WITHDRAWAL, TRANSFER_OUT and negative TRANSFER.", 3000
    )
    income = _money("SELL proceeds, DIVIDEND and INTEREST amounts.", 8400.5)
    fees = _money("Every transaction's `fee`, plus the amounts of FEE transactions.", 120.3)
    by_currency = ma.fields.Dict(
        keys=ma.fields.String(),
        values=Amount(),
        required=True,
        metadata={
            "description": "Balance per currency (currencies with a non-zero balance).",
            "example": {"EUR": 9000.75, "USD": 1250},
        },
    )


class StatsSchema(WalletFiguresSchema):
    wallet_count = ma.fields.Integer(
        metadata={"description": "Only without `wallet_id`: how many wallets are summed."}
    )
    wallets = ma.fields.List(
        ma.fields.Nested(WalletFiguresSchema),
        metadata={
            "description": "Only without `wallet_id`: the figures of each wallet, "
            "newest wallet first."
        },
    )


class AllocationItemSchema(ma.Schema):
    asset_type = ma.fields.String(
        required=True,
        metadata={
            "description": "Asset type of the holdings; `cash` is the positive wallet "
            "balance (plus any cash-type holdings).",
            "example": "stock",
        },
    )
    value = _money("Value of this type, rounded to cents.", 15230.4)
    percentage = _money(
        "Share of `total_value` in percent, 2 decimals; the items add up to exactly 100.", 61.87
    )
    holdings_count = ma.fields.Integer(
        required=True,
        metadata={"description": "Open holdings of this type (0 for pure cash).", "example": 4},
    )
    priced_count = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Of those, valued at their latest price (the rest at cost).",
            "example": 3,
        },
    )


class AllocationSchema(ma.Schema):
    wallet_id = ma.fields.String(
        required=True, allow_none=True, metadata={"example": WALLET_EXAMPLE}
    )
    total_value = _money("Sum of the items' values.", 24615.9)
    allocation = ma.fields.List(
        ma.fields.Nested(AllocationItemSchema),
        required=True,
        metadata={"description": "Largest value first; types worth 0 are left out."},
    )


class HoldingItemSchema(ma.Schema):
    asset_key = ma.fields.String(
        required=True,
        metadata={
            "description": "The holding's identity: the asset id, else the upper-cased "
            "symbol, else the upper-cased name.",
            "example": "AAPL",
        },
    )
    asset_id = ma.fields.String(allow_none=True, required=True)
    asset_name = ma.fields.String(allow_none=True, required=True, metadata={"example": "Apple"})
    asset_symbol = ma.fields.String(allow_none=True, required=True, metadata={"example": "AAPL"})
    asset_type = ma.fields.String(required=True, metadata={"example": "stock"})
    net_volume = _money("Bought minus sold volume.", 12)
    buy_volume = _money("Volume bought.", 20)
    sell_volume = _money("Volume sold.", 8)
    buy_amount = _money("Cash paid for the buys, fees included.", 3010)
    average_cost = Amount(
        required=True,
        allow_none=True,
        metadata={
            "description": "`buy_amount / buy_volume`, 8 decimals; `null` with no buys.",
            "example": 150.5,
        },
    )
    invested = _money("Cost basis of the remaining volume: `average_cost * net_volume`.", 1806)
    realised = _money("Cash received from sells, net of their fees.", 1400)
    realised_gain = Amount(
        required=True,
        allow_none=True,
        metadata={
            "description": "`realised - average_cost * sell_volume`; `null` with no buys.",
            "example": 196,
        },
    )
    income = _money("Dividends attributed to this asset.", 42.5)
    fees = _money("Fees of this asset's transactions.", 9.9)
    current_price = Amount(
        required=True,
        allow_none=True,
        metadata={"description": "Latest known price (assets with prices only).", "example": 189.2},
    )
    price_date = ma.fields.Date(required=True, allow_none=True)
    current_value = Amount(
        required=True,
        allow_none=True,
        metadata={
            "description": "`net_volume * current_price`, rounded to cents.",
            "example": 2270.4,
        },
    )
    unrealised_gain = Amount(
        required=True,
        allow_none=True,
        metadata={"description": "`current_value - invested`.", "example": 464.4},
    )
    transaction_count = ma.fields.Integer(required=True, metadata={"example": 7})
    closed = ma.fields.Boolean(
        required=True, metadata={"description": "`true` when the net volume is 0."}
    )


class HoldingsSchema(ma.Schema):
    wallet_id = ma.fields.String(
        required=True, allow_none=True, metadata={"example": WALLET_EXAMPLE}
    )
    holdings = ma.fields.List(
        ma.fields.Nested(HoldingItemSchema),
        required=True,
        metadata={
            "description": "Open positions first, largest value (or cost) first, then "
            "closed ones; ties by `asset_key`."
        },
    )
    count = ma.fields.Integer(required=True)


class MonthPointSchema(ma.Schema):
    month = ma.fields.String(required=True, metadata={"example": "2024-03"})
    net = _money("Net cash change in the month (signed sum of amounts).", 812.4)
    balance = _money("Running balance at the end of the month.", 10250.75)
    deposits = _money("Deposits in the month.", 1000)
    withdrawals = _money("Withdrawals in the month (positive).", 0)
    income = _money("Sells, dividends and interest in the month.", 310.2)
    fees = _money("Fees in the month.", 4.5)
    count = ma.fields.Integer(required=True, metadata={"example": 37})


class BalanceHistorySchema(ma.Schema):
    wallet_id = ma.fields.String(
        required=True, allow_none=True, metadata={"example": WALLET_EXAMPLE}
    )
    date_from = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The first month asked for (`YYYY-MM`), or `null`.",
            "example": "2024-01",
        },
    )
    date_to = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The last month asked for (`YYYY-MM`), or `null`.",
            "example": "2024-12",
        },
    )
    opening_balance = _money("Balance before the first month of the series.", 9438.35)
    closing_balance = _money("Balance at the end of the last month of the series.", 10250.75)
    months = ma.fields.List(
        ma.fields.Nested(MonthPointSchema),
        required=True,
        metadata={
            "description": "Oldest first, from the first to the last month with "
            "transactions in the range; months in between without any are included "
            "with zeros."
        },
    )
