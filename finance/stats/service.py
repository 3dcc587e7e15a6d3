"""Statistics read from the totals kept on write — never from a scan of transactions.

* figures (balance, deposits, ...): the wallet's ``totals`` (one ``find_one`` by owner and
  id), or every wallet of the caller in one query;
* holdings and allocation: the :class:`~finance.stats.models.Holding` documents of the
  wallet(s) (index ``owner_wallet``) and the latest price of their assets in one
  aggregation (index ``uniq_asset_date``);
* balance history: the :class:`~finance.stats.models.MonthlyTotal` documents (index
  ``owner_wallet_month``).

Every query is scoped by the caller; another user's wallet id is a 404. Reads use the raw
collections with projections: these are the hot paths of the dashboard.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from bson import Decimal128, ObjectId

from ..assets.models import AssetPrice
from ..common.decimals import decimal_from_128
from ..common.models import object_id
from ..errors import NotFound
from ..wallets.models import Wallet
from .models import Holding, MonthlyTotal

ZERO = Decimal(0)
CENT = Decimal("0.01")
UNIT_PRICE = Decimal("0.00000001")
HUNDRED = Decimal(100)
FIGURES = ("balance", "deposits", "withdrawals", "income", "fees")
MONTH_FIELDS = ("net", "deposits", "withdrawals", "income", "fees")
HOLDING_SUMS = ("buy_volume", "buy_amount", "sell_volume", "sell_amount", "income", "fees")


def dec(value: Any) -> Decimal:
    """A stored number as an exact Decimal (missing means 0)."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal128):
        return decimal_from_128(value)
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


# Wide enough that rounding a derived figure (volume x price can reach 10^30) never fails.
_ROUNDING = Context(prec=60, rounding=ROUND_HALF_EVEN)


def rounded(value: Decimal, exponent: Decimal) -> Decimal:
    """``value`` rounded half-even to ``exponent`` (``CENT``...); ``-0`` comes out as ``0``."""
    result = value.quantize(exponent, context=_ROUNDING)
    return result.copy_abs() if result.is_zero() else result


def cents(value: Decimal) -> Decimal:
    return rounded(value, CENT)


# -- wallets -------------------------------------------------------------------------------------


def owned_wallet(owner_id: ObjectId, wallet_id: str | ObjectId, projection: Mapping) -> dict:
    """The caller's wallet (raw, projected) or 404 — another user's wallet is not found."""
    oid = object_id(wallet_id)
    doc = None
    if oid is not None:
        # The hint keeps the id index even where a planner would weigh the owner indexes
        # (the test server scans the collection for {_id, owner} without it).
        cursor = Wallet._get_collection().find({"_id": oid, "owner": owner_id}, dict(projection))
        doc = next(iter(cursor.hint("_id_").limit(1)), None)
    if doc is None:
        raise NotFound("Wallet not found.")
    return doc


def owned_wallets(owner_id: ObjectId, projection: Mapping) -> list[dict]:
    """Every wallet of the caller, newest first (index ``owner_created``)."""
    cursor = Wallet._get_collection().find({"owner": owner_id}, dict(projection))
    return list(cursor.sort([("created_at", -1), ("_id", -1)]))


# -- figures: GET /api/stats ---------------------------------------------------------------------

_FIGURES_PROJECTION = {"name": 1, "totals": 1}


def _figures(wallet: Mapping[str, Any]) -> dict[str, Any]:
    totals = wallet.get("totals") or {}
    result: dict[str, Any] = {
        "wallet_id": str(wallet["_id"]),
        "wallet_name": wallet.get("name"),
        "total_count": int(totals.get("count") or 0),
        "by_currency": {},
    }
    for name in FIGURES:
        result[name] = dec(totals.get(name))
    for currency, value in sorted((totals.get("by_currency") or {}).items()):
        amount = dec(value)
        if amount:
            result["by_currency"][currency] = amount
    return result


