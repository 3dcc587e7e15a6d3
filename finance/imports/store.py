"""Storing canonical rows: bulk inserts in batches, de-duplicated by the server, totals kept.

Each batch is one transaction: the already-stored fingerprints of the batch are
read with one indexed ``$in`` query, the new rows are inserted with one unordered
``insert_many``, and the kept totals move with them (``totals.apply``). A
concurrent upload of the same file makes the losing transaction abort on the
unique (wallet, fingerprint) index; the batch is then re-read and retried, so the
file is stored exactly once. A crash between batches leaves whole batches only;
uploading the file again stores exactly the rest (the fingerprints say which).

Documents are built batch by batch (a 100k-row file never has 100k documents in
memory at once), the kept totals are summed from the rows' own ``Decimal`` values
(never decoded back from ``Decimal128``), and the fingerprint look-up is skipped
while the wallet held no transactions when the import began: nothing can be a
duplicate then but a concurrent upload's rows, which the unique index catches (the
batch is then retried with the look-up).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bson import Decimal128, ObjectId
from pymongo.errors import BulkWriteError, DuplicateKeyError

from ..assets.service import AssetRef, AssetSpec, asset_key, ensure_assets, stored_assets
from ..common.decimals import d128
from ..common.fields import day_start
from ..common.models import utcnow
from ..db import run_in_transaction
from ..stats import totals
from ..transactions.models import Transaction, TransactionError
from ..wallets.models import Wallet
from .fingerprint import fingerprints
from .types import CanonicalRow, RowError

#: Rows per transaction. Each transaction pays a start, a commit, a fingerprint look-up and
#: the totals' upserts (one per wallet, holding and month touched), so larger batches pay
#: them less often; 3,000 of these documents are about 1.5 MB, far inside a transaction's
#: and a command's limits (16 MB per command; MongoDB aborts a transaction after 60 s).
#: (5,000 would save one batch's costs, ~0.1 s on SecantusDB, per 7,500 rows; but the fault
#: suite uploads 3 x BATCH_SIZE rows through werkzeug's test client, which spools a request
#: body over 500 KB to a temporary file it never closes: see bench/README.md.)
BATCH_SIZE = 3000
MAX_ATTEMPTS = 5
_DUPLICATE_KEY = 11000
_ZERO = Decimal(0)
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
    return None if value is None else d128(value)


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


@dataclass
class Securities:
    """The distinct securities a file names (spec and asset key), and which one each row
    names (an index into both lists; ``-1``: none)."""

    specs: list[AssetSpec]
    keys: list[str]
    of_row: list[int]


def securities(rows: Sequence[CanonicalRow]) -> Securities:
    """One spec per distinct (symbol, name, currency): a 100k-row file naming 24 securities
    builds, keys and validates 24 specs, not 100k."""
    index: dict[tuple[str | None, str | None, str | None], int] = {}
    specs: list[AssetSpec] = []
    of_row: list[int] = []
    for row in rows:
        if not _is_security(row):
            of_row.append(-1)
            continue
        identity = (row.asset_symbol, row.asset_name, row.currency)
        position = index.get(identity)
        if position is None:
            position = index[identity] = len(specs)
            specs.append(_spec(row))
        of_row.append(position)
    return Securities(specs, [asset_key(spec) for spec in specs], of_row)


NewAssets = dict[str, AssetSpec]


def link_assets(
    found: Securities, type_new: Callable[[NewAssets], NewAssets] | None = None
) -> list[AssetRef | None]:
    """The asset of each row (``None``: it names none), the missing ones created.

    One read finds the assets already stored (usually all of them: a user's securities
    recur); only the rest are upserted, in one bulk call (plus its read), after
    ``type_new`` (the AI typing) had its chance to type them.
    """
    if not found.specs:
        return [None] * len(found.of_row)
    refs = stored_assets(found.keys)
    new: NewAssets = {}
    for key, spec in zip(found.keys, found.specs, strict=True):
        if key not in refs:
            new.setdefault(key, spec)
    if new:
        if type_new is not None:
            new = type_new(new)
        refs.update(ensure_assets(list(new.values())))
    by_spec = [refs.get(key) for key in found.keys]
    return [by_spec[position] if position >= 0 else None for position in found.of_row]


def _asset_type(row: CanonicalRow, asset: AssetRef | None) -> str:
    if asset is not None:
        return asset.asset_type
    return "other" if _is_security(row) else "cash"


def transaction_documents(
    rows: Sequence[CanonicalRow],
    row_fingerprints: Iterable[str],
    assets: Sequence[AssetRef | None],
    *,
    owner: ObjectId,
    wallet: ObjectId,
    import_id: ObjectId | None,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """The documents of ``rows`` (already clipped), with their fingerprints and assets."""
    docs = []
    for row, fingerprint, asset in zip(rows, row_fingerprints, assets, strict=True):
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
                "transaction_amount": d128(row.transaction_amount),
                "fee": d128(row.fee or _ZERO),
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


def _holds_transactions(wallet: ObjectId) -> bool:
    """Did the wallet hold any transaction (its kept count) before this import? One read.

    Only a hint: a wrong answer costs a retried batch, never a duplicate.
    """
    doc = Wallet._get_collection().find_one({"_id": wallet}, {"totals.count": 1, "_id": 0})
    return doc is None or bool((doc.get("totals") or {}).get("count"))


def _existing(wallet: ObjectId, batch: list[dict[str, Any]], session=None) -> set[str]:
    cursor = Transaction._get_collection().find(
        {"wallet": wallet, "fingerprint": {"$in": [d["fingerprint"] for d in batch]}},
        {"fingerprint": 1, "_id": 0},
        session=session,
    )
    return {doc["fingerprint"] for doc in cursor}


def _totals_rows(
    docs: list[dict[str, Any]], rows: Sequence[CanonicalRow], stored: list[int]
) -> Iterator[dict[str, Any]]:
    """The stored documents with their amounts as the rows' ``Decimal``s, for the totals."""
    for i in stored:
        row = rows[i]
        yield dict(
            docs[i],
            transaction_amount=row.transaction_amount,
            fee=row.fee or _ZERO,
            volume=row.volume,
        )


