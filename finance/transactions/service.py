"""Transaction rules: canonical validation, owner-scoped queries, writes that keep totals.

Every write changes the transactions and, through :func:`finance.stats.totals.apply`,
the kept totals in one :func:`~finance.db.run_in_transaction`.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from decimal import Decimal, Inexact, InvalidOperation, localcontext
from typing import Any

from bson import Decimal128, ObjectId
from bson.decimal128 import create_decimal128_context
from pymongo.errors import DuplicateKeyError

from ..assets.models import ASSET_TYPES
from ..assets.service import AssetSpec, asset_key, ensure_assets
from ..common.decimals import decimal_from_128
from ..common.fields import day_start, fits_decimal128, without_negative_zero
from ..common.models import object_id, utcnow
from ..common.pagination import envelope
from ..db import run_in_transaction
from ..errors import Conflict, NotFound, ValidationError
from ..stats import totals
from ..wallets.models import Wallet
from ..wallets.service import get_wallet
from .kinds import TRANSACTION_TYPES
from .models import INFLOW_TYPES, OUTFLOW_TYPES, Transaction, TransactionError

# ----------------------------------------------------------------------------- validation

#: The fields of a transaction that :func:`validate_canonical` checks and returns.
CANONICAL_FIELDS = (
    "date",
    "transaction_type",
    "transaction_amount",
    "volume",
    "item_price",
    "fee",
    "currency",
    "asset_name",
    "asset_symbol",
    "asset_type",
    "description",
)
TRADE_TYPES = ("BUY", "SELL")
EXPECTED_SIGN = {**dict.fromkeys(OUTFLOW_TYPES, -1), **dict.fromkeys(INFLOW_TYPES, 1)}
EARLIEST_DATE = dt.date(1900, 1, 1)
MAX_ABS_AMOUNT = Decimal(10) ** 15
# Decimal128's arithmetic (34 digits, its exponent range), rounding rather than raising.
_DECIMAL128 = create_decimal128_context()
_DECIMAL128.traps[Inexact] = False
TEXT_LIMITS = {"asset_name": 200, "asset_symbol": 40, "description": 2000}
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _text(value: Any, name: str, fail) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        fail(name, f"{name} must be text.")
        return None
    value = value.strip()
    return value or None


def _decimal(value: Any, name: str, fail) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        fail(name, f"{name} must be a number.")
        return None
    if not number.is_finite() or number.copy_abs() >= MAX_ABS_AMOUNT:
        fail(name, f"{name} must be a finite number below 1e15 in size.")
        return None
    if not fits_decimal128(number):
        fail(name, f"{name} has more digits than can be stored exactly (34).")
        return None
    return without_negative_zero(number)


def validate_canonical(
    fields: Mapping[str, Any],
    *,
    default_currency: str | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Check and normalise one transaction's fields; the rules manual entry and imports share.

    - ``transaction_type``: one of TRANSACTION_TYPES (any case in, upper-case out).
    - ``date``: a calendar day from 1900-01-01 to tomorrow (UTC).
    - ``volume``, ``item_price``, ``fee``: zero or positive; ``fee`` defaults to 0.
    - ``transaction_amount``: signed per the contract. BUY, WITHDRAWAL, FEE, TAX and
      TRANSFER_OUT must not be positive; SELL, DEPOSIT, DIVIDEND, INTEREST and TRANSFER_IN
      must not be negative; TRANSFER and OTHER may be either. A wrong sign is rejected,
      never silently flipped. A BUY/SELL without an amount gets one from volume and price:
      ``-(volume*item_price + fee)`` for a BUY, ``volume*item_price - fee`` for a SELL.
    - BUY and SELL name their asset (``asset_name`` or ``asset_symbol``).
    - ``currency``: three letters (upper-cased); defaults to ``default_currency``.
    - ``asset_type``: one of ASSET_TYPES (lower-cased), or ``None`` when not given.

    Returns a dict with exactly :data:`CANONICAL_FIELDS`; raises :class:`ValidationError`
    whose ``errors`` map each bad field to its messages.
    """
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    kind = _text(fields.get("transaction_type"), "transaction_type", fail)
    kind = kind.upper() if kind else None
    if kind is None:
        if "transaction_type" not in errors:
            fail("transaction_type", "transaction_type is required.")
    elif kind not in TRANSACTION_TYPES:
        fail("transaction_type", f"transaction_type must be one of {', '.join(TRANSACTION_TYPES)}.")
        kind = None

    date = fields.get("date")
    if isinstance(date, dt.datetime):
        date = date.date()
    if date is None:
        fail("date", "date is required (YYYY-MM-DD).")
    elif not isinstance(date, dt.date):
        fail("date", "date must be a calendar date (YYYY-MM-DD).")
        date = None
    else:
        latest = (today or dt.datetime.now(dt.UTC).date()) + dt.timedelta(days=1)
        if date > latest:
            fail(
                "date",
                f"date {date.isoformat()} is in the future; the latest allowed is "
                f"{latest.isoformat()}.",
            )
        elif date < EARLIEST_DATE:
            fail("date", "date must be 1900-01-01 or later.")

    numbers = {
        name: _decimal(fields.get(name), name, fail)
        for name in ("transaction_amount", "volume", "item_price", "fee")
    }
    for name in ("volume", "item_price", "fee"):
        if numbers[name] is not None and numbers[name] < 0:
            fail(name, f"{name} must be zero or positive.")
    volume, price = numbers["volume"], numbers["item_price"]
    fee = numbers["fee"] if numbers["fee"] is not None else Decimal(0)
    amount = numbers["transaction_amount"]

    if amount is None and "transaction_amount" not in errors and kind is not None:
        if kind in TRADE_TYPES and volume is not None and price is not None:
            with localcontext(_DECIMAL128):  # 34 digits as stored, not the default 28
                gross = volume * price
                amount = without_negative_zero(-(gross + fee) if kind == "BUY" else gross - fee)
            if amount.copy_abs() >= MAX_ABS_AMOUNT:
                fail("transaction_amount", "volume * item_price must be below 1e15 in size.")
        elif kind in TRADE_TYPES:
            fail(
                "transaction_amount",
                f"A {kind} needs transaction_amount, or volume and item_price to compute it.",
            )
        else:
            fail("transaction_amount", "transaction_amount is required.")
    sign = EXPECTED_SIGN.get(kind)
    if amount is not None and sign is not None and amount * sign < 0:
        direction, word = ("out of", "negative") if sign < 0 else ("into", "positive")
        fail(
            "transaction_amount",
            f"A {kind} moves cash {direction} the wallet, so transaction_amount must be "
            f"{word} (got {amount}).",
        )

    text = {name: _text(fields.get(name), name, fail) for name in TEXT_LIMITS}
    for name, limit in TEXT_LIMITS.items():
        if text[name] and len(text[name]) > limit:
            fail(name, f"{name} must be at most {limit} characters.")
    if kind in TRADE_TYPES and not (text["asset_name"] or text["asset_symbol"]):
        fail("asset_name", f"A {kind} needs asset_name or asset_symbol.")

    currency = _text(fields.get("currency"), "currency", fail)
    currency = currency.upper() if currency else default_currency
    if currency is None:
        if "currency" not in errors:
            fail(
                "currency",
                "currency is required: the wallet has no base currency, so give "
                "a 3-letter ISO-4217 code.",
            )
    elif not _CURRENCY.match(currency):
        fail("currency", "currency must be a 3-letter ISO-4217 code.")

    asset_type = _text(fields.get("asset_type"), "asset_type", fail)
    asset_type = asset_type.lower() if asset_type else None
    if asset_type is not None and asset_type not in ASSET_TYPES:
        fail("asset_type", f"asset_type must be one of {', '.join(ASSET_TYPES)}.")

    if errors:
        raise ValidationError(
            " ".join(message for messages in errors.values() for message in messages),
            errors=errors,
        )
    return {
        "date": date,
        "transaction_type": kind,
        "transaction_amount": amount,
        "volume": volume,
        "item_price": price,
        "fee": fee,
        "currency": currency,
        "asset_name": text["asset_name"],
        "asset_symbol": text["asset_symbol"],
        "asset_type": asset_type,
        "description": text["description"],
    }


