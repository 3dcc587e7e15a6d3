"""Base document and queryset every domain document builds on."""

from __future__ import annotations

import datetime as dt

from bson import ObjectId
from bson.errors import InvalidId
from mongoengine import DateTimeField, Document, QuerySet

from ..errors import NotFound


def utcnow() -> dt.datetime:
    """Now, to the millisecond: what MongoDB stores, so a write's echo equals a later read."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def object_id(value: str | ObjectId | None) -> ObjectId | None:
    """Parse an id from a URL or filter; ``None`` for anything that is not one.

    A malformed id can name nothing, so callers treat ``None`` as "not found"
    rather than a validation error: ids are opaque to clients.
    """
    if isinstance(value, ObjectId):
        return value
    if not isinstance(value, str):
        return None
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


class OwnedQuerySet(QuerySet):
    """Query vocabulary shared by every per-user collection."""

    def owned_by(self, owner_id: ObjectId) -> OwnedQuerySet:
        return self.filter(owner=owner_id)

    def get_owned(self, owner_id: ObjectId, item_id: str | ObjectId, what: str = "Resource"):
        """The caller's document with this id, or 404 — never someone else's."""
        oid = object_id(item_id)
        doc = self.filter(owner=owner_id, id=oid).first() if oid else None
        if doc is None:
            raise NotFound(f"{what} not found.")
        return doc


class BaseDocument(Document):
    """Timestamps, and indexes created by migrations instead of on first use (cold start)."""

    meta = {"abstract": True, "auto_create_index": False, "allow_inheritance": False}

    created_at = DateTimeField(default=utcnow, required=True)
    updated_at = DateTimeField(default=utcnow, required=True)

    def touch(self) -> None:
        self.updated_at = utcnow()