def _insert(
    docs: list[dict[str, Any]], rows: Sequence[CanonicalRow], candidates: list[int], session
) -> list[int]:
    """Insert ``docs[i]`` for each candidate ``i``; return the positions actually stored."""
    if not candidates:
        return []
    batch = docs if len(candidates) == len(docs) else [docs[i] for i in candidates]
    collection = Transaction._get_collection()
    try:
        collection.insert_many(batch, ordered=False, session=session)
        stored = candidates
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if session is not None or any(e.get("code") != _DUPLICATE_KEY for e in errors):
            raise
        # Without transactions, the server already kept every row but the duplicates.
        failed = {e["index"] for e in errors}
        stored = [i for n, i in enumerate(candidates) if n not in failed]
    totals.apply(_totals_rows(docs, rows, stored), +1, session=session)
    return stored


def _store_batch(
    wallet: ObjectId, docs: list[dict[str, Any]], rows: Sequence[CanonicalRow], look_up: bool
) -> tuple[list[int], bool]:
    """Store one batch in one transaction; the positions stored, and whether to look up."""
    for attempt in range(MAX_ATTEMPTS):

        def work(session, look_up=look_up) -> list[int]:
            if not look_up:
                return _insert(docs, rows, list(range(len(docs))), session)
            existing = _existing(wallet, docs, session)
            fresh = [i for i, doc in enumerate(docs) if doc["fingerprint"] not in existing]
            return _insert(docs, rows, fresh, session)

        try:
            return run_in_transaction(work), look_up
        except (BulkWriteError, DuplicateKeyError):
            # A concurrent upload stored some of these rows first: look again.
            if attempt == MAX_ATTEMPTS - 1:
                raise
            look_up = True
    raise AssertionError("unreachable")  # pragma: no cover


def store_rows(
    rows: Sequence[CanonicalRow],
    assets: Sequence[AssetRef | None],
    *,
    owner: ObjectId,
    wallet: ObjectId,
    import_id: ObjectId | None,
    wallet_count: int | None = None,
) -> StoreOutcome:
    """Store ``rows`` (``assets[i]`` is row i's asset) in batches of :data:`BATCH_SIZE`.

    ``wallet_count`` is the wallet's kept transaction count when the caller has just read
    it (else it is read here): only a hint for skipping the fingerprint look-ups.
    """
    outcome = StoreOutcome()
    now = utcnow()
    look_up = _holds_transactions(wallet) if wallet_count is None else wallet_count > 0
    # Lazy: each row is fingerprinted when its batch is built, after its text was clipped;
    # the occurrence count of identical rows runs on across batches.
    row_fingerprints = fingerprints(rows)
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start : start + BATCH_SIZE]
        clip_texts(batch)
        docs = transaction_documents(
            batch,
            itertools.islice(row_fingerprints, len(batch)),
            assets[start : start + BATCH_SIZE],
            owner=owner,
            wallet=wallet,
            import_id=import_id,
            now=now,
        )
        stored, look_up = _store_batch(wallet, docs, batch, look_up)
        outcome.imported += len(stored)
        if len(stored) < len(docs):
            kept = set(stored)
            outcome.duplicate_rows.extend(
                doc["row_number"] for i, doc in enumerate(docs) if i not in kept
            )
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
