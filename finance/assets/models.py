"""Assets are shared reference data (not owned); prices value holdings."""

from __future__ import annotations

from mongoengine import ObjectIdField, QuerySet, StringField

from ..common.fields import CalendarDate, Money
from ..common.models import BaseDocument

ASSET_TYPES = (
    "stock",
    "etf",
    "bond",
    "fund",
    "crypto",
    "cash",
    "commodity",
    "real_estate",
    "other",
)


class AssetQuerySet(QuerySet):
    def by_key(self, key: str):
        return self.filter(key=key)


class Asset(BaseDocument):
    """One instrument. ``key`` is its identity: the upper-cased symbol/ISIN, else the name."""

    meta = {
        "collection": "assets",
        "queryset_class": AssetQuerySet,
        "indexes": [
            {"fields": ["key"], "unique": True, "name": "uniq_key"},
            {"fields": ["asset_type", "name"], "name": "type_name"},
            # The unfiltered listing's sort (name, then id).
            {"fields": ["name", "_id"], "name": "name_id"},
        ],
    }

    key = StringField(required=True, max_length=200)
    name = StringField(required=True, max_length=200)
    symbol = StringField(max_length=40)
    isin = StringField(regex=r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")
    asset_type = StringField(required=True, choices=ASSET_TYPES, default="other")
    currency = StringField(regex=r"^[A-Z]{3}$")


class AssetPrice(BaseDocument):
    """A price of an asset on a day; the latest one values holdings."""

    meta = {
        "collection": "asset_prices",
        "indexes": [
            {"fields": ["asset", "-date"], "unique": True, "name": "uniq_asset_date"},
        ],
    }

    asset = ObjectIdField(required=True)
    date = CalendarDate(required=True)
    price = Money(required=True)
    currency = StringField(required=True, regex=r"^[A-Z]{3}$")
