"""Keeping totals on write: the deltas a set of transactions makes, applied with ``$inc``.

Every path that inserts, changes or deletes transactions (manual entry, import,
undo, wallet deletion) calls :func:`apply` in the same transaction as its own
write, so per-wallet, per-wallet-and-asset and per-wallet-and-month totals always
equal a full recomputation (which :mod:`finance.stats.rebuild` performs).
The deltas are summed in Python over the rows being written — never over a
wallet — and sent as one update per wallet plus one bulk write per grain.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from bson import Decimal128, ObjectId
from pymongo import UpdateOne
from pymongo.client_session import ClientSession

from ..common.decimals import decimal_from_128
from ..transactions.models import INCOME_TYPES
from ..wallets.models import Wallet
from .models import Holding, MonthlyTotal

_ZERO = Decimal(0)
HOLDING_TYPES = frozenset({"BUY", "SELL"})
DEPOSIT_TYPES = frozenset({"DEPOSIT", "TRANSFER_IN"})
WITHDRAWAL_TYPES = frozenset({"WITHDRAWAL", "TRANSFER_OUT"})


def _dec(value: Any) -> Decimal:
    if value is None:
        return _ZERO
    if isinstance(value, Decimal128):
        return decimal_from_128(value)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _label(value: Any) -> str | None:
    """An asset label as a key: trimmed and upper-cased; blank means "no label"."""
    if not isinstance(value, str):
        return None
    return value.strip().upper() or None


def asset_key(row: Mapping[str, Any]) -> str | None:
    """The holding a row belongs to: its asset id, else its symbol, else its name.

    A blank symbol counts as no symbol, so the name is used (and a row with neither
    belongs to no holding rather than to one keyed "").
    """
    if row.get("asset"):
        return str(row["asset"])
    return _label(row.get("asset_symbol")) or _label(row.get("asset_name"))


def holding_key(row: Mapping[str, Any]) -> str | None:
    """Trades make holdings; dividends join one only when they name a security."""
    kind = row["transaction_type"]
    if kind in HOLDING_TYPES or (
        kind == "DIVIDEND" and (row.get("asset") or _label(row.get("asset_symbol")))
    ):
        return asset_key(row)
    return None


def flows(row: Mapping[str, Any]) -> dict[str, Decimal]:
    """The cash-flow parts of one transaction, shared by every grain of totals."""
    kind = row["transaction_type"]
    amount = _dec(row["transaction_amount"])
    fee = _dec(row.get("fee"))
    deposits = withdrawals = _ZERO
    if kind in DEPOSIT_TYPES or (kind == "TRANSFER" and amount > 0):
        deposits = amount
    elif kind in WITHDRAWAL_TYPES or (kind == "TRANSFER" and amount < 0):
        withdrawals = -amount
    return {
        "amount": amount,
        "deposits": deposits,
        "withdrawals": withdrawals,
        "income": amount if kind in INCOME_TYPES else _ZERO,
        "fees": fee + (-amount if kind == "FEE" else _ZERO),
    }


def _month(value: dt.date | dt.datetime) -> str:
    return f"{value.year:04d}-{value.month:02d}"


class Deltas:
    """Sums of changes per wallet, per wallet x asset and per wallet x month."""

    def __init__(self) -> None:
        self.wallets: dict[ObjectId, dict[str, Any]] = {}
        self.holdings: dict[str, dict[str, Any]] = {}
        self.months: dict[str, dict[str, Any]] = {}

    def add(self, row: Mapping[str, Any], sign: int = 1) -> None:
        parts = {name: value * sign for name, value in flows(row).items()}
        wallet_id, owner = row["wallet"], row["owner"]

        wallet = self.wallets.setdefault(
            wallet_id,
            {"sums": defaultdict(Decimal), "count": 0, "currencies": defaultdict(Decimal)},
        )
        sums = wallet["sums"]
        sums["balance"] += parts["amount"]
        for name in ("deposits", "withdrawals", "income", "fees"):
            sums[name] += parts[name]
        wallet["count"] += sign
        if row.get("currency"):
            wallet["currencies"][row["currency"]] += parts["amount"]

        month_id = f"{wallet_id}|{_month(row['date'])}"
        month = self.months.setdefault(
            month_id,
            {
                "owner": owner,
                "wallet": wallet_id,
                "month": _month(row["date"]),
                "sums": defaultdict(Decimal),
                "count": 0,
            },
        )
        month["sums"]["net"] += parts["amount"]
        for name in ("deposits", "withdrawals", "income", "fees"):
            month["sums"][name] += parts[name]
        month["count"] += sign

        key = holding_key(row)
        if key is None:
            return
        holding = self.holdings.setdefault(
            f"{wallet_id}|{key}",
            {
                "owner": owner,
                "wallet": wallet_id,
                "asset_key": key,
                "sums": defaultdict(Decimal),
                "count": 0,
                "labels": {},
            },
        )
        kind, volume = row["transaction_type"], _dec(row.get("volume")) * sign
        hsums = holding["sums"]
        if kind == "BUY":
            hsums["buy_volume"] += volume
            hsums["buy_amount"] -= parts["amount"]
        elif kind == "SELL":
            hsums["sell_volume"] += volume
            hsums["sell_amount"] += parts["amount"]
        else:
            hsums["income"] += parts["amount"]
        hsums["fees"] += _dec(row.get("fee")) * sign
        holding["count"] += sign
        if sign > 0:
            holding["labels"] = {
                "asset": row.get("asset"),
                "asset_name": row.get("asset_name"),
                "asset_symbol": row.get("asset_symbol"),
                "asset_type": row.get("asset_type") or "other",
            }


def _inc(prefix: str, sums: Mapping[str, Decimal], count: int) -> dict[str, Any]:
    inc: dict[str, Any] = {f"{prefix}{k}": Decimal128(v) for k, v in sums.items() if v}
    if count:
        inc[f"{prefix}count"] = count
    return inc


def collect(rows: Iterable[Mapping[str, Any]], sign: int = 1) -> Deltas:
    deltas = Deltas()
    for row in rows:
        deltas.add(row, sign)
    return deltas


def apply(
    rows: Iterable[Mapping[str, Any]], sign: int = 1, session: ClientSession | None = None
) -> Deltas:
    """Add (``sign=1``) or remove (``sign=-1``) ``rows``' effect on every kept total.

    ``rows`` are transactions as stored (raw dicts or documents' fields), with
    ``owner``, ``wallet``, ``date``, ``transaction_type``, ``transaction_amount``,
    ``fee``, ``volume``, ``currency`` and the asset fields.
    """
    deltas = collect(rows, sign)
    wallets = Wallet._get_collection()
    for wallet_id, change in deltas.wallets.items():
        inc = _inc("totals.", change["sums"], change["count"])
        for currency, value in change["currencies"].items():
            if value:
                inc[f"totals.by_currency.{currency}"] = Decimal128(value)
        if inc:
            wallets.update_one({"_id": wallet_id}, {"$inc": inc}, session=session)

    holding_ops = []
    for holding_id, change in deltas.holdings.items():
        update: dict[str, Any] = {
            "$setOnInsert": {
                "owner": change["owner"],
                "wallet": change["wallet"],
                "asset_key": change["asset_key"],
            },
        }
        inc = _inc("", change["sums"], change["count"])
        if inc:
            update["$inc"] = inc
        if change["labels"]:
            update["$set"] = change["labels"]
        holding_ops.append(UpdateOne({"_id": holding_id}, update, upsert=True))
    if holding_ops:
        Holding._get_collection().bulk_write(holding_ops, ordered=False, session=session)

    month_ops = []
    for month_id, change in deltas.months.items():
        update = {
            "$setOnInsert": {
                "owner": change["owner"],
                "wallet": change["wallet"],
                "month": change["month"],
            }
        }
        inc = _inc("", change["sums"], change["count"])
        if inc:
            update["$inc"] = inc
        month_ops.append(UpdateOne({"_id": month_id}, update, upsert=True))
    if month_ops:
        MonthlyTotal._get_collection().bulk_write(month_ops, ordered=False, session=session)
    return deltas
