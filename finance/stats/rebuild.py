"""Recompute the kept totals from the transactions with aggregation pipelines; verify or rewrite.

For each wallet, two ``$group`` pipelines run on the server over the wallet's transactions
(index ``wallet_date``), where Decimal128 ``$sum`` is exact:

* the **cash pipeline** groups by month, currency, transaction type and the sign of the
  amount, summing ``transaction_amount`` and ``fee`` and counting;
* the **holdings pipeline** groups BUY, SELL and DIVIDEND rows by type and raw asset labels
  (``asset``, ``asset_symbol``, ``asset_name``, ``asset_type``), summing volume, amount and
  fee and counting.

The groups the server returns (months x currencies x types x 2 signs, and the distinct label
sets — never one per transaction) are then classified with the very functions the write
path uses, :func:`finance.stats.totals.flows` and :func:`~finance.stats.totals.holding_key`,
so the rules cannot drift apart:

* ``flows`` is linear within a group: every rule depends only on the type, except TRANSFER's
  deposit/withdrawal split, which depends on the sign — and the sign is part of the group
  key. So ``flows(sums of a group)`` is exactly the sum of ``flows`` over its rows;
* holding keys are computed in Python because MongoDB's ``$toUpper``/``$trim`` are
  ASCII-only while Python's are Unicode: on the server ``"Nestlé"`` upper-cases to
  ``"NESTLé"``, not the ``"NESTLÉ"`` the write path keys the holding by.

(Computing the classification on the server instead, with ``$cond`` sums, was also measured:
the same results, about twice the time on the test server, and a second copy of the rules.)

:func:`verify` compares the result with the kept documents; :func:`rebuild` replaces them.
Each wallet is handled in one multi-document transaction (a snapshot on a replica set), so a
write that lands meanwhile makes the rebuild retry instead of being overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from bson import Decimal128, ObjectId
from bson.decimal128 import create_decimal128_context
from pymongo.client_session import ClientSession

from ..common.decimals import decimal_from_128
from ..db import run_in_transaction
from ..transactions.models import Transaction
from ..wallets.models import Wallet
from . import totals
from .models import Holding, MonthlyTotal

ZERO = Decimal(0)
TOTAL_FIELDS = ("balance", "deposits", "withdrawals", "income", "fees")
MONTH_FIELDS = ("net", "deposits", "withdrawals", "income", "fees")
HOLDING_FIELDS = ("buy_volume", "buy_amount", "sell_volume", "sell_amount", "income", "fees")
HOLDING_ROW_TYPES = (*sorted(totals.HOLDING_TYPES), "DIVIDEND")


def _dec(value: Any) -> Decimal:
    if value is None:
        return ZERO
    if isinstance(value, Decimal128):
        return decimal_from_128(value)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _d128(value: Decimal) -> Decimal128:
    with localcontext(create_decimal128_context()):
        return Decimal128(value + 0)  # + 0 turns -0 into 0


# -- the pipelines -------------------------------------------------------------------------------

_AMOUNT = "$transaction_amount"


def cash_pipeline(owner: ObjectId, wallet: ObjectId) -> list[dict[str, Any]]:
    """Per month, currency, type and sign of the amount: sums of amount and fee, and count."""
    return [
        {"$match": {"owner": owner, "wallet": wallet}},
        {
            "$group": {
                "_id": {
                    "year": {"$year": "$date"},
                    "month": {"$month": "$date"},
                    "currency": "$currency",
                    "transaction_type": "$transaction_type",
                    "positive": {"$gt": [_AMOUNT, 0]},
                },
                "amount": {"$sum": _AMOUNT},
                "fee": {"$sum": "$fee"},
                "count": {"$sum": 1},
            }
        },
    ]


def holdings_pipeline(owner: ObjectId, wallet: ObjectId) -> list[dict[str, Any]]:
    """Per type and raw asset labels: volume, amount, fee and count of the trades/dividends."""
    return [
        # Two stages, which MongoDB merges: the first alone is what the test server plans
        # with (it collection-scans when the type filter is in the same stage).
        {"$match": {"owner": owner, "wallet": wallet}},
        {"$match": {"transaction_type": {"$in": list(HOLDING_ROW_TYPES)}}},
        {
            "$group": {
                "_id": {
                    "transaction_type": "$transaction_type",
                    "asset": "$asset",
                    "asset_symbol": "$asset_symbol",
                    "asset_name": "$asset_name",
                    "asset_type": "$asset_type",
                },
                "volume": {"$sum": "$volume"},
                "amount": {"$sum": _AMOUNT},
                "fee": {"$sum": "$fee"},
                "count": {"$sum": 1},
                "last_date": {"$max": "$date"},
                "last_id": {"$max": "$_id"},
            }
        },
    ]


# -- recomputation -------------------------------------------------------------------------------


@dataclass
class Figures:
    """Every kept total of one wallet, as plain exact values (recomputed or as stored)."""

    wallet: ObjectId
    owner: ObjectId
    totals: dict[str, Any]
    holdings: dict[str, dict[str, Any]] = field(default_factory=dict)
    months: dict[str, dict[str, Any]] = field(default_factory=dict)


def _blank(names: Iterable[str]) -> dict[str, Any]:
    return {**dict.fromkeys(names, ZERO), "count": 0}


def recompute(wallet: Mapping[str, Any], session: ClientSession | None = None) -> Figures:
    """The wallet's totals, holdings and months, recomputed from its transactions."""
    owner, wallet_id = wallet["owner"], wallet["_id"]
    collection = Transaction._get_collection()
    figures = Figures(wallet_id, owner, {**_blank(TOTAL_FIELDS), "by_currency": {}})
    wallet_totals = figures.totals

    with localcontext(create_decimal128_context()):
        for group in collection.aggregate(cash_pipeline(owner, wallet_id), session=session):
            key = group["_id"]
            parts = totals.flows(
                {
                    "transaction_type": key["transaction_type"],
                    "transaction_amount": _dec(group["amount"]),
                    "fee": _dec(group["fee"]),
                }
            )
            count = int(group["count"])
            wallet_totals["balance"] += parts["amount"]
            wallet_totals["count"] += count
            for name in ("deposits", "withdrawals", "income", "fees"):
                wallet_totals[name] += parts[name]
            currency = key.get("currency")
            if currency:
                by_currency = wallet_totals["by_currency"]
                by_currency[currency] = by_currency.get(currency, ZERO) + parts["amount"]
            month_key = f"{key['year']:04d}-{key['month']:02d}"  # as totals._month writes it
            month = figures.months.setdefault(
                f"{wallet_id}|{month_key}",
                {"owner": owner, "wallet": wallet_id, "month": month_key, **_blank(MONTH_FIELDS)},
            )
            month["net"] += parts["amount"]
            month["count"] += count
            for name in ("deposits", "withdrawals", "income", "fees"):
                month[name] += parts[name]

        newest: dict[str, tuple] = {}
        for group in collection.aggregate(holdings_pipeline(owner, wallet_id), session=session):
            labels = group["_id"]
            key = totals.holding_key(labels)
            if key is None:
                continue
            holding_id = f"{wallet_id}|{key}"
            holding = figures.holdings.setdefault(
                holding_id,
                {"owner": owner, "wallet": wallet_id, "asset_key": key, **_blank(HOLDING_FIELDS)},
            )
            kind = labels["transaction_type"]
            volume, amount = _dec(group["volume"]), _dec(group["amount"])
            if kind == "BUY":
                holding["buy_volume"] += volume
                holding["buy_amount"] -= amount
            elif kind == "SELL":
                holding["sell_volume"] += volume
                holding["sell_amount"] += amount
            else:
                holding["income"] += amount
            holding["fees"] += _dec(group["fee"])
            holding["count"] += int(group["count"])
            # Labels: those of the most recent transaction (the write path keeps the last
            # written one; labels are presentation, so verify does not compare them).
            last = group["last_date"]
            recency = (last is not None, last or 0, group["last_id"])
            if holding_id not in newest or recency > newest[holding_id]:
                newest[holding_id] = recency
                holding.update(
                    asset=labels.get("asset"),
                    asset_name=labels.get("asset_name"),
                    asset_symbol=labels.get("asset_symbol"),
                    asset_type=labels.get("asset_type") or "other",
                )
    return figures


