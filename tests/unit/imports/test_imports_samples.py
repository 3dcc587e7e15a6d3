"""Every tabular sample statement must import exactly as its .expected.json says.

Scoring follows shared/samples/statements/README.md ("Suggested scoring"),
strict variant: same count, a one-to-one pairing on date, type, signed amount,
currency, fee, volume and price (as decimals, null = null), and the security
of BUY/SELL rows. Structured formats are the other parsers' business; here we
only check that sniffing sends them to the right parser.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from finance.imports.pipeline import detect_currency, parse_statement
from finance.imports.sniff import sniff
from finance.imports.types import CanonicalRow, ImportOptions, ImportRejected

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "samples" / "statements"
TABULAR = {"csv", "tsv", "txt", "xlsx", "xls"}


def _load(kind: str) -> list[Any]:
    found = []
    for path in sorted(SAMPLES.glob("*.expected.json")):
        expected = json.loads(path.read_text(encoding="utf-8"))
        fmt = expected["format"].split()[0]
        if expected["expect"] == "reject":
            sample_kind = "reject"
        elif fmt in TABULAR:
            sample_kind = "tabular"
        else:
            sample_kind = "structured"
        if sample_kind == kind:
            found.append(pytest.param(SAMPLES / expected["file"], expected, id=expected["file"]))
    return found


def test_the_samples_are_there():
    assert len(_load("tabular")) >= 8, f"samples not found under {SAMPLES}"


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _words(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def _same(row: CanonicalRow, want: dict[str, Any]) -> bool:
    if not (
        row.date.isoformat() == want["date"]
        and row.transaction_type == want["transaction_type"]
        and row.transaction_amount == _decimal(want["transaction_amount"])
        and row.currency == want["currency"]
        and row.fee == _decimal(want["fee"])
        and row.volume == _decimal(want["volume"])
        and row.item_price == _decimal(want["item_price"])
    ):
        return False
    if want["transaction_type"] not in ("BUY", "SELL"):
        return True
    if want["asset_symbol"] is not None:
        return _words(row.asset_symbol) == _words(want["asset_symbol"])
    return _words(row.asset_name) == _words(want["asset_name"])


def _pair(rows: list[CanonicalRow], wanted: list[dict[str, Any]]) -> list[int]:
    """Indexes of expected rows no actual row could be paired with (augmenting paths)."""
    partner: dict[int, int] = {}  # actual index -> expected index

    def place(w: int, seen: set[int]) -> bool:
        for a, row in enumerate(rows):
            if a in seen or not _same(row, wanted[w]):
                continue
            seen.add(a)
            if a not in partner or place(partner[a], seen):
                partner[a] = w
                return True
        return False

    return [w for w in range(len(wanted)) if not place(w, set())]


@pytest.mark.parametrize(("path", "expected"), _load("tabular"))
def test_tabular_sample_imports_exactly(path: Path, expected: dict[str, Any]):
    data = path.read_bytes()
    stated = detect_currency(data, path.name)
    currencies = {t["currency"] for t in expected["transactions"]}
    if stated is None:
        # What the client does when detect-currency says needs_currency: ask the user.
        assert len(currencies) == 1
        options = ImportOptions(currency=currencies.pop())
    else:
        assert currencies == {stated}
        options = ImportOptions()

    result = parse_statement(data, path.name, options)

    assert result.format == expected["format"].split()[0]
    assert result.header_row == expected["header_row"]
    assert result.delimiter == expected["delimiter"]
    if result.format in ("csv", "tsv", "txt"):
        assert result.encoding == expected["encoding"]
    assert result.errors == []
    assert len(result.rows) == expected["transaction_count"] == len(expected["transactions"])
    unmatched = _pair(result.rows, expected["transactions"])
    assert not unmatched, [expected["transactions"][w] for w in unmatched]


@pytest.mark.parametrize(("path", "expected"), _load("reject"))
def test_hostile_sample_is_rejected(path: Path, expected: dict[str, Any]):
    with pytest.raises(ImportRejected) as caught:
        parse_statement(path.read_bytes(), path.name)
    assert caught.value.status in (415, 422)
    assert "not a bank or broker statement" in caught.value.detail


@pytest.mark.parametrize(("path", "expected"), _load("structured"))
def test_structured_sample_is_sniffed_for_its_parser(path: Path, expected: dict[str, Any]):
    fmt = expected["format"].split()[0]
    assert sniff(path.read_bytes()).format == ("camt.053" if fmt.startswith("camt") else fmt)
