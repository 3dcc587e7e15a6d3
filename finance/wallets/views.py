"""/api/wallets: the caller's wallets, with totals kept on write."""

from __future__ import annotations

from ..auth.current import current_user, protect
from ..common.blueprint import Blueprint
from . import service
from .schemas import (
    WalletCreatedSchema,
    WalletCreateSchema,
    WalletListSchema,
    WalletSchema,
    WalletUpdateSchema,
)

blp = protect(Blueprint("wallets", __name__, url_prefix="/api/wallets", description="Wallets"))


@blp.route("", methods=["GET"])
@blp.response(200, WalletListSchema)
def list_wallets():
    """The caller's wallets, newest first (then newest id).

    Always an object `{"wallets": [...], "count": n}`, never a bare array.
    `balance`, `transaction_count`, `deposits`, `withdrawals`, `income` and `fees`
    are totals kept on every write, not computed from the transactions on read.
    """
    wallets = service.list_wallets(current_user().id)
    return {"wallets": wallets, "count": len(wallets)}


@blp.route("", methods=["POST"])
@blp.arguments(
    WalletCreateSchema,
    example={"name": "Broker", "description": "ETF savings plan", "base_currency": "EUR"},
)
@blp.response(201, WalletCreatedSchema)
@blp.alt_response(409, description="The caller already has a wallet with this name (any case).")
def create_wallet(data):
    """Create a wallet.

    The wallet comes back both at the top level and under `data`.
    """
    return service.create_wallet(current_user().id, **data)


@blp.route("/<objectid:wallet_id>", methods=["GET"])
@blp.response(200, WalletSchema)
@blp.alt_response(404, description="No wallet of the caller has this id.")
def get_wallet(wallet_id):
    """One of the caller's wallets."""
    return service.get_wallet(current_user().id, wallet_id)


@blp.route("/<objectid:wallet_id>", methods=["PATCH"])
@blp.arguments(WalletUpdateSchema, example={"name": "Broker (old)"})
@blp.response(200, WalletSchema)
@blp.alt_response(404, description="No wallet of the caller has this id.")
@blp.alt_response(409, description="The caller already has a wallet with the new name.")
def update_wallet(changes, wallet_id):
    """Change a wallet's name, description or base currency."""
    return service.update_wallet(current_user().id, wallet_id, changes)


@blp.route("/<objectid:wallet_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, description="No wallet of the caller has this id.")
def delete_wallet(wallet_id):
    """Delete a wallet **and all its transactions**.

    Its transactions, stored error rows of failed imports, import records,
    holdings and monthly totals are deleted with it, in one transaction.
    This cannot be undone.
    """
    service.delete_wallet(current_user().id, wallet_id)
