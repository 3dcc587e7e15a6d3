"""Wallet rules: unique names per user, totals read from the wallet, deletion with its data."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from mongoengine import NotUniqueError

from ..db import run_in_transaction
from ..errors import Conflict
from .models import Wallet


def list_wallets(owner_id: ObjectId) -> list[Wallet]:
    """The caller's wallets, newest first (then newest id), with their kept totals."""
    return list(Wallet.objects.owned_by(owner_id).order_by("-created_at", "-id"))


def get_wallet(owner_id: ObjectId, wallet_id: str | ObjectId) -> Wallet:
    return Wallet.objects.get_owned(owner_id, wallet_id, "Wallet")


def _save(wallet: Wallet) -> Wallet:
    """Save; the unique (owner, name_key) index turns a duplicate name into a 409."""
    try:
        wallet.save()
    except NotUniqueError:
        raise Conflict(
            f'You already have a wallet named "{wallet.name}"; choose another name.',
            errors={"name": ["A wallet with this name already exists."]},
        ) from None
    return wallet


def create_wallet(
    owner_id: ObjectId,
    *,
    name: str,
    description: str | None = None,
    base_currency: str | None = None,
) -> Wallet:
    return _save(
        Wallet(owner=owner_id, name=name, description=description, base_currency=base_currency)
    )


def update_wallet(owner_id: ObjectId, wallet_id: str | ObjectId, changes: dict[str, Any]) -> Wallet:
    """Rename or re-describe a wallet; its totals are never written here."""
    wallet = get_wallet(owner_id, wallet_id)
    for name in ("name", "description", "base_currency"):
        if name in changes:
            setattr(wallet, name, changes[name])
    wallet.touch()
    return _save(wallet)


def owned_by_wallet() -> list[type]:
    """Every document that belongs to a wallet (has ``owner`` and ``wallet`` fields)."""
    from ..models import DOCUMENTS

    return [doc for doc in DOCUMENTS if {"owner", "wallet"} <= set(doc._fields)]


def delete_wallet(owner_id: ObjectId, wallet_id: str | ObjectId) -> None:
    """Delete the wallet and everything that belongs to it, in one transaction.

    Its transactions, error rows, holdings, monthly totals and import records (any
    document with this ``owner`` and ``wallet``) go with it. Children go first, so
    where transactions are unavailable a failure half-way leaves the wallet in
    place and a retried DELETE finishes the job.
    """
    wallet = get_wallet(owner_id, wallet_id)
    scope = {"owner": owner_id, "wallet": wallet.id}

    def work(session):
        for document in owned_by_wallet():
            document._get_collection().delete_many(scope, session=session)
        Wallet._get_collection().delete_one({"_id": wallet.id, "owner": owner_id}, session=session)

    run_in_transaction(work)
