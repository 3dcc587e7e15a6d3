"""The per-user mapping cache: confirmed layouts, what the mappings endpoints list and drop.

The decision an import makes from it (cache, heuristic or Gemini) lives in
:mod:`finance.mappings.resolver`, which imports the statement pipeline; this
module stays light because the mappings views import it at cold start.
"""

from __future__ import annotations

import time
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from ..common.models import utcnow
from ..common.pagination import envelope
from .models import MAPPING_SOURCES, MappingCache

AFTER = ReturnDocument.AFTER


def lookup(owner_id: ObjectId, signature: str) -> MappingCache | None:
    """The caller's mapping for this layout, if one was confirmed (one indexed read)."""
    return MappingCache.objects.by_signature(owner_id, signature).first()


def remember(
    owner_id: ObjectId,
    signature: str,
    fmt: str | None,
    delimiter: str | None,
    header: list[str],
    mapping: dict[str, str],
    source: str,
    confidence: float | None,
) -> MappingCache | None:
    """Record that an import used this mapping: one atomic upsert, ``uses`` incremented.

    ``source`` ``"cache"`` only counts the use (and returns ``None`` if the entry
    was deleted meanwhile). An ``"override"`` always replaces the stored mapping;
    ``"heuristic"``/``"ai"`` replace anything but an override, which only the user
    can replace. Concurrent first calls converge on one document through the
    unique (owner, signature) index.
    """
    now = utcnow()
    key = {"owner": owner_id, "signature": signature}
    collection = MappingCache._get_collection()
    used = {"$inc": {"uses": 1}, "$set": {"last_used_at": now, "updated_at": now}}
    if source == "cache":
        return _document(collection.find_one_and_update(key, used, return_document=AFTER))
    if source not in MAPPING_SOURCES:
        raise ValueError(f"unknown mapping source {source!r}")
    update = {
        "$set": {
            "format": fmt,
            "delimiter": delimiter,
            "header": list(header),
            "mapping": dict(mapping),
            "source": source,
            "confidence": None if confidence is None else float(confidence),
            "last_used_at": now,
            "updated_at": now,
        },
        "$inc": {"uses": 1},
        "$setOnInsert": {"created_at": now},
    }
    replaceable = key if source == "override" else {**key, "source": {"$ne": "override"}}
    for _attempt in range(5):
        try:
            doc = collection.find_one_and_update(
                replaceable, update, upsert=True, return_document=AFTER
            )
        except DuplicateKeyError:
            # A concurrent first call inserted it, or the layout holds the user's override.
            doc = collection.find_one_and_update(replaceable, update, return_document=AFTER)
            if doc is None:
                doc = collection.find_one_and_update(key, used, return_document=AFTER)
        if doc is not None:
            return _document(doc)
        # The racing insert is not visible yet: its index entry was, a moment early.
        time.sleep(0.01)
    return None


def _document(doc: dict | None) -> MappingCache | None:
    return MappingCache._from_son(doc) if doc is not None else None


def list_page(owner_id: ObjectId, page: int, limit: int) -> dict[str, Any]:
    """The caller's cached mappings, newest first (then newest id), in the paging envelope."""
    query = MappingCache.objects.owned_by(owner_id)
    total = query.count()
    items = list(query.newest_first().skip((page - 1) * limit).limit(limit)) if total else []
    return envelope("mappings", items, total, page, limit)


def delete(owner_id: ObjectId, mapping_id: str) -> None:
    """Forget one cached mapping: the next file with that layout is mapped afresh."""
    MappingCache.objects.get_owned(owner_id, mapping_id, "Mapping").delete()