def wallet_stats(owner_id: ObjectId, wallet_id: str | None = None) -> dict[str, Any]:
    """The figures of one wallet, or of all the caller's wallets with a per-wallet list.

    One query either way: the wallet's ``find_one`` (by owner and id), or the caller's
    wallets. (First and last month are not here: they would need a second query, and
    the balance history has them.)
    """
    if wallet_id is not None:
        return _figures(owned_wallet(owner_id, wallet_id, _FIGURES_PROJECTION))

    wallets = owned_wallets(owner_id, _FIGURES_PROJECTION)
    items = [_figures(wallet) for wallet in wallets]
    by_currency: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        for currency, value in item["by_currency"].items():
            by_currency[currency] += value
    summary: dict[str, Any] = {
        "wallet_id": None,
        "wallet_name": None,
        "total_count": sum(item["total_count"] for item in items),
        "by_currency": {k: v for k, v in sorted(by_currency.items()) if v},
        "wallet_count": len(items),
        "wallets": items,
    }
    for name in FIGURES:
        summary[name] = sum((item[name] for item in items), ZERO)
    return summary


# -- prices --------------------------------------------------------------------------------------


def latest_prices_pipeline(asset_ids: Iterable[ObjectId]) -> list[dict[str, Any]]:
    """Latest price per asset: the ``(asset, -date)`` index order, first per asset."""
    return [
        {"$match": {"asset": {"$in": sorted(set(asset_ids))}}},
        {"$sort": {"asset": 1, "date": -1}},
        {
            "$group": {
                "_id": "$asset",
                "price": {"$first": "$price"},
                "date": {"$first": "$date"},
                "currency": {"$first": "$currency"},
            }
        },
    ]


def latest_prices(asset_ids: Iterable[ObjectId]) -> dict[ObjectId, dict[str, Any]]:
    """``{asset id: {price, date, currency}}`` for those assets that have a price."""
    ids = [i for i in set(asset_ids) if i is not None]
    if not ids:
        return {}
    rows = AssetPrice._get_collection().aggregate(latest_prices_pipeline(ids))
    prices = {}
    for row in rows:
        when = row.get("date")
        prices[row["_id"]] = {
            "price": dec(row["price"]),
            "date": when.date() if isinstance(when, dt.datetime) else when,
            "currency": row.get("currency"),
        }
    return prices


# -- holdings ------------------------------------------------------------------------------------

_HOLDING_PROJECTION = {
    "asset": 1,
    "asset_key": 1,
    "asset_name": 1,
    "asset_symbol": 1,
    "asset_type": 1,
    "count": 1,
    **dict.fromkeys(HOLDING_SUMS, 1),
}


def _holding_docs(owner_id: ObjectId, wallet_id: ObjectId | None) -> list[dict]:
    query: dict[str, Any] = {"owner": owner_id}
    if wallet_id is not None:
        query["wallet"] = wallet_id
    return list(Holding._get_collection().find(query, _HOLDING_PROJECTION))


