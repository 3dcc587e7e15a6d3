"""/api/assets: shared reference data (instruments) and their daily prices.

Assets are not owned by a user: any signed-in, registered user may list, read,
create and edit them, and record prices.
"""

from __future__ import annotations

from ..auth.current import protect
from ..common.blueprint import Blueprint
from ..common.pagination import envelope
from . import service
from .schemas import (
    AssetCreateSchema,
    AssetDetailSchema,
    AssetListArgsSchema,
    AssetPageSchema,
    AssetSchema,
    AssetUpdateSchema,
    PriceListArgsSchema,
    PricePageSchema,
    PricesInSchema,
    PricesStoredSchema,
)

blp = protect(
    Blueprint(
        "assets",
        __name__,
        url_prefix="/api/assets",
        description=(
            "Instruments (stocks, ETFs, funds, bonds, crypto, ...) shared by every user, "
            "and their prices (one per day)."
        ),
    )
)


NOT_FOUND = "No asset has this id."


@blp.route("", methods=["GET"])
@blp.arguments(AssetListArgsSchema, location="query")
@blp.response(200, AssetPageSchema)
def list_assets(args):
    """List assets, sorted by name (then id).

    Filter by `asset_type`, or search with `q` (case-insensitive substring of the
    name, symbol or ISIN).
    """
    page, limit = args.pop("page"), args.pop("limit")
    items, total = service.list_assets(page=page, limit=limit, **args)
    return envelope("assets", items, total, page, limit)


@blp.route("", methods=["POST"])
@blp.arguments(
    AssetCreateSchema,
    example={
        "name": "iShares Core MSCI World UCITS ETF",
        "symbol": "EUNL",
        "isin": "IE00B4L5Y983",
        "currency": "EUR",
    },
)
@blp.response(201, AssetSchema)
@blp.alt_response(409, description="An asset with the same ISIN/symbol/name exists (id in detail).")
def create_asset(data):
    """Create an asset; its type is classified from name/symbol/ISIN when omitted.

    Its identity (`key`) is the ISIN, else the upper-case symbol, else the name;
    a second asset with the same key is a 409 whose `detail` names the existing id.
    """
    return service.create_asset(**data)


@blp.route("/<asset_id>", methods=["GET"])
@blp.response(200, AssetDetailSchema)
@blp.alt_response(404, description=NOT_FOUND)
def get_asset(asset_id):
    """One asset, with its latest price (or `latest_price: null`)."""
    return service.asset_detail(asset_id)


@blp.route("/<asset_id>", methods=["PATCH"])
@blp.arguments(AssetUpdateSchema, example={"asset_type": "etf", "currency": "EUR"})
@blp.response(200, AssetSchema)
@blp.alt_response(404, description=NOT_FOUND)
@blp.alt_response(409, description="The new symbol/ISIN belongs to another asset.")
def update_asset(changes, asset_id):
    """Change an asset. A new symbol or ISIN changes its key: 409 if another asset has it."""
    return service.update_asset(asset_id, changes)


@blp.route("/<asset_id>/prices", methods=["POST"])
@blp.arguments(
    PricesInSchema,
    examples={
        "one": {"value": {"date": "2025-03-31", "price": 101.25, "currency": "EUR"}},
        "many": {
            "value": {
                "prices": [
                    {"date": "2025-03-28", "price": 100.5, "currency": "EUR"},
                    {"date": "2025-03-31", "price": 101.25, "currency": "EUR"},
                ]
            }
        },
    },
)
@blp.response(201, PricesStoredSchema)
@blp.alt_response(404, description=NOT_FOUND)
def add_prices(data, asset_id):
    """Record prices: one `{date, price, currency}` or `{"prices": [...]}` (up to 1000).

    One price per asset and day: a price for a day that has one replaces it.
    `currency` defaults to the asset's. Answers the stored prices, newest first.
    """
    stored = service.add_prices(asset_id, data["prices"])
    return {"prices": stored, "count": len(stored)}


@blp.route("/<asset_id>/prices", methods=["GET"])
@blp.arguments(PriceListArgsSchema, location="query")
@blp.response(200, PricePageSchema)
@blp.alt_response(404, description=NOT_FOUND)
def list_prices(args, asset_id):
    """An asset's prices, newest day first, optionally within `date_from`..`date_to`."""
    page, limit = args.pop("page"), args.pop("limit")
    items, total = service.list_prices(asset_id, page=page, limit=limit, **args)
    return envelope("prices", items, total, page, limit)
