"""The wallet document, with its totals kept on write (so reads never scan transactions)."""

from __future__ import annotations

from decimal import Decimal

from mongoengine import (
    DictField,
    EmbeddedDocument,
    EmbeddedDocumentField,
    IntField,
    ObjectIdField,
    StringField,
)

from ..common.fields import Money
from ..common.models import BaseDocument, OwnedQuerySet


class WalletTotals(EmbeddedDocument):
    """Running sums over the wallet's transactions, changed only by ``$inc``.

    ``balance`` is the signed sum of ``transaction_amount``; deposits, withdrawals,
    income (sells, dividends, interest) and fees are sums of absolute values.
    """

    balance = Money(default=Decimal(0))
    deposits = Money(default=Decimal(0))
    withdrawals = Money(default=Decimal(0))
    income = Money(default=Decimal(0))
    fees = Money(default=Decimal(0))
    count = IntField(default=0)
    by_currency = DictField()  # ISO code -> Decimal128 signed sum


class WalletQuerySet(OwnedQuerySet):
    def named(self, owner_id, name: str):
        return self.filter(owner=owner_id, name_key=name.casefold())


class Wallet(BaseDocument):
    meta = {
        "collection": "wallets",
        "queryset_class": WalletQuerySet,
        "indexes": [
            {"fields": ["owner", "name_key"], "unique": True, "name": "uniq_owner_name"},
            {"fields": ["owner", "-created_at"], "name": "owner_created"},
        ],
    }

    owner = ObjectIdField(required=True)
    name = StringField(required=True, max_length=100)
    name_key = StringField(required=True, max_length=100)  # case-folded, for uniqueness
    description = StringField(max_length=500)
    base_currency = StringField(regex=r"^[A-Z]{3}$")
    totals = EmbeddedDocumentField(WalletTotals, default=WalletTotals)

    def clean(self):
        self.name_key = self.name.casefold()
