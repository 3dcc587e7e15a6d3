"""Client log shipping: bounded, scrubbed, one structured JSON line per entry on stdout.

Nothing is stored: each entry becomes one line from the ``finance.client`` logger,
which CloudWatch collects from the Lambda's stdout. Entries are bounded (message
4 KB, context 8 KB, short fields 200 characters), e-mail addresses are reduced to
their domain, and anything that looks like a credential is dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

import simplejson

from ..errors import PayloadTooLarge
from .schemas import LEVELS

log = logging.getLogger("finance.client")

MESSAGE_MAX_BYTES = 4 * 1024
CONTEXT_MAX_BYTES = 8 * 1024
SHORT_MAX_CHARS = 200
CONTEXT_MAX_DEPTH = 6
REDACTED = "[redacted]"

_SECRET_KEY = re.compile(
    r"authori[sz]ation|token|passw(?:or)?d|passwd|secret|cookie|api[-_]?key|credential"
    r"|private[-_]?key|session[-_]?id|jwt|bearer",
    re.I,
)
# A bearer header, a JWT, or a long opaque credential-looking string inside a value.
_SECRET_VALUE = re.compile(
    r"(?:\bBearer\s+[A-Za-z0-9._~+/=-]{8,}|\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def check_batch_size(count: int, limit: int) -> None:
    if count > limit:
        raise PayloadTooLarge(
            f"At most {limit} log entries can be sent per request; split the batch.",
            errors={"logs": [f"{count} entries; the limit is {limit}."]},
        )


def truncate_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (on a character boundary), with a marker."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    marker = f"…[truncated {len(raw) - limit} bytes]"
    kept = raw[: limit - len(marker.encode("utf-8"))].decode("utf-8", "ignore")
    return kept + marker


def _short(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[:SHORT_MAX_CHARS] + "…" if len(value) > SHORT_MAX_CHARS else value or None


def email_domain(email: str | None) -> str | None:
    """Only the domain of an address: enough to spot a tenant, not enough to name a person."""
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower()
    return domain[:SHORT_MAX_CHARS] or None


def _scrub_text(text: str) -> str:
    text = _SECRET_VALUE.sub(REDACTED, text)
    return _EMAIL.sub(lambda match: f"***@{match.group(1).lower()}", text)


def scrub(value: Any, depth: int = 0) -> Any:
    """A copy of any JSON value without credential-named keys, tokens or e-mail local parts."""
    if depth >= CONTEXT_MAX_DEPTH:
        return "[too deep]"
    if isinstance(value, Mapping):
        return {
            str(key)[:SHORT_MAX_CHARS]: scrub(item, depth + 1)
            for key, item in value.items()
            if not _SECRET_KEY.search(str(key))
        }
    if isinstance(value, list | tuple):
        return [scrub(item, depth + 1) for item in value]
    if isinstance(value, str):
        return _scrub_text(value)
    return value


def bounded_context(context: Any) -> Any:
    """The scrubbed context, or a truncated preview of its JSON when it exceeds 8 KB."""
    if context is None:
        return None
    cleaned = scrub(context)
    text = simplejson.dumps(cleaned, use_decimal=True, ensure_ascii=False, default=str)
    size = len(text.encode("utf-8"))
    if size <= CONTEXT_MAX_BYTES:
        return cleaned
    return {
        "_truncated": True,
        "_original_bytes": size,
        "_preview": truncate_bytes(text, CONTEXT_MAX_BYTES - 256),
    }


def ship(entries: Iterable[Mapping[str, Any]], *, limit: int) -> int:
    """Write each entry as one JSON log line; return how many were accepted."""
    entries = list(entries)
    check_batch_size(len(entries), limit)
    for entry in entries:
        level_name = entry.get("level") or "info"
        log.log(
            logging.getLevelNamesMapping()[LEVELS[level_name]],
            truncate_bytes(_scrub_text(entry["message"]), MESSAGE_MAX_BYTES),
            extra={
                "client_level": level_name,
                "client_timestamp": _short(entry.get("timestamp")),
                "source": _short(entry.get("source")),
                "category": _short(entry.get("category")),
                "client_user_id": _short(entry.get("user_id")),
                "email_domain": email_domain(entry.get("email")),
                "environment": _short(entry.get("environment")),
                "context": bounded_context(entry.get("context")),
            },
        )
    return len(entries)