def kept(wallet: Mapping[str, Any], session: ClientSession | None = None) -> Figures:
    """The wallet's totals, holdings and months as they are stored now."""
    stored = wallet.get("totals") or {}
    figures = Figures(
        wallet["_id"],
        wallet["owner"],
        {
            **{name: _dec(stored.get(name)) for name in TOTAL_FIELDS},
            "count": int(stored.get("count") or 0),
            "by_currency": {k: _dec(v) for k, v in (stored.get("by_currency") or {}).items()},
        },
    )
    scope = {"owner": wallet["owner"], "wallet": wallet["_id"]}  # indexes owner_wallet(_month)
    for doc in Holding._get_collection().find(scope, session=session):
        figures.holdings[doc["_id"]] = {
            **doc,
            **{name: _dec(doc.get(name)) for name in HOLDING_FIELDS},
            "count": int(doc.get("count") or 0),
        }
    for doc in MonthlyTotal._get_collection().find(scope, session=session):
        figures.months[doc["_id"]] = {
            **doc,
            **{name: _dec(doc.get(name)) for name in MONTH_FIELDS},
            "count": int(doc.get("count") or 0),
        }
    return figures


# -- comparison ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One kept value that is not what the transactions add up to."""

    wallet: str
    grain: str  # wallet | holding | month | orphan
    key: str
    field: str
    kept: Any
    recomputed: Any

    @property
    def fixable(self) -> bool:
        """Rebuild fixes everything but transactions left by a deleted wallet."""
        return not (self.grain == "orphan" and self.field == "transactions")

    def __str__(self) -> str:
        if self.grain == "orphan":
            where = f"deleted wallet {self.wallet}"
        elif self.grain == "wallet":
            where = f"wallet {self.wallet}"
        else:
            where = f"wallet {self.wallet} {self.grain} {self.key}"
        return f"{where}: {self.field} kept {self.kept} != recomputed {self.recomputed}"


