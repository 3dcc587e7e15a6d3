"""The record of one statement upload: what was detected, what was stored, how long it took."""

from __future__ import annotations

from mongoengine import (
    DictField,
    FloatField,
    IntField,
    ListField,
    ObjectIdField,
    StringField,
)

from ..common.models import BaseDocument, OwnedQuerySet

IMPORT_STATUSES = ("processing", "completed", "failed", "undone")


class ImportQuerySet(OwnedQuerySet):
    def in_wallet(self, owner_id, wallet_id):
        return self.filter(owner=owner_id, wallet=wallet_id)


class Import(BaseDocument):
    meta = {
        "collection": "imports",
        "queryset_class": ImportQuerySet,
        "indexes": [
            {"fields": ["owner", "-created_at"], "name": "owner_created"},
            {"fields": ["owner", "wallet", "-created_at"], "name": "owner_wallet_created"},
        ],
    }

    owner = ObjectIdField(required=True)
    wallet = ObjectIdField(required=True)
    status = StringField(required=True, choices=IMPORT_STATUSES, default="processing")
    file_name = StringField(max_length=255)
    size = IntField()
    sha256 = StringField(max_length=64)
    format = StringField()
    encoding = StringField()
    delimiter = StringField()
    sheet = StringField()
    header_row = IntField()
    header = ListField(StringField())
    mapping = DictField()
    mapping_source = StringField()
    confidence = FloatField()
    currency = StringField()
    overrides = DictField()
    rows = IntField(default=0)
    imported = IntField(default=0)
    duplicates = IntField(default=0)
    failed = IntField(default=0)
    duplicate_rows = ListField(IntField())  # first rows only; see DUPLICATE_ROWS_SHOWN
    notes = ListField(StringField())
    duration_ms = FloatField()
    error = StringField()
