"""Realistic transactions for tests and benchmarks, plus reference sums computed independently.

:func:`generate` walks a wallet's history in date order with a seeded RNG: deposits and
withdrawals, buys and sells of a few assets at month-by-month random-walk prices (sells
never exceed the position), dividends (some naming the security, some only its name),
interest, fees, taxes, transfers both ways and ``OTHER`` rows either way. Amounts are exact
decimals following the contract's sign convention; asset labels vary the way statements do
(``" msft"``, ``"MSFT"``, ``"Msft "``) and include a non-ASCII name, so every rule that turns
labels into holdings is exercised.

Rows are the raw documents the write path stores (what ``Transaction.to_mongo()`` gives),
ready for ``insert_many``; :func:`load` inserts them in batches and applies them to the kept
totals in the same transaction, exactly as the write path does.

The ``reference_*`` functions restate the contract's rules in plain Decimal arithmetic over
the generated rows, without importing any of the code under test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from bson import Decimal128, ObjectId

CENT = Decimal("0.01")
ZERO = Decimal(0)


@dataclass(frozen=True)
class AssetSpec:
    name: str
    symbol: str | None
    asset_type: str
    currency: str
    price: Decimal  # price in the first month
    volume_places: int  # 0: whole shares; 6: crypto fractions
    linked: bool  # rows carry an Asset id (which prices can refer to)
    symbol_variants: tuple[str, ...] = ()


DEFAULT_ASSETS: tuple[AssetSpec, ...] = (
    AssetSpec("Apple Inc.", "AAPL", "stock", "USD", Decimal("150.00"), 0, True),
    AssetSpec(
        "Microsoft Corp.",
        "MSFT",
        "stock",
        "USD",
        Decimal("310.00"),
        0,
        False,
        (" msft", "MSFT", "Msft "),
    ),
    AssetSpec("iShares Core MSCI World", "IWDA", "etf", "EUR", Decimal("75.00"), 0, True),
    AssetSpec(
        "Vanguard FTSE All-World",
        "VWRL",
        "etf",
        "EUR",
        Decimal("100.00"),
        0,
        False,
        ("VWRL", "vwrl"),
    ),
    AssetSpec("Bitcoin", "BTC", "crypto", "EUR", Decimal("30000.00"), 6, True),
    AssetSpec("Nestlé Namensaktie", None, "stock", "CHF", Decimal("105.00"), 0, False),
    AssetSpec("Bund 2030", "DE0001102507", "bond", "EUR", Decimal("98.50"), 0, False),
)

TYPE_WEIGHTS = {
    "BUY": 28,
    "SELL": 12,
    "DEPOSIT": 10,
    "WITHDRAWAL": 4,
    "DIVIDEND": 10,
    "INTEREST": 6,
    "FEE": 5,
    "TAX": 4,
    "TRANSFER": 6,
    "TRANSFER_IN": 4,
    "TRANSFER_OUT": 4,
    "OTHER": 7,
}


@dataclass(frozen=True)
class GenAsset:
    spec: AssetSpec
    id: ObjectId | None

    @property
    def key(self) -> str:
        """The identity the contract gives a holding: asset id, else symbol, else name."""
        if self.id is not None:
            return str(self.id)
        return (self.spec.symbol or self.spec.name).strip().upper()


def make_assets(rng: random.Random, specs: Sequence[AssetSpec] = DEFAULT_ASSETS) -> list[GenAsset]:
    return [GenAsset(spec, ObjectId() if spec.linked else None) for spec in specs]


def asset_documents(assets: Iterable[GenAsset]) -> list[dict[str, Any]]:
    """Raw ``assets`` documents for the linked assets (what prices refer to)."""
    now = dt.datetime.now(dt.UTC)
    return [
        {
            "_id": asset.id,
            "key": (asset.spec.symbol or asset.spec.name).upper(),
            "name": asset.spec.name,
            "symbol": asset.spec.symbol,
            "asset_type": asset.spec.asset_type,
            "currency": asset.spec.currency,
            "created_at": now,
            "updated_at": now,
        }
        for asset in assets
        if asset.id is not None
    ]


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _amount(rng: random.Random, low: str, high: str) -> Decimal:
    cents = rng.randint(int(Decimal(low) * 100), int(Decimal(high) * 100))
    return Decimal(cents) / 100


def _month_start(start: dt.date, offset: int) -> dt.date:
    index = start.year * 12 + start.month - 1 + offset
    return dt.date(index // 12, index % 12 + 1, 1)


def price_path(rng: random.Random, assets: Sequence[GenAsset], months: int) -> dict:
    """``{asset index: [price per month]}``: a random walk of -6 %..+7 % a month."""
    paths = {}
    for index, asset in enumerate(assets):
        price, path = asset.spec.price, []
        for _ in range(months):
            path.append(price)
            price = _money(price * (1 + Decimal(rng.randint(-600, 700)) / 10000))
            price = max(price, CENT)
        paths[index] = path
    return paths


def generate(
    owner: ObjectId,
    wallet: ObjectId,
    count: int,
    *,
    seed: int = 1,
    assets: Sequence[GenAsset] | None = None,
    start: dt.date = dt.date(2021, 1, 1),
    months: int = 36,
    currency: str = "EUR",
) -> list[dict[str, Any]]:
    """``count`` raw transaction documents of one wallet, oldest first."""
    rng = random.Random(seed)
    assets = list(assets) if assets is not None else make_assets(rng)
    prices = price_path(rng, assets, months)
    days = sorted(rng.randrange(months * 28) for _ in range(count))
    positions: dict[int, Decimal] = defaultdict(Decimal)
    types, weights = zip(*TYPE_WEIGHTS.items(), strict=True)
    now = dt.datetime.now(dt.UTC)
    rows = []
    for number, day in enumerate(days):
        month = day // 28
        first = _month_start(start, month)
        date = dt.datetime(first.year, first.month, day % 28 + 1, tzinfo=dt.UTC)
        kind = rng.choices(types, weights)[0]
        if kind == "SELL" and not any(positions.values()):
            kind = "BUY"
        row: dict[str, Any] = {
            "owner": owner,
            "wallet": wallet,
            "date": date,
            "transaction_type": kind,
            "asset_type": "other",
            "currency": currency,
            "source": "import",
            "created_at": now,
            "updated_at": now,
        }
        fee = ZERO
        if kind in ("BUY", "SELL"):
            if kind == "SELL":
                index = rng.choice([i for i, held in positions.items() if held > 0])
            else:
                index = rng.randrange(len(assets))
            asset = assets[index]
            spec = asset.spec
            price = prices[index][month]
            if spec.volume_places:
                unit = Decimal(1).scaleb(-spec.volume_places)
                volume = Decimal(rng.randint(1, 500_000)) * unit
            else:
                volume = Decimal(rng.randint(1, 40))
            if kind == "SELL":
                volume = min(volume, positions[index])
                if rng.random() < 0.15:
                    volume = positions[index]  # close the position
            gross = _money(volume * price)
            fee = rng.choice([ZERO, Decimal("1.00"), Decimal("4.95"), _money(gross / 1000)])
            if kind == "BUY":
                amount = -(gross + fee)
                positions[index] += volume
            else:
                amount = gross - fee
                positions[index] -= volume
            _label(row, asset, rng, with_symbol=True)
            row.update(volume=Decimal128(volume), item_price=Decimal128(price))
            row["currency"] = spec.currency
        elif kind == "DIVIDEND":
            asset = rng.choice([a for a in assets if a.spec.asset_type in ("stock", "etf")])
            _label(row, asset, rng, with_symbol=rng.random() < 0.7)
            amount = _amount(rng, "0.50", "250.00")
            row["currency"] = asset.spec.currency
        elif kind == "DEPOSIT" or kind == "TRANSFER_IN":
            amount = _amount(rng, "100.00", "5000.00")
        elif kind in ("WITHDRAWAL", "TRANSFER_OUT"):
            amount = -_amount(rng, "50.00", "3000.00")
            if rng.random() < 0.2:
                fee = Decimal("1.50")
        elif kind == "INTEREST":
            amount = _amount(rng, "0.01", "50.00")
        elif kind == "FEE":
            amount = -_amount(rng, "0.50", "20.00")
        elif kind == "TAX":
            amount = -_amount(rng, "1.00", "300.00")
        elif kind == "TRANSFER":
            amount = _amount(rng, "10.00", "5000.00") * rng.choice([1, -1])
        else:  # OTHER
            amount = _amount(rng, "0.01", "100.00") * rng.choice([1, -1])
            if rng.random() < 0.1:
                fee = Decimal("0.25")
        if rng.random() < 0.03:
            del row["currency"]  # statements without a currency column
        row["transaction_amount"] = Decimal128(amount)
        row["fee"] = Decimal128(fee)
        row["description"] = f"{kind.title()} #{number}"
        digest = hashlib.sha1(f"{seed}|{wallet}|{number}".encode(), usedforsecurity=False)
        row["fingerprint"] = digest.hexdigest()
        rows.append(row)
    return rows


def _label(row: dict, asset: GenAsset, rng: random.Random, *, with_symbol: bool) -> None:
    spec = asset.spec
    row["asset_name"] = spec.name
    row["asset_type"] = spec.asset_type
    if not with_symbol:
        return  # a cash dividend that names the company only: no holding
    if asset.id is not None:
        row["asset"] = asset.id
    if spec.symbol:
        variants = spec.symbol_variants or (spec.symbol,)
        row["asset_symbol"] = rng.choice(variants)


def batches(rows: Sequence[dict], size: int = 1000) -> Iterator[list[dict]]:
    for index in range(0, len(rows), size):
        yield list(rows[index : index + size])


def load(rows: Sequence[dict], size: int = 1000) -> None:
    """Insert ``rows`` in batches, each with its ``totals.apply`` in one transaction."""
    from finance.db import run_in_transaction
    from finance.stats import totals
    from finance.transactions.models import Transaction

    collection = Transaction._get_collection()
    for batch in batches(rows, size):

        def work(session, batch=batch):
            collection.insert_many(batch, ordered=False, session=session)
            totals.apply(batch, +1, session=session)

        run_in_transaction(work)


# -- reference sums (independent of the code under test) ---------------------------------------


def d(value: Any) -> Decimal:
    if value is None:
        return ZERO
    return value.to_decimal() if isinstance(value, Decimal128) else Decimal(str(value))


def month_of(row: dict) -> str:
    return f"{row['date'].year:04d}-{row['date'].month:02d}"


def cash_parts(row: dict) -> dict[str, Decimal]:
    """The contract's classification of one row, restated."""
    kind, amount, fee = row["transaction_type"], d(row["transaction_amount"]), d(row.get("fee"))
    is_deposit = kind in ("DEPOSIT", "TRANSFER_IN") or (kind == "TRANSFER" and amount > 0)
    is_withdrawal = kind in ("WITHDRAWAL", "TRANSFER_OUT") or (kind == "TRANSFER" and amount < 0)
    return {
        "balance": amount,
        "deposits": amount if is_deposit else ZERO,
        "withdrawals": -amount if is_withdrawal else ZERO,
        "income": amount if kind in ("SELL", "DIVIDEND", "INTEREST") else ZERO,
        "fees": fee - (amount if kind == "FEE" else ZERO),
    }


