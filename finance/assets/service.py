"""Asset and price rules: shared reference data, upserted in bulk and read without N+1.

Assets are not owned by a user: an instrument (an ISIN, a ticker, a coin) is the
same for everyone, so any signed-in user may read them and create or edit them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bson import Decimal128, ObjectId
from mongoengine.errors import NotUniqueError
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from ..common.fields import day_start
from ..common.models import object_id, utcnow
from ..errors import Conflict, NotFound, ValidationError
from .models import ASSET_TYPES, Asset, AssetPrice

DUPLICATE_KEY = 11000
NAME_MAX = 200
SYMBOL_MAX = 40
_ISIN = re.compile(r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class AssetSpec:
    """What an importer (or a client) knows about an instrument; any field may be missing."""

    name: str | None = None
    symbol: str | None = None
    isin: str | None = None
    asset_type: str | None = None
    currency: str | None = None


@dataclass(frozen=True)
class AssetRef:
    """Just enough of a stored asset to reference it from a transaction or a holding."""

    id: ObjectId
    key: str
    name: str
    symbol: str | None
    asset_type: str


# ---------------------------------------------------------------------------- identity


def _collapse(value: str | None) -> str:
    return " ".join(value.split()) if value else ""


def isin_is_valid(isin: str) -> bool:
    """Shape and check digit (ISO 6166: letters to numbers, then Luhn over the digits)."""
    if not _ISIN.match(isin):
        return False
    digits = "".join(str(int(ch, 36)) for ch in isin)
    total = 0
    for position, char in enumerate(reversed(digits)):
        n = int(char)
        if position % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def normalise_isin(value: str | None) -> str | None:
    """The upper-cased ISIN when it is a valid one, else ``None``."""
    isin = _collapse(value).replace(" ", "").upper()
    return isin if isin and isin_is_valid(isin) else None


def normalise_symbol(value: str | None) -> str | None:
    symbol = _collapse(value).upper()
    return symbol[:SYMBOL_MAX] or None


def name_key(name: str | None) -> str:
    return _collapse(name).casefold()[:NAME_MAX]


def asset_key(spec: AssetSpec) -> str:
    """The asset's identity: its ISIN, else its upper-cased symbol, else its folded name.

    An ISIN that fails its check digit is ignored (it would be a wrong identity).
    Raises ``ValueError`` for a spec that names nothing.
    """
    isin = normalise_isin(spec.isin)
    if isin:
        return isin
    symbol = normalise_symbol(spec.symbol)
    if symbol:
        return symbol
    key = name_key(spec.name)
    if not key:
        raise ValueError("An asset needs a name, a symbol or an ISIN.")
    return key


def _identity(spec: AssetSpec) -> tuple[str | None, str | None, str | None]:
    """The spec's stored (name, symbol, ISIN): collapsed, upper-cased, a bad ISIN dropped."""
    isin = normalise_isin(spec.isin)
    symbol = normalise_symbol(spec.symbol)
    return _collapse(spec.name)[:NAME_MAX] or symbol or isin, symbol, isin


def display_name(spec: AssetSpec) -> str | None:
    """The name an asset made from ``spec`` is stored under (its symbol or ISIN if unnamed)."""
    return _identity(spec)[0]


def heuristic_type(spec: AssetSpec) -> str:
    """The type the name/symbol/ISIN rules give ``spec`` (:mod:`finance.assets.classify`)."""
    from .classify import classify  # the rules' regexes are compiled on first use, not at start

    return classify(*_identity(spec))


def _fields_for_insert(spec: AssetSpec, now: dt.datetime) -> dict[str, Any]:
    name, symbol, isin = _identity(spec)
    currency = _collapse(spec.currency).upper()
    asset_type = spec.asset_type if spec.asset_type in ASSET_TYPES else None
    return {
        "name": name,
        "symbol": symbol,
        "isin": isin,
        "asset_type": asset_type or heuristic_type(spec),
        "currency": currency if _CURRENCY.match(currency) else None,
        "created_at": now,
        "updated_at": now,
    }


def _now() -> dt.datetime:
    """Now, at the millisecond precision BSON stores, so a response equals a later read."""
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _ref(doc: dict[str, Any]) -> AssetRef:
    return AssetRef(
        id=doc["_id"],
        key=doc["key"],
        name=doc["name"],
        symbol=doc.get("symbol"),
        asset_type=doc.get("asset_type") or "other",
    )


