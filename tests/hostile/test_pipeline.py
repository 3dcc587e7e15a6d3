"""Every hostile file through the pure pipeline: a clear refusal or a partial import, in time.

For each file the outcome is exactly the one :mod:`tests.hostile.corpus` states: either
``ImportRejected`` with the status and a ``detail`` sentence that says what was found, or
the good rows as transactions and each bad row as an error row naming the field, the value
and a suggestion. Never another exception, never a hang (each file is bounded to
:data:`PER_FILE_SECONDS`), and for the formats read in-process the peak Python memory is
traced.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import PurePath

import pytest
from bson import Decimal128

from finance.imports.pipeline import parse_statement
from finance.imports.types import CanonicalRow, ImportOptions, ImportRejected, ParseResult
from tests.hostile.conftest import PER_FILE_SECONDS, bounded
from tests.hostile.corpus import (
    CASES,
    XLSX_ROWS,
    Partial,
    Reject,
    camt,
    good_xls,
    ofx2,
    sentence,
    xlsx,
)

# Files read in this process (spreadsheets are read in a child process, see readers.py).
IN_PROCESS = {".csv", ".ofx", ".qif", ".sta", ".xml"}
IN_PROCESS_CASES = [c for c in CASES if PurePath(c.name).suffix in IN_PROCESS]
OPTIONS = {"max_bytes": 64 * 1024 * 1024, "max_rows": 200_000}
# Limits of the stored documents (finance/transactions/models.py).
TEXT_LIMITS = {"description": 2000, "asset_name": 200, "asset_symbol": 40}
PEAKS: dict[str, int] = {}  # name -> traced peak bytes (read by tools that report them)


def run(data: bytes, name: str, **options) -> ParseResult:
    return parse_statement(data, name, ImportOptions(**{**OPTIONS, **options}))


def assert_storable(row: CanonicalRow) -> None:
    """What storage does with a row must not fail: every number fits a Decimal128 exactly,
    and every date is a real one in the accepted range."""
    for name in ("transaction_amount", "fee", "volume", "item_price"):
        value = getattr(row, name)
        if value is not None:
            assert isinstance(value, Decimal) and value.is_finite(), (name, value)
            assert Decimal128(value).to_decimal() == value, (name, value)
    assert 1900 <= row.date.year <= 2100


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hostile_file_is_refused_or_partly_imported(corpus_dir, case):
    data = (corpus_dir / case.name).read_bytes()
    outcome: ParseResult | ImportRejected
    with bounded() as measured:
        try:
            outcome = run(data, case.name, **case.options)
        except ImportRejected as exc:
            outcome = exc
    assert measured.seconds <= PER_FILE_SECONDS, f"{case.name} took {measured.seconds:.1f} s"

    expect = case.expect
    if isinstance(expect, Reject):
        assert isinstance(outcome, ImportRejected), f"{case.name} was not refused"
        assert (outcome.status, sentence(outcome.detail)) == (expect.status, True), outcome.detail
        assert re.search(expect.detail, outcome.detail, re.IGNORECASE), outcome.detail
        return
    assert isinstance(outcome, ParseResult), f"{case.name} was refused: {outcome.detail}"
    assert isinstance(expect, Partial)
    got = [(e.row_number, e.field_name, e.value, e.error_type) for e in outcome.errors]
    want = [(b.row, b.field, b.value, b.kind) for b in expect.errors]
    if expect.failed is None:
        assert got == want
    else:
        assert (len(got), got[: len(want)]) == (expect.failed, want)
    for error in outcome.errors:
        assert sentence(error.message), error.message
        assert error.suggestion, error
    assert len(outcome.rows) == expect.imported
    assert outcome.total_rows == len(outcome.rows) + len(outcome.errors)
    for row in outcome.rows:
        assert_storable(row)
    descriptions = {row.description for row in outcome.rows}
    for text in expect.descriptions:
        assert text in descriptions  # kept as the very text, never evaluated


@pytest.mark.parametrize("case", IN_PROCESS_CASES, ids=lambda c: c.id)
def test_memory_stays_bounded(corpus_dir, case):
    """Peak Python memory while reading, traced (which slows allocation several-fold, so the
    time bound is only a hang guard here; the test above holds each file to its time)."""
    data = (corpus_dir / case.name).read_bytes()
    rows = 0
    with bounded(seconds=3 * PER_FILE_SECONDS, memory=True) as measured:
        try:
            rows = run(data, case.name, **case.options).total_rows
        except ImportRejected:
            refused = True
        else:
            refused = False
    PEAKS[case.name] = peak = measured.peak_bytes
    if refused:  # refused files allocate little: never a copy of the whole file per stage
        assert peak <= 4 * 2**20 + 3 * len(data), (case.name, peak)
    else:  # a fixed working set, a few times the file and the rows it made: nothing more
        assert peak <= 8 * 2**20 + 4 * len(data) + 2048 * rows, (case.name, peak)


@pytest.mark.parametrize(
    ("name", "build", "rows"),
    [
        ("intact.xlsx", lambda: xlsx(XLSX_ROWS), 4),
        ("intact.xls", good_xls, 3),
        ("intact.xml", lambda: camt("Coffee", doctype=""), 1),
        ("intact.ofx", lambda: ofx2("Coffee", doctype=""), 1),
    ],
)
def test_the_files_the_corpus_damages_import_when_intact(name, build, rows):
    """Control: the workbooks and XML the corpus cuts, flips and poisons are real statements,
    so each refusal above is the damage's doing."""
    result = run(build(), name)
    assert (len(result.rows), result.errors) == (rows, [])


def test_the_corpus_is_large_and_every_outcome_is_declared():
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
    suffixes = {PurePath(c.name).suffix for c in CASES}
    assert {".csv", ".xlsx", ".xls", ".ofx", ".qif", ".sta", ".xml"} <= suffixes


def test_a_50_mb_single_line_is_refused_by_size_at_once(big_csv):
    """Over the configured cap: 413 before a byte is decoded, allocating next to nothing."""
    data = big_csv.read_bytes()
    with bounded(seconds=1, memory=True) as measured, pytest.raises(ImportRejected) as refused:
        run(data, big_csv.name, max_bytes=4_000_000)
    assert refused.value.status == 413
    assert refused.value.detail == "The file is 50.0 MB, over the 3.8 MB upload limit."
    assert measured.peak_bytes < 64 * 1024
    PEAKS["single-line-50mb.csv (cap 4 MB)"] = measured.peak_bytes


def test_a_50_mb_single_line_under_a_high_cap_is_refused_quickly_in_bounded_memory(big_csv):
    """With the cap raised past it, the file is still refused (no line of a statement is
    50 MB long) in bounded time, without holding the file several times over."""
    data = big_csv.read_bytes()
    with bounded(memory=True) as measured, pytest.raises(ImportRejected) as refused:
        run(data, big_csv.name, max_bytes=100 * 2**20)
    assert refused.value.status == 422
    assert sentence(refused.value.detail)
    assert refused.value.detail.startswith("Line 1 is longer than 1,048,576 characters")
    assert measured.seconds < 5
    assert measured.peak_bytes < 200 * 2**20
    PEAKS["single-line-50mb.csv (cap 100 MB)"] = measured.peak_bytes
