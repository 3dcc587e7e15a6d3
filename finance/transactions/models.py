"""Transactions (the contract's sign convention) and stored error rows of failed imports."""

from __future__ import annotations

from decimal import Decimal

from mongoengine import BooleanField, DictField, IntField, ObjectIdField, StringField

from ..common.fields import CalendarDate, Money
from ..common.models import BaseDocument, OwnedQuerySet
from .kinds import ERROR_TYPES, TRANSACTION_TYPES

# Types whose transaction_amount is negative (cash leaves the wallet); the rest are positive,
# except TRANSFER and OTHER, which may go either way.
OUTFLOW_TYPES = frozenset({"BUY", "WITHDRAWAL", "FEE", "TAX", "TRANSFER_OUT"})
INFLOW_TYPES = frozenset({"SELL", "DEPOSIT", "DIVIDEND", "INTEREST", "TRANSFER_IN"})
INCOME_TYPES = frozenset({"SELL", "DIVIDEND", "INTEREST"})


class TransactionQuerySet(OwnedQuerySet):
    def in_wallet(self, owner_id, wallet_id):
        return self.filter(owner=owner_id, wallet=wallet_id)

    def from_import(self, import_id):
        return self.filter(import_id=import_id)


class Transaction(BaseDocument):
    meta = {
        "collection": "transactions",
        "queryset_class": TransactionQuerySet,
        "indexes": [
            # Listing within a wallet in the documented order (newest first, then newest id).
            {"fields": ["owner", "wallet", "-date", "-_id"], "name": "wallet_date"},
            # Listing across all of a user's wallets.
            {"fields": ["owner", "-date", "-_id"], "name": "owner_date"},
            # Sorting and range filters on the amount within a wallet. Not extended with _id
            # for tie-breaks: SecantusDB 0.7.0b3 then drops the range's inclusive ends.
            {"fields": ["owner", "wallet", "transaction_amount"], "name": "wallet_amount"},
            # Sorting by entry time within a wallet.
            {"fields": ["owner", "wallet", "created_at", "_id"], "name": "wallet_created"},
            # De-duplication: one fingerprint per wallet, enforced by the server.
            {
                "fields": ["wallet", "fingerprint"],
                "unique": True,
                "name": "uniq_wallet_fingerprint",
            },
            # Undo of an import.
            {"fields": ["import_id"], "name": "import", "sparse": True},
        ],
    }

    owner = ObjectIdField(required=True)
    wallet = ObjectIdField(required=True)
    asset = ObjectIdField()
    asset_name = StringField(max_length=200)
    asset_symbol = StringField(max_length=40)
    asset_type = StringField(max_length=20, default="other")
    date = CalendarDate(required=True)
    transaction_type = StringField(required=True, choices=TRANSACTION_TYPES)
    volume = Money()
    item_price = Money()
    transaction_amount = Money(required=True)
    fee = Money(default=Decimal(0))
    currency = StringField(regex=r"^[A-Z0-9]{3,5}$")
    description = StringField(max_length=2000)
    import_id = ObjectIdField()
    row_number = IntField()
    fingerprint = StringField(required=True, max_length=80)
    source = StringField(choices=("manual", "import"), default="manual")


class TransactionError(BaseDocument):
    """A row an import could not use, kept (with its raw cells) so the user can fix it."""

    meta = {
        "collection": "transaction_errors",
        "queryset_class": OwnedQuerySet,
        "indexes": [
            {"fields": ["owner", "wallet", "processed", "-created_at"], "name": "wallet_processed"},
            {"fields": ["owner", "processed", "-created_at"], "name": "owner_processed"},
            {"fields": ["import_id"], "name": "import", "sparse": True},
        ],
    }

    owner = ObjectIdField(required=True)
    wallet = ObjectIdField(required=True)
    import_id = ObjectIdField()
    row_number = IntField()
    date = CalendarDate()
    asset_name = StringField()
    asset_type = StringField()
    transaction_type = StringField()
    volume = Money()
    item_price = Money()
    transaction_amount = Money()
    currency = StringField()
    fee = Money()
    error_type = StringField(required=True, choices=ERROR_TYPES)
    error_message = StringField(required=True)
    field_name = StringField()
    value = StringField()
    suggestion = StringField()
    raw = DictField()
    processed = BooleanField(default=False)