def _positions(docs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Holding documents as exact sums, merged per asset key (across wallets), empty ones out."""
    merged: dict[str, dict[str, Any]] = {}
    for doc in docs:
        count = int(doc.get("count") or 0)
        if count <= 0:
            continue  # every transaction of it was deleted: nothing to show
        key = doc.get("asset_key") or doc["_id"].split("|", 1)[-1]
        position = merged.get(key)
        if position is None:
            position = merged[key] = {
                "asset_key": key,
                "asset": doc.get("asset"),
                "asset_name": doc.get("asset_name"),
                "asset_symbol": doc.get("asset_symbol"),
                "asset_type": doc.get("asset_type") or "other",
                "count": 0,
                **dict.fromkeys(HOLDING_SUMS, ZERO),
            }
        elif position["asset"] is None and doc.get("asset") is not None:
            position["asset"] = doc["asset"]
        position["count"] += count
        for name in HOLDING_SUMS:
            position[name] += dec(doc.get(name))
    for position in merged.values():
        position["net_volume"] = position["buy_volume"] - position["sell_volume"]
    return list(merged.values())


def _average_cost(position: Mapping[str, Any]) -> Decimal | None:
    """Cash paid per unit bought (fees included); ``None`` without buys."""
    if position["buy_volume"] <= 0:
        return None
    return position["buy_amount"] / position["buy_volume"]


def _cost_of(position: Mapping[str, Any], volume: Decimal) -> Decimal | None:
    """``volume`` at average cost, computed as ``buy_amount * volume / buy_volume``."""
    if position["buy_volume"] <= 0:
        return None
    return position["buy_amount"] * volume / position["buy_volume"]


def _holding_item(position: Mapping[str, Any], price: Mapping | None) -> dict[str, Any]:
    net = position["net_volume"]
    average = _average_cost(position)
    invested = _cost_of(position, net)
    sold_cost = _cost_of(position, position["sell_volume"])
    value = net * price["price"] if price else None
    return {
        "asset_key": position["asset_key"],
        "asset_id": str(position["asset"]) if position["asset"] else None,
        "asset_name": position["asset_name"],
        "asset_symbol": position["asset_symbol"],
        "asset_type": position["asset_type"],
        "net_volume": net,
        "buy_volume": position["buy_volume"],
        "sell_volume": position["sell_volume"],
        "buy_amount": position["buy_amount"],
        "average_cost": rounded(average, UNIT_PRICE) if average is not None else None,
        "invested": cents(invested) if invested is not None else ZERO,
        "realised": position["sell_amount"],
        "realised_gain": (
            cents(position["sell_amount"] - sold_cost) if sold_cost is not None else None
        ),
        "income": position["income"],
        "fees": position["fees"],
        "current_price": price["price"] if price else None,
        "price_date": price["date"] if price else None,
        "current_value": cents(value) if value is not None else None,
        "unrealised_gain": (
            cents(value - invested) if value is not None and invested is not None else None
        ),
        "transaction_count": position["count"],
        "closed": net == 0,
    }


def holdings(
    owner_id: ObjectId, wallet_id: str | None = None, include_closed: bool = False
) -> dict[str, Any]:
    """Per asset: volumes, cost basis, realised and unrealised figures, income and fees."""
    wallet_oid = owned_wallet(owner_id, wallet_id, {"_id": 1})["_id"] if wallet_id else None
    positions = _positions(_holding_docs(owner_id, wallet_oid))
    if not include_closed:
        positions = [p for p in positions if p["net_volume"] != 0]
    prices = latest_prices(p["asset"] for p in positions if p["asset"] and p["net_volume"] > 0)
    items = [
        _holding_item(p, prices.get(p["asset"]) if p["net_volume"] > 0 else None) for p in positions
    ]

    def order(item: Mapping[str, Any]) -> tuple:
        worth = item["current_value"] if item["current_value"] is not None else item["invested"]
        return (item["closed"], -worth, item["asset_key"])

    items.sort(key=order)
    return {
        "wallet_id": str(wallet_oid) if wallet_oid else None,
        "holdings": items,
        "count": len(items),
    }


# -- allocation ----------------------------------------------------------------------------------


def percentages(values: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Shares of the total in percent, 2 decimals, adding up to exactly 100 (largest remainder).

    In hundredths of a percent, each share is ``value * 10000 // total`` (exact integer
    division) and the hundredths still missing — fewer than the number of items — go one
    each to the items with the largest remainders, ties to the larger value, then to the
    name. A non-positive total gives no shares.
    """
    total = sum(values.values(), ZERO)
    if total <= 0:
        return {}
    scaled = {name: value * 10000 for name, value in values.items()}
    units = {name: int(v // total) for name, v in scaled.items()}
    remainders = {name: v % total for name, v in scaled.items()}
    missing = 10000 - sum(units.values())
    ranked = sorted(values, key=lambda n: (-remainders[n], -values[n], n))
    for name in ranked[:missing]:
        units[name] += 1
    return {name: Decimal(unit).scaleb(-2) for name, unit in units.items()}


def allocation(owner_id: ObjectId, wallet_id: str | None = None) -> dict[str, Any]:
    """Value by asset type: open holdings at their latest price (else at cost) plus cash.

    Cash is each wallet's balance when positive. Values are in the prices' and wallets'
    own currencies: no conversion is made.
    """
    projection = {"totals.balance": 1}
    if wallet_id is not None:
        wallets = [owned_wallet(owner_id, wallet_id, projection)]
        wallet_oid = wallets[0]["_id"]
    else:
        wallets = owned_wallets(owner_id, projection)
        wallet_oid = None
    docs = _holding_docs(owner_id, wallet_oid) if wallets else []
    open_positions = [p for p in _positions(docs) if p["net_volume"] > 0]
    prices = latest_prices(p["asset"] for p in open_positions if p["asset"])

    values: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    priced: dict[str, int] = defaultdict(int)
    for position in open_positions:
        price = prices.get(position["asset"]) if position["asset"] else None
        if price is not None:
            value = position["net_volume"] * price["price"]
            priced[position["asset_type"]] += 1
        else:
            value = _cost_of(position, position["net_volume"])
            if value is None:
                continue  # sold more than ever bought here: no basis to value it on
        values[position["asset_type"]] += value
        counts[position["asset_type"]] += 1
    cash = sum((max(dec((w.get("totals") or {}).get("balance")), ZERO) for w in wallets), ZERO)
    if cash:
        values["cash"] += cash

    rounded = {name: cents(value) for name, value in values.items() if cents(value) > 0}
    shares = percentages({name: values[name] for name in rounded})
    items = [
        {
            "asset_type": name,
            "value": rounded[name],
            "percentage": shares.get(name, ZERO),
            "holdings_count": counts[name],
            "priced_count": priced[name],
        }
        for name in sorted(rounded, key=lambda n: (-values[n], n))
    ]
    return {
        "wallet_id": str(wallet_oid) if wallet_oid else None,
        "total_value": sum(rounded.values(), ZERO),
        "allocation": items,
    }


# -- balance history -----------------------------------------------------------------------------


def _next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def balance_history(
    owner_id: ObjectId,
    wallet_id: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> dict[str, Any]:
    """Monthly series with a running balance, from the monthly totals (one query).

    ``date_from``/``date_to`` are months (``YYYY-MM``). Months before ``date_from`` are
    read too, to make up the opening balance; the series runs from the first to the last
    month with transactions inside the range, with empty months in between filled in.
    """
    query: dict[str, Any] = {"owner": owner_id}
    wallet_oid = None
    if wallet_id is not None:
        wallet_oid = owned_wallet(owner_id, wallet_id, {"_id": 1})["_id"]
        query["wallet"] = wallet_oid
    if date_to:
        query["month"] = {"$lte": date_to}
    projection = {"_id": 0, "month": 1, "count": 1, **dict.fromkeys(MONTH_FIELDS, 1)}
    cursor = MonthlyTotal._get_collection().find(query, projection)
    if wallet_oid is not None:
        cursor = cursor.sort([("month", 1)])  # the index order within one wallet

    months: dict[str, dict[str, Any]] = {}
    opening = ZERO
    for doc in cursor:
        net = dec(doc.get("net"))
        if date_from and doc["month"] < date_from:
            opening += net
            continue
        count = int(doc.get("count") or 0)
        if count <= 0 and not net:
            continue  # a month whose transactions were all deleted
        point = months.get(doc["month"])
        if point is None:
            point = months[doc["month"]] = {
                "month": doc["month"],
                "count": 0,
                **dict.fromkeys(MONTH_FIELDS, ZERO),
            }
        point["count"] += count
        for name in MONTH_FIELDS:
            point[name] += dec(doc.get(name))

    series: list[dict[str, Any]] = []
    balance = opening
    if months:
        month, last = min(months), max(months)
        while month <= last:
            point = months.get(month) or {
                "month": month,
                "count": 0,
                **dict.fromkeys(MONTH_FIELDS, ZERO),
            }
            balance += point["net"]
            series.append({**point, "balance": balance})
            month = _next_month(month)
    return {
        "wallet_id": str(wallet_oid) if wallet_oid else None,
        "date_from": date_from,
        "date_to": date_to,
        "opening_balance": opening,
        "closing_balance": balance,
        "months": series,
    }
