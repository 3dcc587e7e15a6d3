"""/api/transactions: listing, manual entry and edits, and stored error rows of imports.

Ids in paths use the ``objectid`` converter (24 hex digits), so the static routes
under ``/api/transactions/`` (``errors``, ``upload``, ``detect-currency``, ``export``)
are never read as a transaction id.
"""

from __future__ import annotations

from flask import Response, current_app, stream_with_context

from ..auth.current import current_user, protect
from ..common.blueprint import Blueprint
from . import service
from .schemas import (
    ErrorQuerySchema,
    ErrorUpdateSchema,
    ExportQuerySchema,
    TransactionCreateSchema,
    TransactionErrorPageSchema,
    TransactionErrorSchema,
    TransactionPageSchema,
    TransactionQuerySchema,
    TransactionSchema,
    TransactionUpdateSchema,
)

blp = protect(
    Blueprint("transactions", __name__, url_prefix="/api/transactions", description="Transactions")
)

_NOT_FOUND = "No transaction of the caller has this id."


@blp.route("", methods=["GET"])
@blp.arguments(TransactionQuerySchema, location="query", as_kwargs=True)
@blp.response(200, TransactionPageSchema)
@blp.alt_response(404, description="`wallet_id` is not one of the caller's wallets.")
def list_transactions(**args):
    """One page of the caller's transactions, in one wallet (`wallet_id`) or all of them.

    Order: by `sort` (default `-date`: newest day first) with ties broken by id in the
    same direction, so consecutive pages never overlap or skip. `page` is 1-based;
    `limit` (at most 1000) is echoed back. Unknown query parameters are ignored and an
    empty value counts as absent.
    """
    # Items arrive already in TransactionSchema's shape (service.listing_item): skip a
    # second, per-row marshmallow pass on pages of up to 1000 rows.
    return current_app.json.response(service.list_transactions(current_user().id, **args))


@blp.route("", methods=["POST"])
@blp.arguments(
    TransactionCreateSchema,
    example={
        "wallet_id": "65f1c0ffee0123456789abcd",
        "date": "2024-03-15",
        "transaction_type": "BUY",
        "asset_name": "Apple Inc.",
        "asset_symbol": "AAPL",
        "volume": 10,
        "item_price": 170.5,
        "fee": 1.5,
        "currency": "USD",
    },
)
@blp.response(201, TransactionSchema)
@blp.alt_response(404, description="`wallet_id` is not one of the caller's wallets.")
def create_transaction(data):
    """Add a transaction by hand (same rules as imports).

    `transaction_amount` follows the sign convention and a wrong sign is rejected
    (422) rather than flipped. A BUY/SELL may omit it: it is computed from volume,
    item price and fee. The currency defaults to the wallet's base currency.
    """
    return service.create_transaction(current_user().id, data)


@blp.route("/export", methods=["GET"])
@blp.arguments(ExportQuerySchema, location="query")
@blp.response(200, description="The file: `text/csv` (streamed) or an XLSX workbook.")
def export(args):
    """Download the transactions the same filters would list, as CSV or XLSX.

    Columns: Date, Type, Asset, Symbol, Asset Type, Quantity, Price, Net Amount, Fee,
    Currency, Description — a layout the importer reads back exactly. Text that a
    spreadsheet would evaluate is escaped (CSV) or stored as plain text (XLSX).
    """
    from ..imports import export as files

    fmt = args.pop("format")
    docs = service.export_cursor(current_user().id, **args)
    name = f"transactions.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "xlsx":
        return Response(files.xlsx_bytes(docs), mimetype=files.XLSX_MIMETYPE, headers=disposition)
    return Response(
        stream_with_context(files.csv_chunks(docs)),
        mimetype=files.CSV_MIMETYPE,
        headers=disposition,
    )


@blp.route("/errors", methods=["GET"])
@blp.arguments(ErrorQuerySchema, location="query", as_kwargs=True)
@blp.response(200, TransactionErrorPageSchema)
@blp.alt_response(404, description="`wallet_id` is not one of the caller's wallets.")
def list_errors(**args):
    """Stored rows that imports could not use: newest import first, then by row number.

    `processed=false`, `unprocessed=true` and `resolved=false` each mean "only
    unprocessed rows"; `processed=true` and `resolved=true` mean "only processed".
    """
    return service.list_errors(current_user().id, **args)


@blp.route("/errors/<objectid:error_id>", methods=["PATCH"])
@blp.arguments(ErrorUpdateSchema, example={"processed": True})
@blp.response(200, TransactionErrorSchema)
@blp.alt_response(404, description="No error row of the caller has this id.")
def update_error(data, error_id):
    """Mark an error row processed (or not)."""
    return service.set_error_processed(current_user().id, error_id, data["processed"])


@blp.route("/errors/<objectid:error_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, description="No error row of the caller has this id.")
def delete_error(error_id):
    """Delete an error row."""
    service.delete_error(current_user().id, error_id)


@blp.route("/<objectid:transaction_id>", methods=["GET"])
@blp.response(200, TransactionSchema)
@blp.alt_response(404, description=_NOT_FOUND)
def get_transaction(transaction_id):
    """One of the caller's transactions."""
    return service.get_transaction(current_user().id, transaction_id)


@blp.route("/<objectid:transaction_id>", methods=["PATCH"])
@blp.arguments(TransactionUpdateSchema, example={"fee": 2.5, "transaction_amount": None})
@blp.response(200, TransactionSchema)
@blp.alt_response(404, description=_NOT_FOUND)
@blp.alt_response(409, description="The target wallet already holds this imported row.")
def update_transaction(changes, transaction_id):
    """Change a transaction; the result is validated as a whole, like a new one.

    `wallet_id` moves it to another of the caller's wallets (both wallets' totals
    follow). `transaction_amount: null` recomputes a BUY/SELL amount from volume,
    item price and fee.
    """
    return service.update_transaction(current_user().id, transaction_id, changes)


@blp.route("/<objectid:transaction_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, description=_NOT_FOUND)
def delete_transaction(transaction_id):
    """Delete a transaction; the wallet's totals follow."""
    service.delete_transaction(current_user().id, transaction_id)
