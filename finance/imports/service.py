"""Statement import rules: one upload in, a stored import with its report out.

The pure pipeline (:mod:`finance.imports.pipeline`) reads the bytes; this module
owns everything around it — the wallet, limits, mapping cache and AI, de-duplicated
storage, error rows, the import record, undo — and never touches ``flask.request``.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, replace
from typing import Any

import pymongo
from bson import ObjectId
from pymongo.errors import ConnectionFailure, PyMongoError

from ..assets.service import AssetSpec, display_name, untyped
from ..db import run_in_transaction
from ..errors import ApiError, Conflict, ValidationError
from ..stats import totals
from ..transactions.models import Transaction, TransactionError
from ..wallets.models import Wallet
from .models import Import
from .store import (
    BATCH_SIZE,
    error_documents,
    link_assets,
    securities,
    store_errors,
    store_rows,
)
from .types import CanonicalRow, ImportOptions, ImportRejected, ParseResult, RowError

log = logging.getLogger("finance.imports")

DRY_RUN_ROWS = 20
DUPLICATE_ROWS_SHOWN = 1000
OVERRIDE_FIELDS = (
    "sheet",
    "header_row",
    "delimiter",
    "encoding",
    "date_format",
    "decimal_mark",
    "mapping",
)
INTERRUPTED = "Interrupted; a later upload of the same file completed it."
STORE_FAILED = "Storing the rows failed."
#: After an outage, marking the import failed is worth only a short wait for the database.
MARK_FAILED_AFTER_OUTAGE_S = 0.5
#: Seconds from the start of an upload within which the AI calls (mapping, then asset types)
#: must finish, so the answer leaves well inside API Gateway's 29 s.
AI_BUDGET_S = 20.0


def resolve_wallet(owner: ObjectId, wallet_id: str | None, wallet_name: str | None) -> Wallet:
    """The caller's wallet by id (404 if not theirs), else by name (created when new)."""
    if wallet_id:
        return Wallet.objects.get_owned(owner, wallet_id, "Wallet")
    name = (wallet_name or "").strip()
    if not name:
        raise ValidationError(
            "Say which wallet to import into: wallet_id or wallet_name.",
            errors={"wallet_id": ["Missing data for required field."]},
        )
    wallet = Wallet.objects.named(owner, name).first()
    if wallet is None:
        from ..wallets.service import create_wallet

        try:
            wallet = create_wallet(owner, name=name)
        except Conflict:
            # A concurrent upload created it a moment ago: use that one.
            wallet = Wallet.objects.named(owner, name).get()
    return wallet


def build_options(config: Mapping[str, Any], wallet: Wallet, overrides: Mapping[str, Any]):
    return ImportOptions(
        currency=overrides.get("currency"),
        wallet_currency=wallet.base_currency,
        max_bytes=config["MAX_UPLOAD_BYTES"],
        max_rows=config["MAX_UPLOAD_ROWS"],
        **{name: overrides.get(name) for name in OVERRIDE_FIELDS},
    )


def _parse(data: bytes, filename: str | None, options: ImportOptions, resolver) -> ParseResult:
    from .pipeline import parse_statement  # the readers are heavy: off the cold-start path

    try:
        return parse_statement(data, filename, options, resolve_mapping=resolver)
    except ImportRejected as exc:
        raise ApiError(exc.detail, status_code=exc.status) from None


def _resolver(owner: ObjectId, config: Mapping[str, Any], notes: list[str]):
    from ..mappings.resolver import ai_from_config, make_resolver

    return make_resolver(owner, ai=ai_from_config(config), notes=notes)


def row_json(row: CanonicalRow) -> dict[str, Any]:
    data = asdict(row)
    data.pop("raw", None)
    data["date"] = row.date.isoformat()
    return data


def error_json(error: RowError) -> dict[str, Any]:
    partial = error.partial or {}
    return {
        "row_number": error.row_number,
        "error_type": error.error_type,
        "error_message": error.message,
        "field_name": error.field_name,
        "value": error.value,
        "suggestion": error.suggestion,
        "date": partial["date"].isoformat() if partial.get("date") else None,
        "asset_name": partial.get("asset_name"),
        "asset_type": partial.get("asset_type"),
        "transaction_type": partial.get("transaction_type"),
        "volume": partial.get("volume"),
        "item_price": partial.get("item_price"),
        "transaction_amount": partial.get("transaction_amount"),
        "currency": partial.get("currency"),
        "fee": partial.get("fee"),
        "processed": False,
        "raw": error.raw,
    }


def _report(result: ParseResult, *, file_name, data: bytes, notes, overrides) -> dict[str, Any]:
    return {
        "file_name": file_name,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "format": result.format,
        "encoding": result.encoding,
        "delimiter": result.delimiter,
        "sheet": result.sheet,
        "header_row": result.header_row,
        "header": result.header or [],
        "mapping": result.mapping or {},
        "mapping_source": result.mapping_source,
        "confidence": result.confidence,
        "currency": result.currency,
        "overrides": {k: v for k, v in overrides.items() if v is not None},
        "rows": result.total_rows,
        "notes": [*notes, *result.warnings],
    }


