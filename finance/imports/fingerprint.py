"""Stable fingerprints for de-duplication within a wallet.

A fingerprint hashes the canonical fields of a transaction plus its occurrence
index among identical rows of the same file: re-importing a file reproduces the
same fingerprints (so adds nothing), while two genuinely identical purchases in
one file get different ones (so both survive). The unique index on
(wallet, fingerprint) makes the server the judge, even for concurrent uploads.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from decimal import Context, Decimal

from .types import CanonicalRow

_DIGITS_34 = Context(prec=34)


def _num(value: Decimal | None) -> str:
    if value is None:
        return ""
    # Decimal128's 34 digits, not the default context's 28: no two stored amounts collide.
    return format(value.normalize(_DIGITS_34), "f") if value else "0"


def _text(value: str | None) -> str:
    return " ".join(value.split()).casefold() if value else ""


def canonical_key(row: CanonicalRow) -> str:
    return "|".join(
        (
            row.date.isoformat(),
            row.transaction_type,
            _num(row.transaction_amount),
            _num(row.volume),
            _num(row.item_price),
            _num(row.fee),
            row.currency or "",
            (row.asset_symbol or "").upper(),
            _text(row.asset_name),
            _text(row.description),
        )
    )


def fingerprints(rows: Iterable[CanonicalRow]) -> Iterator[str]:
    """One fingerprint per row, in order; the n-th identical row gets occurrence n."""
    seen: Counter[str] = Counter()
    for row in rows:
        key = canonical_key(row)
        occurrence = seen[key]
        seen[key] += 1
        yield hashlib.sha256(f"{key}#{occurrence}".encode()).hexdigest()