# ---------------------------------------------------------------------------- asset links

#: Types whose asset is an instrument worth a shared Asset document (a deposit's
#: counterparty is not).
ASSET_LINKED_TYPES = frozenset({"BUY", "SELL", "DIVIDEND"})


def _link_asset(canon: dict[str, Any]) -> dict[str, Any]:
    """Set ``asset`` (the shared Asset's id) and, unless given, ``asset_type`` from it."""
    canon["asset"] = None
    if canon["transaction_type"] in ASSET_LINKED_TYPES and (
        canon["asset_name"] or canon["asset_symbol"]
    ):
        spec = AssetSpec(
            name=canon["asset_name"], symbol=canon["asset_symbol"], asset_type=canon["asset_type"]
        )
        ref = ensure_assets([spec])[asset_key(spec)]
        canon["asset"] = ref.id
        canon["asset_type"] = canon["asset_type"] or ref.asset_type
    canon["asset_type"] = canon["asset_type"] or "other"
    return canon


# --------------------------------------------------------------------------------- writes


def _stored(doc: Transaction) -> dict[str, Any]:
    """The document as MongoDB stores it (and as ``totals.apply`` reads it)."""
    doc.validate()
    return doc.to_mongo().to_dict()


def _collection():
    return Transaction._get_collection()


