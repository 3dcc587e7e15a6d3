"""The shared statement samples in OFX, QIF and MT940, scored EXACTLY like the samples README's
"Suggested scoring" (strict variant): same count, one-to-one pairing on date, type, signed
amount, currency, fee, volume and price as decimals (null = null), and the security of BUY/SELL.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from finance.imports.formats import mt940, ofx, qif
from finance.imports.types import CanonicalRow, ImportOptions

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "samples" / "statements"

CASES = [
    # sample, parser, options (QIF states no currency: the account's is USD, as the notes say)
    ("38_ofx_us_checking", ofx.parse, ImportOptions()),
    ("41_qif_bank_quicken", qif.parse, ImportOptions(wallet_currency="USD")),
    ("45_mt940_de_sparkasse", mt940.parse, ImportOptions()),
]


def _dec(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _norm(text: str | None) -> str | None:
    return None if text is None else re.sub(r"\s+", " ", text).strip().casefold()


def _matches(expected: dict, row: CanonicalRow) -> bool:
    """The README's strict equality of one expected transaction and one parsed row."""
    if (row.date.isoformat(), row.transaction_type, row.currency) != (
        expected["date"],
        expected["transaction_type"],
        expected["currency"],
    ):
        return False
    for field in ("transaction_amount", "fee", "volume", "item_price"):
        if _dec(expected[field]) != getattr(row, field):
            return False
    if expected["transaction_type"] in ("BUY", "SELL"):
        if expected["asset_symbol"] is not None:
            return _norm(expected["asset_symbol"]) == _norm(row.asset_symbol)
        return _norm(expected["asset_name"]) == _norm(row.asset_name)
    return True


def _load(name: str) -> tuple[bytes, dict]:
    data_file = next(p for p in SAMPLES.glob(f"{name}.*") if not p.name.endswith(".json"))
    expected = json.loads((SAMPLES / f"{name}.expected.json").read_text(encoding="utf-8"))
    return data_file.read_bytes(), expected


@pytest.mark.parametrize(("name", "parse", "options"), CASES, ids=[c[0] for c in CASES])
def test_sample_is_imported_exactly(name, parse, options):
    data, expected = _load(name)
    result = parse(data, options)

    assert result.format == expected["format"]
    assert result.errors == []
    assert len(result.rows) == expected["transaction_count"] == len(expected["transactions"])
    assert result.total_rows == expected["transaction_count"]
    for row in result.rows:
        for value in (row.transaction_amount, row.fee, row.volume, row.item_price):
            assert value is None or isinstance(value, Decimal)

    unpaired = list(result.rows)
    for want in expected["transactions"]:
        match = next((row for row in unpaired if _matches(want, row)), None)
        assert match is not None, f"no parsed row pairs with {want}"
        unpaired.remove(match)
    assert unpaired == []


@pytest.mark.parametrize(("name", "parse", "options"), CASES, ids=[c[0] for c in CASES])
def test_sample_names_and_descriptions_match_in_file_order(name, parse, options):
    # Informative fields (README: scored by similarity); these readers reproduce them exactly.
    data, expected = _load(name)
    result = parse(data, options)
    got = [(_norm(r.asset_name), _norm(r.description)) for r in result.rows]
    want = [(_norm(t["asset_name"]), _norm(t["description"])) for t in expected["transactions"]]
    assert got == want
    assert [r.row_number for r in result.rows] == list(range(1, len(want) + 1))