def import_statement(
    owner: ObjectId,
    wallet: Wallet,
    data: bytes,
    *,
    file_name: str | None,
    config: Mapping[str, Any],
    overrides: Mapping[str, Any],
    dry_run: bool = False,
) -> dict[str, Any]:
    """Parse, de-duplicate and store one statement; return the contract's response body."""
    started = time.perf_counter()
    notes: list[str] = []
    options = build_options(config, wallet, overrides)
    result = _parse(data, file_name, options, _resolver(owner, config, notes))
    if not dry_run:
        # Before the import record exists, so the record keeps the notes this adds.
        assets = link_assets(
            securities(result.rows),
            type_new=lambda new: _typed_by_ai(new, config, notes, started),
        )
    report = _report(result, file_name=file_name, data=data, notes=notes, overrides=overrides)
    failed = [error_json(e) for e in result.errors]
    if dry_run:
        report.update(
            imported=0,
            duplicates=0,
            failed=len(result.errors),
            dry_run=True,
            preview=[row_json(r) for r in result.rows[:DRY_RUN_ROWS]],
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return _response(report, failed, "Dry run: nothing was stored.")

    record = Import(owner=owner, wallet=wallet.id, status="processing", **_record_fields(report))
    record.save()
    try:
        outcome = store_rows(
            result.rows,
            assets,
            owner=owner,
            wallet=wallet.id,
            import_id=record.id,
            wallet_count=wallet.totals.count if wallet.totals else None,
        )
        error_docs = error_documents(
            result.errors, owner=owner, wallet=wallet.id, import_id=record.id
        )
        store_errors(error_docs)
    except Exception as exc:
        _mark_failed(record, exc)
        raise
    duration = round((time.perf_counter() - started) * 1000, 1)
    Import.objects(id=record.id).update_one(
        set__status="completed",
        set__imported=outcome.imported,
        set__duplicates=len(outcome.duplicate_rows),
        set__failed=len(result.errors),
        set__duplicate_rows=outcome.duplicate_rows[:DUPLICATE_ROWS_SHOWN],
        set__duration_ms=duration,
        unset__error=True,  # a concurrent upload of the same file may have called it interrupted
    )
    _close_interrupted(record)
    _remember_mapping(owner, result, outcome.imported + len(outcome.duplicate_rows))
    for doc, item in zip(error_docs, failed, strict=True):
        item.update(id=str(doc["_id"]), wallet_id=str(wallet.id), import_id=str(record.id))
    report.update(
        import_id=str(record.id),
        imported=outcome.imported,
        duplicates=len(outcome.duplicate_rows),
        duplicate_rows=outcome.duplicate_rows[:DUPLICATE_ROWS_SHOWN],
        failed=len(result.errors),
        dry_run=False,
        duration_ms=duration,
        status="completed",
    )
    return _response(report, failed, _message(report))


def _typed_by_ai(
    new: dict[str, AssetSpec], config: Mapping[str, Any], notes: list[str], started: float
) -> dict[str, AssetSpec]:
    """The new securities (by asset key), those the rules cannot type classified by Gemini.

    ``new`` holds only securities no stored asset has yet: the assets collection is the
    cache, and what is stored (whatever its type) is never sent again. One call per import,
    and only on a real import: a dry run stores nothing, so an answer could not be kept.
    Any failure leaves them ``other`` with a note; the import itself never fails for it.
    """
    unknown = untyped(new)
    if not unknown:
        return new
    stored_as_other = f"{_new_assets(len(unknown))} stored as 'other'"
    from ..mappings.resolver import ai_from_config
    from .ai import AiMappingError

    ai = ai_from_config(config)
    if ai is None:
        notes.append(
            f"AI asset classification is off (no GOOGLE_API_KEY); {stored_as_other}, "
            "as the rules could not tell their type."
        )
        return new
    left = AI_BUDGET_S - (time.perf_counter() - started)
    if left < 1.0:
        notes.append(f"AI asset classification skipped (no time left); {stored_as_other}.")
        return new
    if ai.deadline_s is None or ai.deadline_s > left:
        ai = copy.copy(ai)  # the process's mapper is shared: bound this call alone
        ai.deadline_s = left
    by_name: dict[str, list[str]] = {}
    for key, spec in unknown.items():
        by_name.setdefault(display_name(spec) or key, []).append(key)
    try:
        answer = ai.classify_assets(list(by_name))
    except AiMappingError as exc:  # timeouts, quota, malformed or invalid answers
        notes.append(f"AI asset classification failed ({exc.reason}); {stored_as_other}.")
        return new
    except Exception as exc:  # a bug of ours must not fail the import either
        log.exception("asset classification failed")
        notes.append(
            f"AI asset classification failed (unexpected {type(exc).__name__}); {stored_as_other}."
        )
        return new
    typed = {key: kind for name, kind in answer.items() for key in by_name.get(name, ())}
    classified = sum(1 for kind in typed.values() if kind != "other")
    rest = len(unknown) - classified
    notes.append(
        f"Gemini ({ai.model}) classified {classified} of {_new_assets(len(unknown))} the rules "
        "could not type" + (f"; {rest} stored as 'other'." if rest else ".")
    )
    return {
        key: replace(spec, asset_type=typed[key]) if key in typed else spec
        for key, spec in new.items()
    }


def _new_assets(count: int) -> str:
    return f"{count} new asset" + ("" if count == 1 else "s")


def _mark_failed(record: Import, exc: Exception) -> None:
    """Best effort: if the database is gone, the record stays "processing" until the file is
    uploaded again (:func:`_close_interrupted`); the request's own error is what matters."""
    timeout = MARK_FAILED_AFTER_OUTAGE_S if isinstance(exc, ConnectionFailure) else None
    try:
        with pymongo.timeout(timeout):
            Import.objects(id=record.id).update_one(set__status="failed", set__error=STORE_FAILED)
    except PyMongoError as mark_exc:
        log.warning("could not mark import %s failed: %s", record.id, type(mark_exc).__name__)


def _close_interrupted(record: Import) -> None:
    """Earlier uploads of this file into this wallet still "processing" were cut off (the
    process died mid-store); this upload has stored the rest, so they are failed, each with
    the number of rows it did store (undoing it removes exactly those)."""
    stale = Import.objects(
        owner=record.owner,
        wallet=record.wallet,
        created_at__lte=record.created_at,
        id__ne=record.id,
        sha256=record.sha256,
        status="processing",
    ).only("id")
    for old in stale:
        stored = Transaction.objects(import_id=old.id).count()
        Import.objects(id=old.id, status="processing").update_one(
            set__status="failed", set__error=INTERRUPTED, set__imported=stored
        )


def _record_fields(report: dict[str, Any]) -> dict[str, Any]:
    names = (
        "file_name",
        "size",
        "sha256",
        "format",
        "encoding",
        "delimiter",
        "sheet",
        "header_row",
        "header",
        "mapping",
        "mapping_source",
        "confidence",
        "currency",
        "overrides",
        "rows",
        "notes",
    )
    fields = {name: report[name] for name in names}
    fields["overrides"] = {k: str(v) for k, v in fields["overrides"].items()}
    return fields


def _remember_mapping(owner: ObjectId, result: ParseResult, used_rows: int) -> None:
    """A mapping that produced transactions is confirmed: cache it for this layout."""
    if used_rows:
        from ..mappings.resolver import remember_result

        remember_result(owner, result)


def _message(report: dict[str, Any]) -> str:
    parts = [f"Imported {report['imported']} of {report['rows']} rows"]
    if report["duplicates"]:
        parts.append(f"{report['duplicates']} already present")
    if report["failed"]:
        parts.append(f"{report['failed']} could not be read (see failed_transactions)")
    return ", ".join(parts) + "."


def _response(report: dict[str, Any], failed: list[dict[str, Any]], message: str):
    data = dict(report)
    data["failed_transactions"] = failed
    return {"status": "success", "message": message, "data": data}


def detect_currency(
    wallet: Wallet, data: bytes, file_name: str | None, config: Mapping[str, Any]
) -> dict[str, Any]:
    from .pipeline import detect_currency as detect

    options = build_options(config, wallet, {})
    try:
        detected = detect(data, file_name, options)
    except ImportRejected as exc:
        raise ApiError(exc.detail, status_code=exc.status) from None
    return {
        "needs_currency": detected is None and wallet.base_currency is None,
        "detected_currency": detected,
        "wallet_currency": wallet.base_currency,
    }


def get_import(owner: ObjectId, import_id: str) -> Import:
    return Import.objects.get_owned(owner, import_id, "Import")


def list_imports(owner: ObjectId, wallet_id: str | None, page: int, limit: int):
    query = Import.objects(owner=owner)
    if wallet_id:
        wallet = Wallet.objects.get_owned(owner, wallet_id, "Wallet")
        query = Import.objects.in_wallet(owner, wallet.id)
    total = query.count()
    items = list(query.order_by("-created_at", "-id").skip((page - 1) * limit).limit(limit))
    return items, total


def undo_import(owner: ObjectId, import_id: str) -> None:
    """Remove the import's transactions (and error rows), moving the kept totals back."""
    record = get_import(owner, import_id)
    if record.status == "undone":
        return
    collection = Transaction._get_collection()
    while True:
        batch = list(collection.find({"import_id": record.id, "owner": owner}).limit(BATCH_SIZE))
        if not batch:
            break

        def work(session, batch=batch):
            collection.delete_many({"_id": {"$in": [d["_id"] for d in batch]}}, session=session)
            totals.apply(batch, -1, session=session)

        run_in_transaction(work)
    TransactionError._get_collection().delete_many({"import_id": record.id, "owner": owner})
    Import.objects(id=record.id).update_one(set__status="undone")
