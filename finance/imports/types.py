"""Plain data passed between the stages of the statement pipeline.

Everything here is free of Flask and MongoDB so the parsing stages stay pure
and testable on bytes alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..transactions.kinds import ERROR_TYPES, TRANSACTION_TYPES

__all__ = [
    "ERROR_TYPES",
    "TRANSACTION_TYPES",
    "CanonicalRow",
    "ImportOptions",
    "ImportRejected",
    "ParseResult",
    "RowError",
]


class ImportRejected(Exception):
    """The whole file is refused; nothing from it may be stored.

    ``status`` is the HTTP status the API answers with (413 too large,
    415 not a statement format, 422 a statement we cannot use).
    """

    def __init__(self, detail: str, status: int = 422):
        super().__init__(detail)
        self.detail = detail
        self.status = status


@dataclass(slots=True)
class ImportOptions:
    """Caller-supplied overrides and limits; ``None`` means "detect it"."""

    sheet: str | None = None
    header_row: int | None = None  # 1-based physical line / sheet row
    delimiter: str | None = None
    encoding: str | None = None
    date_format: str | None = None  # strptime pattern, e.g. "%d.%m.%Y"
    decimal_mark: str | None = None  # "." or ","
    mapping: dict[str, str] | None = None  # file column -> canonical field
    currency: str | None = None  # the upload form's `currency` field
    wallet_currency: str | None = None  # fallback when nothing else says
    max_rows: int | None = None
    max_bytes: int | None = None


@dataclass(slots=True)
class CanonicalRow:
    """One normalised transaction, sign convention of api-contract.md."""

    row_number: int  # 1-based physical line / sheet row / record index
    date: dt.date
    transaction_type: str
    transaction_amount: Decimal
    currency: str | None
    fee: Decimal = Decimal(0)
    asset_name: str | None = None
    asset_symbol: str | None = None
    volume: Decimal | None = None
    item_price: Decimal | None = None
    description: str | None = None
    # The source record of a structured format (OFX, QIF, MT940, CAMT): small files whose
    # record is worth showing. A tabular row keeps its cells only when it fails (RowError).
    raw: dict[str, Any] | None = None


@dataclass(slots=True)
class RowError:
    """A row that could not become a transaction; stored as an error row."""

    row_number: int
    error_type: str  # one of ERROR_TYPES
    message: str
    field_name: str | None = None
    value: str | None = None
    suggestion: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    # Whatever could be parsed before the failure (date, amount, ...), or empty.
    partial: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ParseResult:
    """What the pure part of the pipeline hands to storage and the report."""

    format: str  # csv | tsv | txt | xlsx | xls | ofx | qfx | qif | camt.053 | mt940
    rows: list[CanonicalRow]
    errors: list[RowError]
    total_rows: int  # data rows seen (rows + errors + skipped blank/total lines excluded)
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    header: list[str] | None = None
    mapping: dict[str, str] | None = None  # file column -> canonical field
    mapping_source: str | None = None  # cache | heuristic | ai | override | format
    confidence: float | None = None
    currency: str | None = None  # statement-level currency when the file states one
    warnings: list[str] = field(default_factory=list)
