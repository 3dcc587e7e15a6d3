"""Storing canonical rows: bulk inserts in batches, de-duplicated by the server, totals kept.

Each batch is one transaction: the already-stored fingerprints of the batch are
read with one indexed ``$in`` query, the new rows are inserted with one unordered
``insert_many``, and the kept totals move with them (``totals.apply``). A
concurrent upload of the same file makes the losing transaction abort on the
unique (wallet, fingerprint) index; the batch is then re-read and retried, so the
file is stored exactly once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bson import Decimal128, ObjectId
from pymongo.errors import BulkWriteError, DuplicateKeyError

from ..assets.service import AssetRef, AssetSpec, asset_key, ensure_assets
from ..common.fields import day_start
from ..common.models import utcnow
from ..db import run_in_transaction
from ..stats import totals
from ..transactions.models import Transaction, TransactionError
from .fingerprint import fingerprints
from .types import CanonicalRow, RowError

BATCH_SIZE = 1000
MAX_ATTEMPTS = 5
_DUPLICATE_KEY = 11000
# Rows that name a security become assets; cash rows' asset_name is a counterparty.
SECURITY_TYPES = frozenset({"BUY", "SELL"})


@dataclass
class StoreOutcome:
    imported: int = 0
    duplicate_rows: list[int] = field(default_factory=list)


# Documents are inserted in bulk, past the model's validation: text is held to the same
# limits here, so an imported transaction can later be edited (and validated) like any other.
_DESCRIPTION_MAX = Transaction._fields["description"].max_length
_NAME_MAX = Transaction._fields["asset_name"].max_length
_SYMBOL_MAX = Transaction._fields["asset_symbol"].max_length


def clip_texts(rows: Sequence[CanonicalRow]) -> None:
    """Cut over-long text to the model's limits, in place: before fingerprinting, so the
    fingerprint is that of the stored text (re-importing an export finds the same rows)."""
    for row in rows:
        if row.description and len(row.description) > _DESCRIPTION_MAX:
            row.description = row.description[:_DESCRIPTION_MAX]
        if row.asset_name and len(row.asset_name) > _NAME_MAX:
            row.asset_name = row.asset_name[:_NAME_MAX]
        if row.asset_symbol and len(row.asset_symbol) > _SYMBOL_MAX:
            row.asset_symbol = row.asset_symbol[:_SYMBOL_MAX]


def _d128(value: Decimal | None) -> Decimal128 | None:
    return None if value is None else Decimal128(value)


def _is_security(row: CanonicalRow) -> bool:
    """Trades, and dividends that name a security, become assets (when they name one)."""
    if not (row.asset_symbol or row.asset_name):
        return False
    return row.transaction_type in SECURITY_TYPES or (
        row.asset_symbol is not None and row.transaction_type == "DIVIDEND"
    )


def _spec(row: CanonicalRow) -> AssetSpec:
    symbol = row.asset_symbol
    isin = symbol if symbol and len(symbol) == 12 and symbol[:2].isalpha() else None
    return AssetSpec(
        name=row.asset_name or symbol,
        symbol=None if isin else symbol,
        isin=isin,
        currency=row.currency,
    )


def link_assets(rows: Sequence[CanonicalRow]) -> dict[int, AssetRef]:
    """Upsert the securities named by ``rows`` in one bulk call; row index → asset."""
    specs = {i: _spec(row) for i, row in enumerate(rows) if _is_security(row)}
    if not specs:
        return {}
    refs = ensure_assets(list(specs.values()))
    return {i: refs[asset_key(spec)] for i, spec in specs.items() if asset_key(spec) in refs}


def _asset_type(row: CanonicalRow, asset: AssetRef | None) -> str:
    if asset is not None:
        return asset.asset_type
    return "other" if _is_security(row) else "cash"


def transaction_documents(
    rows: Sequence[CanonicalRow],
    *,
    owner: ObjectId,
    wallet: ObjectId,
    import_id: ObjectId | None,
    assets: dict[int, AssetRef],
) -> list[dict[str, Any]]:
    now = utcnow()
    docs = []
    clip_texts(rows)
    for index, (row, fingerprint) in enumerate(zip(rows, fingerprints(rows), strict=True)):
        asset = assets.get(index)
        docs.append(
            {
                "owner": owner,
                "wallet": wallet,
                "asset": asset.id if asset else None,
                "asset_name": row.asset_name,
                "asset_symbol": row.asset_symbol,
                "asset_type": _asset_type(row, asset),
                "date": day_start(row.date),
                "transaction_type": row.transaction_type,
                "volume": _d128(row.volume),
                "item_price": _d128(row.item_price),
                "transaction_amount": Decimal128(row.transaction_amount),
                "fee": Decimal128(row.fee or Decimal(0)),
                "currency": row.currency,
                "description": row.description,
                "import_id": import_id,
                "row_number": row.row_number,
                "fingerprint": fingerprint,
                "source": "import",
                "created_at": now,
                "updated_at": now,
            }
        )
    return docs


def _existing(wallet: ObjectId, batch: list[dict[str, Any]], session=None) -> set[str]:
    cursor = Transaction._get_collection().find(
        {"wallet": wallet, "fingerprint": {"$in": [d["fingerprint"] for d in batch]}},
        {"fingerprint": 1, "_id": 0},
        session=session,
    )
    return {doc["fingerprint"] for doc in cursor}


def _insert(batch: list[dict[str, Any]], session) -> list[dict[str, Any]]:
    """Insert ``batch``; return the documents actually stored."""
    if not batch:
        return []
    collection = Transaction._get_collection()
    try:
        collection.insert_many(batch, ordered=False, session=session)
        stored = batch
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if session is not None or any(e.get("code") != _DUPLICATE_KEY for e in errors):
            raise
        # Without transactions, the server already kept every row but the duplicates.
        failed = {e["index"] for e in errors}
        stored = [doc for i, doc in enumerate(batch) if i not in failed]
    totals.apply(stored, +1, session=session)
    return stored


def store_transactions(wallet: ObjectId, docs: list[dict[str, Any]]) -> StoreOutcome:
    outcome = StoreOutcome()
    for start in range(0, len(docs), BATCH_SIZE):
        batch = docs[start : start + BATCH_SIZE]
        for attempt in range(MAX_ATTEMPTS):

            def work(session, batch=batch):
                existing = _existing(wallet, batch, session)
                return _insert([d for d in batch if d["fingerprint"] not in existing], session)

            try:
                stored = run_in_transaction(work)
            except (BulkWriteError, DuplicateKeyError):
                # A concurrent upload stored some of these rows first: look again.
                if attempt == MAX_ATTEMPTS - 1:
                    raise
                continue
            stored_fps = {d["fingerprint"] for d in stored}
            outcome.imported += len(stored)
            outcome.duplicate_rows.extend(
                d["row_number"] for d in batch if d["fingerprint"] not in stored_fps
            )
            break
    return outcome


def error_documents(
    errors: Iterable[RowError], *, owner: ObjectId, wallet: ObjectId, import_id: ObjectId | None
) -> list[dict[str, Any]]:
    now = utcnow()
    docs = []
    for error in errors:
        partial = error.partial or {}
        date = partial.get("date")
        docs.append(
            {
                "owner": owner,
                "wallet": wallet,
                "import_id": import_id,
                "row_number": error.row_number,
                "date": day_start(date) if isinstance(date, dt.date) else None,
                "asset_name": partial.get("asset_name"),
                "asset_type": partial.get("asset_type"),
                "transaction_type": partial.get("transaction_type"),
                "volume": _d128(partial.get("volume")),
                "item_price": _d128(partial.get("item_price")),
                "transaction_amount": _d128(partial.get("transaction_amount")),
                "currency": partial.get("currency"),
                "fee": _d128(partial.get("fee")),
                "error_type": error.error_type,
                "error_message": error.message,
                "field_name": error.field_name,
                "value": None if error.value is None else str(error.value)[:500],
                "suggestion": error.suggestion,
                "raw": {
                    str(k)[:100]: None if v is None else str(v)[:500] for k, v in error.raw.items()
                },
                "processed": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    return docs


def store_errors(docs: list[dict[str, Any]]) -> None:
    if docs:
        TransactionError._get_collection().insert_many(docs, ordered=False)