def reference_totals(rows: Iterable[dict]) -> dict[str, Any]:
    """Balance, count, deposits, withdrawals, income, fees and by_currency of ``rows``."""
    result: dict[str, Any] = {
        "balance": ZERO,
        "deposits": ZERO,
        "withdrawals": ZERO,
        "income": ZERO,
        "fees": ZERO,
        "total_count": 0,
        "by_currency": defaultdict(Decimal),
    }
    for row in rows:
        for name, value in cash_parts(row).items():
            result[name] += value
        result["total_count"] += 1
        if row.get("currency"):
            result["by_currency"][row["currency"]] += d(row["transaction_amount"])
    result["by_currency"] = {k: v for k, v in sorted(result["by_currency"].items()) if v}
    return result


def reference_months(rows: Iterable[dict]) -> dict[str, dict[str, Any]]:
    months: dict[str, dict[str, Any]] = {}
    for row in rows:
        month = months.setdefault(
            month_of(row),
            {
                "net": ZERO,
                "deposits": ZERO,
                "withdrawals": ZERO,
                "income": ZERO,
                "fees": ZERO,
                "count": 0,
            },
        )
        parts = cash_parts(row)
        month["net"] += parts["balance"]
        for name in ("deposits", "withdrawals", "income", "fees"):
            month[name] += parts[name]
        month["count"] += 1
    return dict(sorted(months.items()))