def create_transaction(owner_id: ObjectId, fields: dict[str, Any]) -> Transaction:
    """A manual entry in one of the caller's wallets; its totals change with it.

    Manual entries are never de-duplicated (two identical coffees are two coffees):
    each gets a random ``manual:`` fingerprint.
    """
    wallet = get_wallet(owner_id, fields["wallet_id"])
    canon = _link_asset(validate_canonical(fields, default_currency=wallet.base_currency))
    row = _stored(
        Transaction(
            owner=owner_id,
            wallet=wallet.id,
            fingerprint=f"manual:{uuid.uuid4().hex}",
            source="manual",
            **canon,
        )
    )

    def work(session):
        _collection().insert_one(row, session=session)
        totals.apply([row], 1, session)

    run_in_transaction(work)
    return Transaction._from_son(row)


def get_transaction(owner_id: ObjectId, transaction_id: str | ObjectId) -> Transaction:
    return Transaction.objects.get_owned(owner_id, transaction_id, "Transaction")


_ASSET_IDENTITY = ("asset_name", "asset_symbol")


def update_transaction(
    owner_id: ObjectId, transaction_id: str | ObjectId, changes: dict[str, Any]
) -> Transaction:
    """Change a transaction (validated as a whole after the change), keeping totals right.

    ``wallet_id`` moves it to another of the caller's wallets; ``transaction_amount: None``
    recomputes a BUY/SELL amount from volume and price. The stored document is swapped
    atomically and the totals move by exactly what it was and what it becomes.
    """
    current = get_transaction(owner_id, transaction_id)
    wallet = get_wallet(owner_id, changes["wallet_id"]) if "wallet_id" in changes else None
    merged = {name: getattr(current, name) for name in CANONICAL_FIELDS}
    merged.update((k, v) for k, v in changes.items() if k in CANONICAL_FIELDS)
    if "asset_type" not in changes and any(
        name in changes and changes[name] != getattr(current, name) for name in _ASSET_IDENTITY
    ):
        merged["asset_type"] = None  # a different asset: take its type
    if merged["currency"] is None:
        wallet = wallet or get_wallet(owner_id, current.wallet)
    canon = _link_asset(
        validate_canonical(merged, default_currency=wallet.base_currency if wallet else None)
    )
    row = _stored(
        Transaction(
            id=current.id,
            owner=owner_id,
            wallet=wallet.id if wallet else current.wallet,
            fingerprint=current.fingerprint,
            source=current.source,
            import_id=current.import_id,
            row_number=current.row_number,
            created_at=current.created_at,
            updated_at=utcnow(),
            **canon,
        )
    )

    def work(session):
        try:
            previous = _collection().find_one_and_replace(
                {"_id": current.id, "owner": owner_id}, row, session=session
            )
        except DuplicateKeyError:
            raise Conflict(
                "The target wallet already holds this imported transaction.",
                errors={"wallet_id": ["An identical imported transaction is already there."]},
            ) from None
        if previous is None:
            raise NotFound("Transaction not found.")
        totals.apply([previous], -1, session)
        totals.apply([row], 1, session)

    run_in_transaction(work)
    return Transaction._from_son(row)


def delete_transaction(owner_id: ObjectId, transaction_id: str | ObjectId) -> None:
    oid = object_id(transaction_id)

    def work(session):
        previous = (
            _collection().find_one_and_delete({"_id": oid, "owner": owner_id}, session=session)
            if oid
            else None
        )
        if previous is None:
            raise NotFound("Transaction not found.")
        totals.apply([previous], -1, session)

    run_in_transaction(work)


