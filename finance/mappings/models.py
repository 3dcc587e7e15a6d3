"""Confirmed column mappings, one per (user, header signature)."""

from __future__ import annotations

from mongoengine import (
    DateTimeField,
    DictField,
    FloatField,
    IntField,
    ListField,
    ObjectIdField,
    StringField,
)

from ..common.models import BaseDocument, OwnedQuerySet, utcnow

MAPPING_SOURCES = ("heuristic", "ai", "override")


class MappingCacheQuerySet(OwnedQuerySet):
    def by_signature(self, owner_id, signature: str):
        return self.filter(owner=owner_id, signature=signature)

    def newest_first(self):
        return self.order_by("-created_at", "-id")


class MappingCache(BaseDocument):
    """How the columns of one file layout map to canonical fields, for one user.

    ``signature`` is :func:`finance.imports.mapping.header_signature` of the
    layout (normalised header cells, format, delimiter); ``header`` keeps the
    labels of the file the mapping was confirmed on, so a later file whose labels
    differ only in what the signature ignores (case, punctuation, a currency code)
    is mapped by column position.
    """

    meta = {
        "collection": "mapping_cache",
        "queryset_class": MappingCacheQuerySet,
        "indexes": [
            {"fields": ["owner", "signature"], "unique": True, "name": "uniq_owner_signature"},
            {"fields": ["owner", "-created_at", "-_id"], "name": "owner_created"},
        ],
    }

    owner = ObjectIdField(required=True)
    signature = StringField(required=True, max_length=64)
    format = StringField(max_length=20)
    delimiter = StringField(max_length=4)
    header = ListField(StringField())
    mapping = DictField()  # column label -> canonical field
    source = StringField(required=True, choices=MAPPING_SOURCES)
    confidence = FloatField(min_value=0, max_value=1)
    uses = IntField(default=0, min_value=0)
    last_used_at = DateTimeField(default=utcnow)
