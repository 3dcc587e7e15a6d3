"""The mapping decision an import makes for a tabular file's columns.

Order of preference (``make_resolver``):

1. the caller's cached mapping for this header signature — a known layout never
   costs an AI call again;
2. the heuristic mapping, when it is confident enough (or no AI is configured);
3. Gemini's mapping, merged over the heuristic one; on any AI failure, the
   heuristic mapping again, with a note saying why.

Only the import service imports this module (lazily): it pulls in the pipeline's
mapping heuristics and the Gemini wrapper, which a cold start does not need.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from bson import ObjectId

from ..imports.ai import AiMapping, AiMappingError, GeminiMapper, LazyClient, gemini_client
from ..imports.mapping import FIELDS, MULTI_FIELDS, MappingResult, header_signature
from .models import MAPPING_SOURCES, MappingCache
from .service import lookup, remember

DEFAULT_THRESHOLD = 0.75
AI_OFF_NOTE = "AI mapping is off (no GOOGLE_API_KEY); used the heuristic mapping."

Resolver = Callable[[str, list[str], list[list], MappingResult], tuple[dict[str, str], str, float]]


def ai_failed_note(reason: str) -> str:
    return f"AI mapping failed ({reason}); used the heuristic mapping."


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