def _empty(doc: Mapping[str, Any], names: Iterable[str]) -> bool:
    return not doc.get("count") and not any(doc.get(name) for name in names)


def _compare_docs(wallet, grain, kept_docs, fresh_docs, names, out: list[Difference]) -> None:
    for doc_id in sorted(set(kept_docs) | set(fresh_docs)):
        old, new = kept_docs.get(doc_id), fresh_docs.get(doc_id)
        if old is not None and new is None and _empty(old, names):
            continue  # left at zero after its transactions were deleted: harmless
        key = doc_id.split("|", 1)[-1]
        if old is None or new is None:
            out.append(
                Difference(
                    wallet,
                    grain,
                    key,
                    "document",
                    "present" if old is not None else "missing",
                    "present" if new is not None else "missing",
                )
            )
            continue
        for name in (*names, "count"):
            if old.get(name, 0) != new.get(name, 0):
                out.append(Difference(wallet, grain, key, name, old.get(name), new.get(name)))


def compare(kept_figures: Figures, fresh: Figures) -> list[Difference]:
    """Every difference between kept and recomputed totals (zeros and absence are equal)."""
    wallet = str(fresh.wallet)
    out: list[Difference] = []
    for name in (*TOTAL_FIELDS, "count"):
        old, new = kept_figures.totals[name], fresh.totals[name]
        if old != new:
            out.append(Difference(wallet, "wallet", "", f"totals.{name}", old, new))
    old_currencies, new_currencies = (
        {k: v for k, v in figures.totals["by_currency"].items() if v}
        for figures in (kept_figures, fresh)
    )
    for currency in sorted(set(old_currencies) | set(new_currencies)):
        old, new = old_currencies.get(currency, ZERO), new_currencies.get(currency, ZERO)
        if old != new:
            out.append(Difference(wallet, "wallet", "", f"totals.by_currency.{currency}", old, new))
    _compare_docs(wallet, "holding", kept_figures.holdings, fresh.holdings, HOLDING_FIELDS, out)
    _compare_docs(wallet, "month", kept_figures.months, fresh.months, MONTH_FIELDS, out)
    return out


# -- writing -------------------------------------------------------------------------------------