def ensure_assets(specs: list[AssetSpec], *, session=None) -> dict[str, AssetRef]:
    """Make sure an asset exists for every spec; return them by :func:`asset_key`.

    Two round trips whatever the number of specs: one unordered ``bulk_write`` of
    ``$setOnInsert`` upserts (an existing asset is never modified by an import),
    then one ``find`` over the keys. Concurrent callers converge on one document per
    key through the unique ``key`` index: a duplicate-key error from a racing
    upsert just means the other writer's document is there to read.
    """
    if not specs:
        return {}
    now = _now()
    unique: dict[str, AssetSpec] = {}
    for spec in specs:
        unique.setdefault(asset_key(spec), spec)
    operations = [
        UpdateOne({"key": key}, {"$setOnInsert": _fields_for_insert(spec, now)}, upsert=True)
        for key, spec in unique.items()
    ]
    collection = Asset._get_collection()
    try:
        collection.bulk_write(operations, ordered=False, session=session)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if not errors or any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
    return stored_assets(unique, session=session)


def stored_assets(keys: Iterable[str], *, session=None) -> dict[str, AssetRef]:
    """The stored assets with these keys, by key: one read of the unique ``key`` index."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    found = Asset._get_collection().find(
        {"key": {"$in": wanted}},
        {"key": 1, "name": 1, "symbol": 1, "asset_type": 1},
        session=session,
    )
    return {doc["key"]: _ref(doc) for doc in found}


def untyped(specs: dict[str, AssetSpec]) -> dict[str, AssetSpec]:
    """The specs (by key) that say no type and that the rules call ``other``: what is worth
    asking a model about, before they are stored."""
    return {
        key: spec
        for key, spec in specs.items()
        if spec.asset_type not in ASSET_TYPES and heuristic_type(spec) == "other"
    }


# ---------------------------------------------------------------------------- assets


def _search_filter(q: str) -> dict[str, Any]:
    # The $regex operator form (never a regex literal: see environment.md), user input escaped.
    pattern = {"$regex": re.escape(q), "$options": "i"}
    return {"$or": [{"name": pattern}, {"symbol": pattern}, {"isin": pattern}]}


def list_assets(
    *, page: int, limit: int, asset_type: str | None = None, q: str | None = None
) -> tuple[list[Asset], int]:
    """A page of assets sorted by name (then id), and how many match in all."""
    query = Asset.objects
    if asset_type:
        query = query.filter(asset_type=asset_type)
    if q:
        query = query.filter(__raw__=_search_filter(q))
    total = query.count()
    items = list(query.order_by("name", "id").skip((page - 1) * limit).limit(limit))
    return items, total


def get_asset(asset_id: str | ObjectId) -> Asset:
    oid = object_id(asset_id)
    asset = Asset.objects(id=oid).first() if oid else None
    if asset is None:
        raise NotFound("Asset not found.")
    return asset


def asset_detail(asset_id: str | ObjectId) -> dict[str, Any]:
    """The asset's fields and its latest price (``None`` when it has none)."""
    asset = get_asset(asset_id)
    latest = latest_prices([asset.id]).get(asset.id)
    detail = {field: getattr(asset, field) for field in asset._fields}
    detail["latest_price"] = (
        {"price": latest[0], "currency": latest[1], "date": latest[2]} if latest else None
    )
    return detail


def _key_taken(key: str, *, other_than: ObjectId | None = None) -> None:
    existing = Asset._get_collection().find_one({"key": key}, {"_id": 1})
    if existing and existing["_id"] != other_than:
        raise Conflict(
            f"An asset with this identity ({key}) already exists: {existing['_id']}.",
            errors={"asset_id": [str(existing["_id"])]},
        )


def create_asset(
    *,
    name: str,
    symbol: str | None = None,
    isin: str | None = None,
    asset_type: str | None = None,
    currency: str | None = None,
) -> Asset:
    """A new asset; 409 naming the existing one when its key (ISIN/symbol/name) is taken."""
    spec = AssetSpec(name=name, symbol=symbol, isin=isin, asset_type=asset_type, currency=currency)
    key = asset_key(spec)
    _key_taken(key)
    asset = Asset(key=key, **_fields_for_insert(spec, _now()))
    try:
        asset.save(force_insert=True)
    except (NotUniqueError, DuplicateKeyError):
        _key_taken(key)  # a concurrent create won: name it
        raise
    return asset


