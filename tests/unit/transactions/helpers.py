"""Test helpers shared by the wallet, transaction and integration suites.

Making wallets and transactions through the API, and checking that kept totals
equal the transactions they summarise.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from bson import Decimal128, ObjectId

from finance.stats import totals
from finance.stats.models import Holding, MonthlyTotal
from finance.transactions.models import Transaction
from finance.wallets.models import Wallet

ZERO = Decimal(0)

#: What the web client reads from a transaction and from an error row (api-contract.md, MUST).
TRANSACTION_MUST = (
    "id",
    "wallet_id",
    "date",
    "asset_name",
    "asset_type",
    "transaction_type",
    "volume",
    "item_price",
    "transaction_amount",
    "currency",
    "fee",
    "created_at",
)
ERROR_MUST = (
    "id",
    "wallet_id",
    "import_id",
    "row_number",
    "date",
    "asset_name",
    "asset_type",
    "transaction_type",
    "volume",
    "item_price",
    "transaction_amount",
    "currency",
    "fee",
    "error_type",
    "error_message",
    "field_name",
    "value",
    "suggestion",
    "processed",
)


def new_wallet(user, name: str = "Main", **body) -> str:
    """Create a wallet through the API (EUR unless told otherwise); return its id."""
    response = user.post("/api/wallets", json={"name": name, "base_currency": "EUR", **body})
    assert response.status_code == 201, response.json
    return response.json["id"]


def add_transaction(user, wallet_id: str, **fields) -> dict:
    """POST a transaction (a 100 deposit on 2024-03-15 unless told otherwise); return the item."""
    body = {
        "wallet_id": wallet_id,
        "date": "2024-03-15",
        "transaction_type": "DEPOSIT",
        "transaction_amount": 100,
    }
    body.update(fields)
    response = user.post("/api/transactions", json=body)
    assert response.status_code == 201, response.json
    return response.json


def dec(value) -> Decimal:
    if value is None:
        return ZERO
    return value.to_decimal() if isinstance(value, Decimal128) else Decimal(value)


def sums_of(rows) -> dict:
    """The wallet totals, summed independently of finance.stats.totals."""
    result = defaultdict(Decimal)
    for row in rows:
        kind, amount, fee = (
            row["transaction_type"],
            dec(row["transaction_amount"]),
            dec(row.get("fee")),
        )
        result["balance"] += amount
        if kind in ("DEPOSIT", "TRANSFER_IN") or (kind == "TRANSFER" and amount > 0):
            result["deposits"] += amount
        if kind in ("WITHDRAWAL", "TRANSFER_OUT") or (kind == "TRANSFER" and amount < 0):
            result["withdrawals"] -= amount
        if kind in ("SELL", "DIVIDEND", "INTEREST"):
            result["income"] += amount
        result["fees"] += fee - (amount if kind == "FEE" else ZERO)
    return {name: result[name] for name in ("balance", "deposits", "withdrawals", "income", "fees")}


def _stored_grain(document, wallet_id, names):
    stored = {}
    for doc in document._get_collection().find({"wallet": wallet_id}):
        values = {name: dec(doc.get(name)) for name in names}
        values["count"] = doc.get("count", 0)
        if values["count"] or any(values[name] for name in names):
            stored[doc["_id"]] = values
    return stored


def _expected_grain(changes, names):
    return {
        key: {**{name: change["sums"].get(name, ZERO) for name in names}, "count": change["count"]}
        for key, change in changes.items()
        if change["count"] or any(change["sums"].values())
    }


def assert_kept_totals_match(wallet_id: str | ObjectId) -> dict:
    """Every kept total of the wallet equals a recomputation from its transactions."""
    wallet_id = ObjectId(wallet_id)
    rows = list(Transaction._get_collection().find({"wallet": wallet_id}))
    kept = Wallet._get_collection().find_one({"_id": wallet_id})["totals"]
    stored = {
        name: dec(kept.get(name))
        for name in ("balance", "deposits", "withdrawals", "income", "fees")
    }
    assert stored == sums_of(rows)
    assert kept.get("count", 0) == len(rows)

    deltas = totals.collect(rows)
    holding_fields = ("buy_volume", "buy_amount", "sell_volume", "sell_amount", "income", "fees")
    assert _stored_grain(Holding, wallet_id, holding_fields) == _expected_grain(
        deltas.holdings, holding_fields
    )
    month_fields = ("net", "deposits", "withdrawals", "income", "fees")
    assert _stored_grain(MonthlyTotal, wallet_id, month_fields) == _expected_grain(
        deltas.months, month_fields
    )
    return {**stored, "count": len(rows)}
