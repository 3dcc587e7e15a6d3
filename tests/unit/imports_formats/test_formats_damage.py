"""Every reader, fed truncated, corrupted or wrong-format bytes, either returns a ParseResult whose
rows keep the canonical invariants (exact decimals, the sign convention, known types) and whose
errors are well-formed, or refuses the file with ImportRejected — never anything else.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finance.imports.formats import camt, mt940, ofx, qif
from finance.imports.types import (
    ERROR_TYPES,
    TRANSACTION_TYPES,
    CanonicalRow,
    ImportOptions,
    ImportRejected,
    ParseResult,
    RowError,
)

DATA = Path(__file__).resolve().parent / "data"
SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "samples" / "statements"

FILES = [
    (SAMPLES / "38_ofx_us_checking.ofx", ofx.parse),
    (SAMPLES / "41_qif_bank_quicken.qif", qif.parse),
    (SAMPLES / "45_mt940_de_sparkasse.sta", mt940.parse),
    (DATA / "ofx2_checking.ofx", ofx.parse),
    (DATA / "cc_statement.qfx", ofx.parse),
    (DATA / "invest_statement.ofx", ofx.parse),
    (DATA / "qif_multi_account.qif", qif.parse),
    (DATA / "mt940_two_statements_rollover.sta", mt940.parse),
    (DATA / "camt053_v02_batch.xml", camt.parse),
]
IDS = [path.name for path, _ in FILES]
PARSERS = [ofx.parse, qif.parse, mt940.parse, camt.parse]
NEGATIVE = {"BUY", "WITHDRAWAL", "FEE", "TAX", "TRANSFER_OUT"}
POSITIVE = {"SELL", "DEPOSIT", "DIVIDEND", "INTEREST", "TRANSFER_IN"}
OPTIONS = ImportOptions(wallet_currency="EUR")


def check(result: ParseResult) -> None:
    assert isinstance(result, ParseResult)
    for row in result.rows:
        assert isinstance(row, CanonicalRow)
        assert row.row_number >= 1
        assert isinstance(row.date, dt.date)
        assert row.transaction_type in TRANSACTION_TYPES
        assert isinstance(row.transaction_amount, Decimal)
        assert row.transaction_amount.is_finite()
        if row.transaction_type in NEGATIVE:
            assert row.transaction_amount <= 0
        if row.transaction_type in POSITIVE:
            assert row.transaction_amount >= 0
        assert isinstance(row.fee, Decimal)
        assert row.fee >= 0
        for value in (row.volume, row.item_price):
            assert value is None or (isinstance(value, Decimal) and value >= 0)
        assert row.currency is None or (len(row.currency) == 3 and row.currency.isupper())
        assert all(isinstance(v, str) for v in (row.raw or {}).values())
    for error in result.errors:
        assert isinstance(error, RowError)
        assert error.row_number >= 1
        assert error.error_type in ERROR_TYPES
        assert error.message
    assert result.total_rows >= len({r.row_number for r in result.rows})


def outcome(parse, data: bytes) -> None:
    try:
        result = parse(data, OPTIONS)
    except ImportRejected as rejected:
        assert rejected.status in (413, 415, 422)
        assert rejected.detail
    else:
        check(result)


@pytest.mark.parametrize(("path", "parse"), FILES, ids=IDS)
def test_every_intact_fixture_keeps_the_invariants(path, parse):
    check(parse(path.read_bytes(), OPTIONS))


@pytest.mark.parametrize(("path", "parse"), FILES, ids=IDS)
def test_cut_after_every_line_and_inside_lines(path, parse):
    data = path.read_bytes()
    cuts = {i + 1 for i, byte in enumerate(data) if byte == 0x0A}
    cuts |= set(range(0, len(data), 37))
    for cut in sorted(cuts):
        outcome(parse, data[:cut])


# Bytes that mean something in one of the formats: damage made of them reaches deeper code.
SYNTAX = st.sampled_from([bytes([c]) for c in b"0123456789,.-+:?/<>&;'^!CDRNT \r\n"])


@pytest.mark.parametrize(("path", "parse"), FILES, ids=IDS)
@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    edits=st.lists(
        st.tuples(
            st.floats(0, 1, exclude_max=True),
            st.one_of(st.binary(max_size=4), SYNTAX, st.lists(SYNTAX, max_size=6).map(b"".join)),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_random_damage(path, parse, edits):
    data = bytearray(path.read_bytes())
    for where, replacement in edits:
        at = int(where * len(data))
        data[at : at + 1] = replacement
    outcome(parse, bytes(data))


@pytest.mark.parametrize("parse", PARSERS, ids=["ofx", "qif", "mt940", "camt"])
@pytest.mark.parametrize(("path", "_"), FILES, ids=IDS)
def test_the_wrong_reader_never_crashes(parse, path, _):
    outcome(parse, path.read_bytes())


@pytest.mark.parametrize("parse", PARSERS, ids=["ofx", "qif", "mt940", "camt"])
@settings(max_examples=40, deadline=None, derandomize=True)
@given(data=st.binary(max_size=512))
def test_arbitrary_bytes(parse, data):
    outcome(parse, data)