def _as_stored(doc: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    stored = dict(doc)
    for name in names:
        stored[name] = _d128(doc[name])
    return stored


def write(fresh: Figures, session: ClientSession | None = None) -> None:
    """Replace the wallet's kept totals, holdings and months with ``fresh``."""
    wallet_totals = {name: _d128(fresh.totals[name]) for name in TOTAL_FIELDS}
    wallet_totals["count"] = fresh.totals["count"]
    wallet_totals["by_currency"] = {
        currency: _d128(value)
        for currency, value in sorted(fresh.totals["by_currency"].items())
        if value
    }
    Wallet._get_collection().update_one(
        {"_id": fresh.wallet}, {"$set": {"totals": wallet_totals}}, session=session
    )
    for document, docs, names in (
        (Holding, fresh.holdings, HOLDING_FIELDS),
        (MonthlyTotal, fresh.months, MONTH_FIELDS),
    ):
        collection = document._get_collection()
        collection.delete_many({"owner": fresh.owner, "wallet": fresh.wallet}, session=session)
        if docs:
            # A stray copy under another owner would block the insert: ids name the wallet.
            collection.delete_many({"_id": {"$in": list(docs)}}, session=session)
            collection.insert_many(
                [{"_id": doc_id, **_as_stored(doc, names)} for doc_id, doc in docs.items()],
                ordered=False,
                session=session,
            )


# -- scopes and reports --------------------------------------------------------------------------


@dataclass
class Report:
    wallets: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def wallet_ids(wallet_id: ObjectId | None = None, owners: Iterable[ObjectId] | None = None):
    """The ids of the wallets in scope: one wallet, the wallets of some users, or all."""
    query: dict[str, Any] = {}
    if wallet_id is not None:
        query["_id"] = wallet_id
    if owners is not None:
        query["owner"] = {"$in": list(owners)}
    return [doc["_id"] for doc in Wallet._get_collection().find(query, {"_id": 1}).sort("_id")]


def _check_wallet(wallet_id: ObjectId, *, fix: bool) -> list[Difference] | None:
    """Recompute one wallet inside a transaction; compare, and with ``fix`` rewrite."""

    def work(session: ClientSession | None) -> list[Difference] | None:
        wallet = Wallet._get_collection().find_one(
            {"_id": wallet_id}, {"owner": 1, "totals": 1}, session=session
        )
        if wallet is None:
            return None  # deleted meanwhile
        fresh = recompute(wallet, session)
        differences = compare(kept(wallet, session), fresh)
        if fix:
            write(fresh, session)
        return differences

    return run_in_transaction(work)


def orphans(owners: Iterable[ObjectId] | None = None, fix: bool = False) -> list[Difference]:
    """Kept documents (and transactions) of wallets that no longer exist — of ``owners``, or
    of everybody.

    With ``fix``, the orphaned holdings and monthly totals are deleted; orphaned
    transactions are only reported — deleting data is a decision for a person.
    """
    scope: dict[str, Any] = {} if owners is None else {"owner": {"$in": list(owners)}}
    existing = set(Wallet._get_collection().distinct("_id", scope))
    out: list[Difference] = []
    for document, grain in (
        (Holding, "holding"),
        (MonthlyTotal, "month"),
        (Transaction, "transaction"),
    ):
        collection = document._get_collection()
        missing = sorted(set(collection.distinct("wallet", scope)) - existing)
        for wallet in missing:
            count = collection.count_documents({**scope, "wallet": wallet})
            out.append(Difference(str(wallet), "orphan", "", f"{grain}s", count, 0))
        if fix and missing and document is not Transaction:
            collection.delete_many({**scope, "wallet": {"$in": missing}})
    return out


def _run(wallet_id: ObjectId | None, owners: Iterable[ObjectId] | None, fix: bool) -> Report:
    owners = list(owners) if owners is not None else None
    report = Report()
    for wid in wallet_ids(wallet_id, owners):
        differences = _check_wallet(wid, fix=fix)
        if differences is not None:
            report.wallets += 1
            report.differences.extend(differences)
    if wallet_id is None:
        report.differences.extend(orphans(owners, fix=fix))
    return report


def verify(wallet_id: ObjectId | None = None, owners: Iterable[ObjectId] | None = None) -> Report:
    """Compare every kept total in scope with a recomputation; nothing is written.

    The scope is one wallet, the wallets of ``owners``, or (neither given) every wallet;
    the last two also look for totals left by deleted wallets.
    """
    return _run(wallet_id, owners, fix=False)


def rebuild(wallet_id: ObjectId | None = None, owners: Iterable[ObjectId] | None = None) -> Report:
    """Rewrite every kept total in scope (as :func:`verify` scopes it); the report lists
    what was wrong before."""
    return _run(wallet_id, owners, fix=True)
