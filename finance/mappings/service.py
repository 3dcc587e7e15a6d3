"""The per-user mapping cache and the mapping decision an import makes.

Order of preference for a tabular file's columns (``make_resolver``):

1. the caller's cached mapping for this header signature — a known layout never
   costs an AI call again;
2. the heuristic mapping, when it is confident enough (or no AI is configured);
3. Gemini's mapping, merged over the heuristic one; on any AI failure, the
   heuristic mapping again, with a note saying why.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from ..common.models import utcnow
from ..common.pagination import envelope
from ..imports.ai import AiMapping, AiMappingError, GeminiMapper, LazyClient, gemini_client
from ..imports.mapping import FIELDS, MULTI_FIELDS, MappingResult, header_signature
from .models import MAPPING_SOURCES, MappingCache

DEFAULT_THRESHOLD = 0.75
AFTER = ReturnDocument.AFTER
AI_OFF_NOTE = "AI mapping is off (no GOOGLE_API_KEY); used the heuristic mapping."

Resolver = Callable[[str, list[str], list[list], MappingResult], tuple[dict[str, str], str, float]]


def ai_failed_note(reason: str) -> str:
    return f"AI mapping failed ({reason}); used the heuristic mapping."


# -- the cache -------------------------------------------------------------------------------


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


def remember_result(
    owner_id: ObjectId, result: Any, *, threshold: float = DEFAULT_THRESHOLD
) -> MappingCache | None:
    """Cache the mapping a stored import used (a ``ParseResult``), when it is worth keeping.

    Structured formats (OFX, CAMT...) have no columns to map; a cache hit only
    counts the use; a heuristic mapping below ``threshold`` is not kept, so the
    AI still gets its chance on the next upload of that layout.
    """
    source = result.mapping_source
    if not result.header or not result.mapping or source not in (*MAPPING_SOURCES, "cache"):
        return None
    if source == "heuristic" and (result.confidence or 0) < threshold:
        return None
    signature = header_signature(result.header, result.format, result.delimiter)
    return remember(
        owner_id,
        signature,
        result.format,
        result.delimiter,
        list(result.header),
        dict(result.mapping),
        source,
        result.confidence,
    )


def list_page(owner_id: ObjectId, page: int, limit: int) -> dict[str, Any]:
    """The caller's cached mappings, newest first (then newest id), in the paging envelope."""
    query = MappingCache.objects.owned_by(owner_id)
    total = query.count()
    items = list(query.newest_first().skip((page - 1) * limit).limit(limit)) if total else []
    return envelope("mappings", items, total, page, limit)


def delete(owner_id: ObjectId, mapping_id: str) -> None:
    """Forget one cached mapping: the next file with that layout is mapped afresh."""
    MappingCache.objects.get_owned(owner_id, mapping_id, "Mapping").delete()


# -- the decision ----------------------------------------------------------------------------


def make_resolver(
    owner_id: ObjectId,
    *,
    ai: GeminiMapper | None,
    threshold: float = DEFAULT_THRESHOLD,
    notes: list[str],
) -> Resolver:
    """The ``resolve_mapping`` callable for :func:`finance.imports.pipeline.parse_statement`.

    Returns ``(mapping, source, confidence)`` with source ``cache``, ``heuristic``
    or ``ai``; sentences for the import report are appended to ``notes``.
    """

    def resolve(
        signature: str, header: list[str], sample_rows: list[list], heuristic: MappingResult
    ) -> tuple[dict[str, str], str, float]:
        cached = lookup(owner_id, signature)
        if cached is not None:
            mapping = cached_mapping(cached, header)
            if mapping is not None:
                return mapping, "cache", float(cached.confidence or 0.0)
        if heuristic.confidence >= threshold:
            return dict(heuristic.mapping), "heuristic", heuristic.confidence
        if ai is None:
            notes.append(AI_OFF_NOTE)
            return dict(heuristic.mapping), "heuristic", heuristic.confidence
        try:
            suggestion = ai.suggest(header, sample_rows)
        except AiMappingError as exc:
            notes.append(ai_failed_note(exc.reason))
            return dict(heuristic.mapping), "heuristic", heuristic.confidence
        notes.append(
            f"{suggestion.note} The heuristic confidence {heuristic.confidence:.2f} was below "
            f"{threshold:.2f}."
        )
        return merge(suggestion, heuristic, header), "ai", suggestion.confidence

    return resolve


def cached_mapping(cached: MappingCache, header: list[str]) -> dict[str, str] | None:
    """The cached mapping in this file's labels (matched by position), or ``None`` if stale.

    Equal signatures mean equal normalised cells, but the labels themselves may
    differ (``Betrag (€)`` / ``Betrag (EUR)``), and the pipeline wants this file's.
    """
    stored = list(cached.header or [])
    if len(stored) != len(header):
        return None
    position = {}
    for index, label in enumerate(stored):
        position.setdefault(label, index)
    mapping = {}
    for label, name in (cached.mapping or {}).items():
        if label not in position or name not in FIELDS:
            return None
        mapping[header[position[label]]] = name
    return mapping or None


def merge(suggestion: AiMapping, heuristic: MappingResult, header: list[str]) -> dict[str, str]:
    """Gemini's mapping, plus heuristic columns it did not mention whose field is still free."""
    mapping = dict(suggestion.mapping)
    mentioned = set(mapping) | set(suggestion.ignored)
    claimed = {name for name in mapping.values() if name not in MULTI_FIELDS}
    for label, name in heuristic.mapping.items():
        if label in mentioned or name in claimed:
            continue
        mapping[label] = name
        if name not in MULTI_FIELDS:
            claimed.add(name)
    order = {label: index for index, label in enumerate(header)}
    return dict(sorted(mapping.items(), key=lambda item: order.get(item[0], len(order))))


# -- configuration ---------------------------------------------------------------------------

_mappers: dict[tuple, GeminiMapper] = {}
_mappers_lock = threading.Lock()


def ai_from_config(config: Mapping[str, Any] | Any) -> GeminiMapper | None:
    """The process's Gemini mapper, or ``None`` when ``GOOGLE_API_KEY`` is unset.

    Accepts ``app.config`` or a config object. The real client (and the SDK
    import) is built on the first AI call, not here; one mapper per key and model
    is reused across requests (and Lambda invocations).
    """

    def setting(name: str, default: Any = None) -> Any:
        if isinstance(config, Mapping):
            return config.get(name, default)
        return getattr(config, name, default)

    api_key = setting("GOOGLE_API_KEY")
    if not api_key:
        return None
    model = setting("GENAI_MODEL") or "gemini-2.5-flash"
    timeout_s = float(setting("GENAI_TIMEOUT_S") or 8.0)
    key = (api_key, model, timeout_s)
    with _mappers_lock:
        mapper = _mappers.get(key)
        if mapper is None:
            mapper = GeminiMapper(
                LazyClient(lambda: gemini_client(api_key)),
                model=model,
                timeout_s=timeout_s,
                # Only 2.5 Flash models can switch thinking off; others keep their default.
                thinking_budget=0 if model.startswith("gemini-2.5-flash") else None,
            )
            _mappers[key] = mapper
    return mapper