def update_asset(asset_id: str | ObjectId, changes: dict[str, Any]) -> Asset:
    """Change an asset; a new symbol/ISIN (or name, for a name-keyed asset) changes its key."""
    asset = get_asset(asset_id)
    for name in ("name", "symbol", "isin", "asset_type", "currency"):
        if name in changes:
            setattr(asset, name, changes[name])
    asset.name = _collapse(asset.name)[:NAME_MAX]
    asset.symbol = normalise_symbol(asset.symbol)
    asset.isin = normalise_isin(asset.isin)
    key = asset_key(AssetSpec(name=asset.name, symbol=asset.symbol, isin=asset.isin))
    if key != asset.key:
        _key_taken(key, other_than=asset.id)
        asset.key = key
    asset.updated_at = _now()
    try:
        asset.save()
    except (NotUniqueError, DuplicateKeyError):
        _key_taken(key, other_than=asset.id)  # a concurrent change took the key
        raise
    return asset


# ---------------------------------------------------------------------------- prices


def add_prices(asset_id: str | ObjectId, prices: list[dict[str, Any]]) -> list[AssetPrice]:
    """Store prices of one asset: one per day, a later price for a day replaces it.

    ``prices`` are ``{date, price, currency?}``; currency defaults to the asset's.
    One ``bulk_write`` of upserts on (asset, date), then one read of what was stored.
    """
    asset = get_asset(asset_id)
    by_day: dict[dt.date, dict[str, Any]] = {}
    missing_currency = []
    for index, item in enumerate(prices):
        currency = item.get("currency") or asset.currency
        if not currency:
            missing_currency.append(index)
        by_day[item["date"]] = {"price": item["price"], "currency": currency}
    if missing_currency:
        raise ValidationError(
            "currency is required: this asset has no default currency.",
            errors={"currency": [f"Missing for item(s) {missing_currency}."]},
        )
    now = _now()
    operations = [
        UpdateOne(
            {"asset": asset.id, "date": day_start(day)},
            {
                "$set": {
                    "price": Decimal128(value["price"]),
                    "currency": value["currency"],
                    "updated_at": now,
                },
                "$setOnInsert": {"created_at": now},
            },
            upsert=True,
        )
        for day, value in by_day.items()
    ]
    collection = AssetPrice._get_collection()
    try:
        collection.bulk_write(operations, ordered=False)
    except BulkWriteError as exc:
        # Two writers inserting the same new day race on uniq_asset_date: retry the losers,
        # which now update the winner's document (last write wins, as for any later price).
        errors = exc.details.get("writeErrors", [])
        if not errors or any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        collection.bulk_write([operations[error["index"]] for error in errors], ordered=False)
    stored = AssetPrice.objects(asset=asset.id, date__in=[day_start(d) for d in by_day])
    return sorted(stored, key=lambda price: price.date, reverse=True)


def list_prices(
    asset_id: str | ObjectId,
    *,
    page: int,
    limit: int,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> tuple[list[AssetPrice], int]:
    """A page of an asset's prices, newest day first, optionally within a date range."""
    asset = get_asset(asset_id)
    if date_from and date_to and date_from > date_to:
        raise ValidationError(
            "date_from must not be after date_to.",
            errors={"date_from": ["Must not be after date_to."]},
        )
    query = AssetPrice.objects(asset=asset.id)
    if date_from:
        query = query.filter(date__gte=day_start(date_from))
    if date_to:
        query = query.filter(date__lte=day_start(date_to))
    total = query.count()
    items = list(query.order_by("-date").skip((page - 1) * limit).limit(limit))
    return items, total


def latest_prices(
    asset_ids: list[ObjectId] | set[ObjectId],
) -> dict[ObjectId, tuple[Decimal, str, dt.date]]:
    """Each asset's most recent price: ``{asset_id: (price, currency, date)}``.

    One aggregation for any number of assets; ``$sort`` on (asset, date desc) then
    ``$group`` with ``$first`` is what uniq_asset_date serves (a DISTINCT_SCAN on
    MongoDB). Assets without prices are absent from the result.
    """
    ids = [oid for oid in (object_id(value) for value in asset_ids) if oid]
    if not ids:
        return {}
    pipeline = [
        {"$match": {"asset": {"$in": ids}}},
        {"$sort": {"asset": 1, "date": -1}},
        {
            "$group": {
                "_id": "$asset",
                "price": {"$first": "$price"},
                "currency": {"$first": "$currency"},
                "date": {"$first": "$date"},
            }
        },
    ]
    price_field, date_field = AssetPrice._fields["price"], AssetPrice._fields["date"]
    return {
        row["_id"]: (
            price_field.to_python(row["price"]),
            row["currency"],
            date_field.to_python(row["date"]),
        )
        for row in AssetPrice._get_collection().aggregate(pipeline)
    }
