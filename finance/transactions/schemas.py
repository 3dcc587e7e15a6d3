"""Request and response shapes for transactions and stored error rows.

Query schemas ignore parameters they do not know (the web client sends extra
ones) and treat an empty value (``?wallet_id=``) as absent. Every value is
typed, so nothing from the query string reaches MongoDB as an operator.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from ..assets.models import ASSET_TYPES
from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import (
    Amount,
    CurrencyCode,
    ObjectIdString,
    QueryArgsSchema,
    StrictBoolean,
    TrimmedString,
    amount_range,
)
from .kinds import ERROR_TYPES, TRANSACTION_TYPES
from .service import SORTS

ID_EXAMPLE = "65f1c0ffee0123456789abcd"


class TransactionTypes(ma.fields.List):
    """One or several transaction types, repeated (``?transaction_type=BUY&...``) or
    comma-separated (``BUY,SELL``), in any case."""

    def __init__(self, **kwargs):
        super().__init__(ma.fields.String(validate=validate.OneOf(TRANSACTION_TYPES)), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        items = value if isinstance(value, list | tuple) else [value]
        if not all(isinstance(item, str) for item in items):
            raise ma.ValidationError("Must be transaction type names.")
        names = [part.strip().upper() for item in items for part in item.split(",")]
        names = list(dict.fromkeys(name for name in names if name))
        unknown = [name for name in names if name not in TRANSACTION_TYPES]
        if unknown:
            raise ma.ValidationError(
                f"Unknown transaction type {unknown[0]!r}; use one of "
                f"{', '.join(TRANSACTION_TYPES)}."
            )
        return super()._deserialize(names, attr, data, **kwargs)


class TransactionFilterSchema(QueryArgsSchema):
    """The listing's filters and order, shared by the listing and the export."""

    wallet_id = ObjectIdString(
        metadata={"description": "Only this wallet's transactions (default: all wallets)."}
    )
    asset = TrimmedString(
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "Asset name or symbol: case-insensitive exact match or prefix.",
            "example": "AAPL",
        },
    )
    transaction_type = TransactionTypes(
        metadata={
            "description": "One or several types, repeated or comma-separated.",
            "example": ["BUY", "SELL"],
        },
    )
    date_from = ma.fields.Date(
        metadata={"description": "First day included (YYYY-MM-DD).", "example": "2024-01-01"}
    )
    date_to = ma.fields.Date(
        metadata={"description": "Last day included (YYYY-MM-DD).", "example": "2024-12-31"}
    )
    min_amount = Amount(
        metadata={
            "description": "Smallest signed transaction_amount included.",
            "example": -500,
            **amount_range(),
        }
    )
    max_amount = Amount(
        metadata={
            "description": "Largest signed transaction_amount included.",
            "example": 0,
            **amount_range(),
        }
    )
    q = TrimmedString(
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "Case-insensitive text in the description, asset name or symbol.",
            "example": "dividend",
        },
    )
    sort = ma.fields.String(
        load_default="-date",
        validate=validate.OneOf(SORTS),
        metadata={
            "description": "Order of the list; ties are broken by id in the same direction. "
            "Default `-date`: newest first, then newest id."
        },
    )


class TransactionQuerySchema(PageArgsSchema, TransactionFilterSchema):
    """Filters, order and page of the listing."""


class ExportQuerySchema(TransactionFilterSchema):
    """The listing's filters and order, and the file format."""

    format = ma.fields.String(
        load_default="csv",
        validate=validate.OneOf(("csv", "xlsx")),
        metadata={"description": "`csv` (streamed) or `xlsx`.", "example": "csv"},
    )


class TransactionSchema(ma.Schema):
    """A transaction; `transaction_amount` is the signed cash effect on the wallet."""

    id = ma.fields.String(required=True, metadata={"example": ID_EXAMPLE})
    wallet_id = ma.fields.String(
        attribute="wallet", required=True, metadata={"example": ID_EXAMPLE}
    )
    date = ma.fields.Date(required=True, metadata={"example": "2024-03-15"})
    asset_id = ma.fields.String(
        attribute="asset", allow_none=True, metadata={"description": "The linked asset, if any."}
    )
    asset_name = ma.fields.String(allow_none=True, metadata={"example": "Apple Inc."})
    asset_symbol = ma.fields.String(allow_none=True, metadata={"example": "AAPL"})
    asset_type = ma.fields.String(allow_none=True, metadata={"example": "stock"})
    transaction_type = ma.fields.String(required=True, metadata={"example": "BUY"})
    volume = Amount(allow_none=True, metadata={"example": 10})
    item_price = Amount(allow_none=True, metadata={"example": 170.5})
    transaction_amount = Amount(required=True, metadata={"example": -1706.5})
    currency = ma.fields.String(allow_none=True, metadata={"example": "USD"})
    fee = Amount(allow_none=True, metadata={"example": 1.5})
    description = ma.fields.String(allow_none=True)
    import_id = ma.fields.String(allow_none=True)
    row_number = ma.fields.Integer(allow_none=True)
    source = ma.fields.String(metadata={"example": "manual"})
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


TransactionPageSchema = page_schema(TransactionSchema, "transactions", "TransactionPage")