def reference_holding_key(row: dict) -> str | None:
    """BUY/SELL rows, and DIVIDEND rows naming the security (id or symbol), make holdings."""
    kind = row["transaction_type"]
    symbol = (row.get("asset_symbol") or "").strip()
    if kind not in ("BUY", "SELL") and not (kind == "DIVIDEND" and (row.get("asset") or symbol)):
        return None
    if row.get("asset"):
        return str(row["asset"])
    label = symbol or (row.get("asset_name") or "").strip()
    return label.upper() or None


def reference_holdings(rows: Iterable[dict]) -> dict[str, dict[str, Any]]:
    holdings: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = reference_holding_key(row)
        if key is None:
            continue
        h = holdings.setdefault(
            key,
            {
                "buy_volume": ZERO,
                "buy_amount": ZERO,
                "sell_volume": ZERO,
                "sell_amount": ZERO,
                "income": ZERO,
                "fees": ZERO,
                "count": 0,
                "asset_type": row.get("asset_type"),
            },
        )
        amount, kind = d(row["transaction_amount"]), row["transaction_type"]
        if kind == "BUY":
            h["buy_volume"] += d(row.get("volume"))
            h["buy_amount"] -= amount
        elif kind == "SELL":
            h["sell_volume"] += d(row.get("volume"))
            h["sell_amount"] += amount
        else:
            h["income"] += amount
        h["fees"] += d(row.get("fee"))
        h["count"] += 1
    for h in holdings.values():
        h["net_volume"] = h["buy_volume"] - h["sell_volume"]
    return holdings