# -------------------------------------------------------------------------------- listing

#: ``sort`` values: field and direction; ``_id`` breaks ties in the same direction.
SORT_FIELDS = {"date": "date", "amount": "transaction_amount", "created_at": "created_at"}
SORTS = tuple(f"{sign}{name}" for name in SORT_FIELDS for sign in ("-", ""))


#: The index that hands a listing its order, by (one wallet?, sort field). Hinted, so a
#: page is read in index order instead of sorting every match (planners, SecantusDB's
#: among them, may otherwise pick an equality-prefix index that needs a blocking sort).
SORT_INDEXES = {
    (True, "date"): "wallet_date",
    (True, "transaction_amount"): "wallet_amount",
    (True, "created_at"): "wallet_created",
    (False, "date"): "owner_date",
}


def sort_spec(sort: str) -> list[tuple[str, int]]:
    direction = -1 if sort.startswith("-") else 1
    return [(SORT_FIELDS[sort.lstrip("-")], direction), ("_id", direction)]


# Stored fields no listing or export shows: not worth sending and decoding 1000 times a page.
LISTING_PROJECTION = {"owner": 0, "fingerprint": 0}


def listing_cursor(query: dict[str, Any], sort: str):
    """The find() of a listing: filter, order with its tie-breaker, and the index to use."""
    cursor = _collection().find(query, LISTING_PROJECTION).sort(sort_spec(sort))
    index = SORT_INDEXES.get(("wallet" in query, SORT_FIELDS[sort.lstrip("-")]))
    return cursor.hint(index) if index else cursor


def _icontains(pattern: str) -> dict[str, str]:
    # The operator form, not a BSON regex literal (which SecantusDB mishandles on indexes).
    return {"$regex": pattern, "$options": "i"}


def transaction_filter(
    owner_id: ObjectId,
    *,
    wallet: ObjectId | None = None,
    asset: str | None = None,
    transaction_type: list[str] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    min_amount: Decimal | None = None,
    max_amount: Decimal | None = None,
    q: str | None = None,
) -> dict[str, Any]:
    """The MongoDB filter of a listing; callers have checked ``wallet`` is the owner's."""
    query: dict[str, Any] = {"owner": owner_id}
    if wallet is not None:
        query["wallet"] = wallet
    alternatives = []
    if asset:
        prefix = _icontains("^" + re.escape(asset))
        alternatives.append([{"asset_name": prefix}, {"asset_symbol": prefix}])
    if q:
        text = _icontains(re.escape(q))
        alternatives.append([{"description": text}, {"asset_name": text}, {"asset_symbol": text}])
    if len(alternatives) == 1:
        query["$or"] = alternatives[0]
    elif alternatives:
        query["$and"] = [{"$or": options} for options in alternatives]
    if transaction_type:
        query["transaction_type"] = {"$in": list(transaction_type)}
    dates = {}
    if date_from:
        dates["$gte"] = day_start(date_from)
    if date_to:
        dates["$lte"] = day_start(date_to)
    if dates:
        query["date"] = dates
    amounts = {}
    if min_amount is not None:
        amounts["$gte"] = Decimal128(str(min_amount))
    if max_amount is not None:
        amounts["$lte"] = Decimal128(str(max_amount))
    if amounts:
        query["transaction_amount"] = amounts
    return query


def _check_ranges(filters: Mapping[str, Any]) -> None:
    errors = {}
    if (
        filters.get("date_from")
        and filters.get("date_to")
        and (filters["date_from"] > filters["date_to"])
    ):
        errors["date_from"] = ["date_from must be on or before date_to."]
    low, high = filters.get("min_amount"), filters.get("max_amount")
    if low is not None and high is not None and low > high:
        errors["min_amount"] = ["min_amount must not be greater than max_amount."]
    if errors:
        raise ValidationError(" ".join(messages[0] for messages in errors.values()), errors=errors)


def _kept_count(owner_id: ObjectId, wallet: Wallet | None) -> int:
    """The number of transactions from the totals kept on write — no counting scan."""
    if wallet is not None:
        return wallet.totals.count
    found = Wallet._get_collection().find({"owner": owner_id}, {"totals.count": 1})
    return sum((doc.get("totals") or {}).get("count", 0) for doc in found)