_AMOUNT_HELP = (
    "Signed cash effect: negative for BUY, WITHDRAWAL, FEE, TAX, TRANSFER_OUT; positive for "
    "SELL, DEPOSIT, DIVIDEND, INTEREST, TRANSFER_IN; either for TRANSFER and OTHER. "
    "Optional for BUY/SELL with volume and item_price: then -(volume*item_price+fee) for a "
    "BUY and volume*item_price-fee for a SELL."
)


class _TransactionFields(ma.Schema):
    date = ma.fields.Date(metadata={"example": "2024-03-15"})
    transaction_type = TrimmedString(
        metadata={"enum": list(TRANSACTION_TYPES), "description": "Any case.", "example": "BUY"}
    )
    transaction_amount = Amount(
        allow_none=True, metadata={"description": _AMOUNT_HELP, **amount_range()}
    )
    volume = Amount(
        allow_none=True,
        metadata={"description": "Quantity, zero or positive.", **amount_range(minimum=0)},
    )
    item_price = Amount(
        allow_none=True,
        metadata={"description": "Unit price, zero or positive.", **amount_range(minimum=0)},
    )
    fee = Amount(
        allow_none=True, metadata={"description": "Zero or positive.", **amount_range(minimum=0)}
    )
    currency = CurrencyCode(
        allow_none=True, metadata={"description": "Default: the wallet's base currency."}
    )
    asset_name = TrimmedString(allow_none=True, validate=validate.Length(max=200))
    asset_symbol = TrimmedString(allow_none=True, validate=validate.Length(max=40))
    asset_type = TrimmedString(allow_none=True, metadata={"enum": list(ASSET_TYPES)})
    description = TrimmedString(allow_none=True, validate=validate.Length(max=2000))


class TransactionCreateSchema(_TransactionFields):
    wallet_id = ObjectIdString(required=True)
    date = ma.fields.Date(required=True, metadata={"example": "2024-03-15"})
    transaction_type = TrimmedString(
        required=True,
        metadata={"enum": list(TRANSACTION_TYPES), "description": "Any case.", "example": "BUY"},
    )


class TransactionUpdateSchema(_TransactionFields):
    """Only the fields sent change. `transaction_amount: null` recomputes a BUY/SELL amount
    from volume and item_price; `wallet_id` moves it to another of the caller's wallets."""

    wallet_id = ObjectIdString()


# ------------------------------------------------------------------------------ error rows


class ErrorQuerySchema(PageArgsSchema, QueryArgsSchema):
    """`processed=false`, `unprocessed=true` and `resolved=false` all mean "only unprocessed"."""

    wallet_id = ObjectIdString(metadata={"description": "Only this wallet (default: all)."})
    processed = ma.fields.Boolean(metadata={"description": "Only processed (true) or not."})
    unprocessed = ma.fields.Boolean(metadata={"description": "Only unprocessed (true) or not."})
    resolved = ma.fields.Boolean(metadata={"description": "Alias of `processed`."})

    @ma.post_load
    def _one_processed_filter(self, data: dict[str, Any], **kwargs) -> dict[str, Any]:
        wanted = {data.pop(name) for name in ("processed", "resolved") if name in data}
        if "unprocessed" in data:
            wanted.add(not data.pop("unprocessed"))
        if len(wanted) > 1:
            raise ma.ValidationError(
                "processed, unprocessed and resolved ask for different rows; send just one."
            )
        data["processed"] = wanted.pop() if wanted else None
        return data


class TransactionErrorSchema(ma.Schema):
    """A row an import could not use; unparseable values are null, `raw` keeps the cells."""

    id = ma.fields.String(required=True, metadata={"example": ID_EXAMPLE})
    wallet_id = ma.fields.String(attribute="wallet", required=True)
    import_id = ma.fields.String(allow_none=True)
    row_number = ma.fields.Integer(allow_none=True, metadata={"example": 7})
    date = ma.fields.Date(allow_none=True)
    asset_name = ma.fields.String(allow_none=True)
    asset_type = ma.fields.String(allow_none=True)
    transaction_type = ma.fields.String(allow_none=True)
    volume = Amount(allow_none=True)
    item_price = Amount(allow_none=True)
    transaction_amount = Amount(allow_none=True)
    currency = ma.fields.String(allow_none=True)
    fee = Amount(allow_none=True)
    error_type = ma.fields.String(
        required=True, metadata={"enum": list(ERROR_TYPES), "example": "format"}
    )
    error_message = ma.fields.String(
        required=True, metadata={"example": "The date '31/02/2024' is not a calendar date."}
    )
    field_name = ma.fields.String(allow_none=True, metadata={"example": "date"})
    value = ma.fields.String(allow_none=True, metadata={"example": "31/02/2024"})
    suggestion = ma.fields.String(allow_none=True)
    processed = ma.fields.Boolean(required=True)
    raw = ma.fields.Dict(metadata={"description": "The row's cells, by column header."})
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime()


TransactionErrorPageSchema = page_schema(TransactionErrorSchema, "errors", "TransactionErrorPage")


class ErrorUpdateSchema(ma.Schema):
    processed = StrictBoolean(required=True, metadata={"example": True})
