"""/api/stats: figures, allocation, holdings and balance history, read from kept totals."""

from __future__ import annotations

from ..auth.current import current_user, protect
from ..common.blueprint import Blueprint
from . import service
from .schemas import (
    AllocationSchema,
    BalanceHistoryArgsSchema,
    BalanceHistorySchema,
    HoldingsArgsSchema,
    HoldingsSchema,
    StatsArgsSchema,
    StatsSchema,
)

blp = protect(
    Blueprint(
        "stats",
        __name__,
        url_prefix="/api/stats",
        description="Statistics per wallet or over all the caller's wallets, read from totals "
        "kept on every write (a read never scans transactions).",
    )
)

NOT_FOUND = "`wallet_id` is not one of your wallets."
WALLET = "65f1c0ffee0123456789abcd"

STATS_EXAMPLE = {
    "wallet_id": WALLET,
    "wallet_name": "Broker account",
    "balance": 10250.75,
    "total_count": 1342,
    "deposits": 25000,
    "withdrawals": 3000,
    "income": 8400.5,
    "fees": 120.3,
    "by_currency": {"EUR": 9000.75, "USD": 1250},
}


@blp.route("")
@blp.arguments(StatsArgsSchema, location="query")
@blp.response(200, StatsSchema, example=STATS_EXAMPLE)
@blp.alt_response(404, description=NOT_FOUND)
def stats(args):
    """Balance, counts, deposits, withdrawals, income and fees.

    With `wallet_id`: that wallet's figures. Without: the same figures summed over all
    your wallets, plus `wallet_count` and `wallets` (each wallet's figures, newest first).
    `balance` is the signed sum of the transactions' `transaction_amount`.
    """
    return service.wallet_stats(current_user().id, args["wallet_id"])


@blp.route("/allocation")
@blp.arguments(StatsArgsSchema, location="query")
@blp.response(
    200,
    AllocationSchema,
    example={
        "wallet_id": WALLET,
        "total_value": 24615.9,
        "allocation": [
            {
                "asset_type": "stock",
                "value": 15230.4,
                "percentage": 61.87,
                "holdings_count": 4,
                "priced_count": 3,
            },
            {
                "asset_type": "cash",
                "value": 9385.5,
                "percentage": 38.13,
                "holdings_count": 0,
                "priced_count": 0,
            },
        ],
    },
)
@blp.alt_response(404, description=NOT_FOUND)
def allocation(args):
    """Allocation by asset type: value and percentage.

    An open holding is worth its net volume at the asset's latest price, or at average
    cost when the asset has no price; cash is the wallet balance when positive. Values
    are rounded to cents; percentages (2 decimals) come from the exact values and add up
    to exactly 100 — the rounding residue goes, a hundredth each, to the items with the
    largest remainders. No currency conversion is made.
    """
    return service.allocation(current_user().id, args["wallet_id"])


@blp.route("/holdings")
@blp.arguments(HoldingsArgsSchema, location="query")
@blp.response(
    200,
    HoldingsSchema,
    example={
        "wallet_id": WALLET,
        "count": 1,
        "holdings": [
            {
                "asset_key": "AAPL",
                "asset_id": None,
                "asset_name": "Apple",
                "asset_symbol": "AAPL",
                "asset_type": "stock",
                "net_volume": 12,
                "buy_volume": 20,
                "sell_volume": 8,
                "buy_amount": 3010,
                "average_cost": 150.5,
                "invested": 1806,
                "realised": 1400,
                "realised_gain": 196,
                "income": 42.5,
                "fees": 9.9,
                "current_price": None,
                "price_date": None,
                "current_value": None,
                "unrealised_gain": None,
                "transaction_count": 7,
                "closed": False,
            }
        ],
    },
)
@blp.alt_response(404, description=NOT_FOUND)
def holdings(args):
    """Holdings per asset: volumes, cost basis, realised and unrealised gains, income, fees.

    Costs use the average-cost method (fees included in the cost of buys). Without
    `wallet_id`, an asset's holdings in every wallet are added together. Positions sold
    out (net volume 0) are listed only with `include_closed=true`, flagged `closed`.
    """
    return service.holdings(current_user().id, args["wallet_id"], args["include_closed"])


@blp.route("/balance-history")
@blp.arguments(BalanceHistoryArgsSchema, location="query")
@blp.response(
    200,
    BalanceHistorySchema,
    example={
        "wallet_id": WALLET,
        "date_from": "2024-01",
        "date_to": "2024-02",
        "opening_balance": 9438.35,
        "closing_balance": 10250.75,
        "months": [
            {
                "month": "2024-01",
                "net": 500,
                "balance": 9938.35,
                "deposits": 500,
                "withdrawals": 0,
                "income": 0,
                "fees": 0,
                "count": 1,
            },
            {
                "month": "2024-02",
                "net": 312.4,
                "balance": 10250.75,
                "deposits": 0,
                "withdrawals": 0,
                "income": 316.9,
                "fees": 4.5,
                "count": 3,
            },
        ],
    },
)
@blp.alt_response(404, description=NOT_FOUND)
def balance_history(args):
    """Monthly series: net change, running balance, deposits, withdrawals, income, fees.

    `date_from`/`date_to` are dates or `YYYY-MM` months; a date stands for its whole
    month. `opening_balance` is everything before the first month asked for.
    """
    return service.balance_history(
        current_user().id, args["wallet_id"], args["date_from"], args["date_to"]
    )
