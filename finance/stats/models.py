"""Summary documents updated with ``$inc`` on every write that changes transactions.

Per-wallet totals live on the wallet itself (:class:`~finance.wallets.models.WalletTotals`);
these are the finer grains: per wallet and asset, and per wallet and month.
"""

from __future__ import annotations

from decimal import Decimal

from mongoengine import Document, IntField, ObjectIdField, StringField

from ..common.fields import Money

_ZERO = Decimal(0)


class Holding(Document):
    """Per wallet x asset: quantities and cash flows, from which holdings stats derive.

    ``_id`` is ``"<wallet>|<asset key>"`` so upserts from any writer converge.
    """

    meta = {
        "collection": "holdings",
        "auto_create_index": False,
        "indexes": [{"fields": ["owner", "wallet"], "name": "owner_wallet"}],
    }

    id = StringField(primary_key=True)
    owner = ObjectIdField(required=True)
    wallet = ObjectIdField(required=True)
    asset = ObjectIdField()
    asset_key = StringField(required=True)
    asset_name = StringField()
    asset_symbol = StringField()
    asset_type = StringField(default="other")
    buy_volume = Money(default=_ZERO)
    buy_amount = Money(default=_ZERO)  # cash paid for buys, fees included (positive)
    sell_volume = Money(default=_ZERO)
    sell_amount = Money(default=_ZERO)  # cash received from sells, net of fees (positive)
    income = Money(default=_ZERO)  # dividends and interest attributed to the asset
    fees = Money(default=_ZERO)
    count = IntField(default=0)


class MonthlyTotal(Document):
    """Per wallet x calendar month (``YYYY-MM``): the net cash change and its parts."""

    meta = {
        "collection": "monthly_totals",
        "auto_create_index": False,
        "indexes": [{"fields": ["owner", "wallet", "month"], "name": "owner_wallet_month"}],
    }

    id = StringField(primary_key=True)  # "<wallet>|<YYYY-MM>"
    owner = ObjectIdField(required=True)
    wallet = ObjectIdField(required=True)
    month = StringField(required=True, regex=r"^\d{4}-\d{2}$")
    net = Money(default=_ZERO)
    deposits = Money(default=_ZERO)
    withdrawals = Money(default=_ZERO)
    income = Money(default=_ZERO)
    fees = Money(default=_ZERO)
    count = IntField(default=0)