def _listing_query(
    owner_id: ObjectId, wallet_id: str | None, filters: Mapping[str, Any]
) -> tuple[dict[str, Any], Wallet | None]:
    _check_ranges(filters)
    wallet = get_wallet(owner_id, wallet_id) if wallet_id else None
    return transaction_filter(owner_id, wallet=wallet.id if wallet else None, **filters), wallet


def export_cursor(
    owner_id: ObjectId, *, wallet_id: str | None = None, sort: str = "-date", **filters: Any
):
    """Every transaction the same filters would list, in the same order, read in batches."""
    query, _wallet = _listing_query(owner_id, wallet_id, filters)
    return listing_cursor(query, sort).batch_size(1000)


def list_transactions(
    owner_id: ObjectId,
    *,
    wallet_id: str | None = None,
    sort: str = "-date",
    page: int = 1,
    limit: int = 50,
    **filters: Any,
) -> dict[str, Any]:
    """One page of the caller's transactions, in one wallet or all of them.

    Order: ``sort`` (default ``-date``: newest day first), ties broken by id in the same
    direction, so pages never overlap. ``total_count`` comes from the kept totals when
    only the wallet is chosen, else from a count over the filter.
    """
    query, wallet = _listing_query(owner_id, wallet_id, filters)
    filtered = any(value not in (None, "", []) for value in filters.values())
    total = _collection().count_documents(query) if filtered else _kept_count(owner_id, wallet)
    cursor = listing_cursor(query, sort).skip((page - 1) * limit).limit(limit)
    return envelope("transactions", [listing_item(doc) for doc in cursor], total, page, limit)


def _number(value: Any) -> Any:
    return decimal_from_128(value) if type(value) is Decimal128 else value


def _id_text(value: Any) -> Any:
    return None if value is None else str(value)


def listing_item(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A stored transaction as ``TransactionSchema`` dumps it, straight from the raw document.

    A 1000-row page spent most of its time building mongoengine documents and running
    marshmallow over them; this is the same JSON for a fraction of the cost (a test
    holds the two equal).
    """
    get = doc.get
    return {
        "id": str(doc["_id"]),
        "wallet_id": str(doc["wallet"]),
        "date": doc["date"].date().isoformat(),
        "asset_id": _id_text(get("asset")),
        "asset_name": get("asset_name"),
        "asset_symbol": get("asset_symbol"),
        "asset_type": get("asset_type"),
        "transaction_type": doc["transaction_type"],
        "volume": _number(get("volume")),
        "item_price": _number(get("item_price")),
        "transaction_amount": _number(doc["transaction_amount"]),
        "currency": get("currency"),
        "fee": _number(get("fee")),
        "description": get("description"),
        "import_id": _id_text(get("import_id")),
        "row_number": get("row_number"),
        "source": get("source"),
        "created_at": doc["created_at"].isoformat(),
        "updated_at": doc["updated_at"].isoformat(),
    }


# ----------------------------------------------------------------------------- error rows

ERROR_ORDER = [("import_id", -1), ("row_number", 1), ("_id", 1)]


def list_errors(
    owner_id: ObjectId,
    *,
    wallet_id: str | None = None,
    processed: bool | None = None,
    page: int = 1,
    limit: int = 50,
) -> dict[str, Any]:
    """Stored error rows: newest import first, then by row number."""
    query: dict[str, Any] = {"owner": owner_id}
    if wallet_id:
        query["wallet"] = get_wallet(owner_id, wallet_id).id
    if processed is not None:
        query["processed"] = processed
    collection = TransactionError._get_collection()
    total = collection.count_documents(query)
    cursor = collection.find(query).sort(ERROR_ORDER).skip((page - 1) * limit).limit(limit)
    items = [TransactionError._from_son(doc) for doc in cursor]
    return envelope("errors", items, total, page, limit)


def set_error_processed(
    owner_id: ObjectId, error_id: str | ObjectId, processed: bool
) -> TransactionError:
    oid = object_id(error_id)
    row = (
        TransactionError.objects(id=oid, owner=owner_id).modify(
            new=True, set__processed=processed, set__updated_at=utcnow()
        )
        if oid
        else None
    )
    if row is None:
        raise NotFound("Error row not found.")
    return row


def delete_error(owner_id: ObjectId, error_id: str | ObjectId) -> None:
    oid = object_id(error_id)
    deleted = (
        TransactionError._get_collection().delete_one({"_id": oid, "owner": owner_id}).deleted_count
        if oid
        else 0
    )
    if not deleted:
        raise NotFound("Error row not found.")
