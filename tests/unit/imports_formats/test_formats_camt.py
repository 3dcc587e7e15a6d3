"""CAMT.053 reader: entries, batches, schema versions, hostile and damaged XML."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest

from finance.imports.formats import camt
from finance.imports.types import ImportOptions, ImportRejected

DATA = Path(__file__).resolve().parent / "data"

V08 = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt>
  <Stmt>
   <Acct><Id><IBAN>CH9300762011623852957</IBAN></Id><Ccy>CHF</Ccy></Acct>
   <Ntry>
    <Amt Ccy="CHF">120.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2024-03-01</Dt></BookgDt><ValDt><Dt>2024-03-02</Dt></ValDt>
    <NtryDtls><TxDtls>
     <Amt Ccy="CHF">120.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>
     <RltdPties><Cdtr><Pty><Nm>Swisscom (Schweiz) AG</Nm></Pty></Cdtr></RltdPties>
     <RmtInf><Ustrd>Rechnung 2024-02</Ustrd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
   <Ntry>
    <Amt Ccy="CHF">30.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>true</RvslInd>
    <Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2024-03-04</Dt></BookgDt>
    <NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>Migros</Nm></Pty></Dbtr></RltdPties>
    </TxDtls></NtryDtls>
    <AddtlNtryInf>Storno Kartenzahlung</AddtlNtryInf>
   </Ntry>
   <Ntry>
    <Amt Ccy="CHF">2.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2024-03-05</Dt></BookgDt>
    <Chrgs><Rcrd><Amt Ccy="CHF">0.50</Amt><ChrgInclInd>true</ChrgInclInd></Rcrd></Chrgs>
    <NtryDtls><TxDtls><RltdPties><Cdtr><Pty><Nm>Post CH AG</Nm></Pty></Cdtr></RltdPties>
    </TxDtls></NtryDtls>
   </Ntry>
  </Stmt>
  <Stmt>
   <Acct><Id><IBAN>CH5604835012345678009</IBAN></Id><Ccy>EUR</Ccy></Acct>
   <Ntry>
    <Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2024-03-06</Dt></BookgDt>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


def test_statement_with_batches_fees_interest_and_transfers():
    result = camt.parse((DATA / "camt053_v02_batch.xml").read_bytes(), ImportOptions())
    assert (result.format, result.encoding, result.currency) == ("camt.053", "utf-8", "EUR")
    assert result.total_rows == 8  # the pending entry is left out, with a warning
    got = [
        (r.row_number, r.date.isoformat(), r.transaction_type, r.transaction_amount, r.asset_name)
        for r in result.rows
    ]
    d = Decimal
    assert got == [
        (1, "2024-06-03", "DEPOSIT", d("3100.00"), "Rhein-Main Logistik GmbH"),
        (2, "2024-06-04", "WITHDRAWAL", d("-71.30"), "Stadtwerke Mainz AG"),
        # A batch whose transactions carry amounts adding up to the entry: one row each.
        (3, "2024-06-10", "WITHDRAWAL", d("-100.00"), "Kita Sonnenschein e.V."),
        (3, "2024-06-10", "WITHDRAWAL", d("-55.50"), "TSV Mainz 1846"),
        (3, "2024-06-10", "WITHDRAWAL", d("-25.00"), "Musikschule Mainz"),
        # A batch without amounts per transaction stays one row.
        (4, "2024-06-12", "DEPOSIT", d("60.00"), "SAMMELGUTSCHRIFT"),
        (5, "2024-06-28", "FEE", d("-4.90"), "Kontofuehrung Juni"),  # SubFmlyCd CHRG
        (6, "2024-06-30", "INTEREST", d("1.36"), "ABSCHLUSS"),  # Prtry NINT+805, DtTm date
        (7, "2024-06-14", "TRANSFER_OUT", d("-500.00"), "Jana Novak"),  # Umbuchung
    ]
    salary, utility = result.rows[0], result.rows[1]
    assert salary.description == "Gehalt Juni 2024 Pers.Nr. 7731"
    # Two <Ustrd>: the first fills its 140 characters, so the second continues the word.
    assert utility.description.endswith("-- Vielen Danke")
    assert result.rows[4].description == "RF18539007547034"  # structured creditor reference
    assert result.rows[4].raw["TxDtls"] == "3"
    assert result.rows[5].description == "Batch booking of 2 transactions"
    assert result.rows[0].raw["AcctSvcrRef"] == "2024060300001"
    [error] = result.errors
    assert (error.row_number, error.error_type, error.field_name, error.value) == (
        8,
        "invalid",
        "Amt",
        "= 12",
    )
    assert result.warnings == [
        "Left out 1 entry that the bank has not booked (pending or information only)."
    ]


def test_version_08_layout_and_several_statements():
    result = camt.parse(V08, ImportOptions())
    got = [
        (r.transaction_type, r.transaction_amount, r.currency, r.fee, r.asset_name)
        for r in result.rows
    ]
    assert got == [
        ("WITHDRAWAL", Decimal("-120.00"), "CHF", Decimal(0), "Swisscom (Schweiz) AG"),
        # A reversal booked as a credit is a credit: the indicator is the booking's direction.
        ("DEPOSIT", Decimal("30.00"), "CHF", Decimal(0), "Migros"),
        ("WITHDRAWAL", Decimal("-2.00"), "CHF", Decimal("0.50"), "Post CH AG"),
        ("DEPOSIT", Decimal("10.00"), "EUR", Decimal(0), None),
    ]
    assert result.rows[0].description == "Rechnung 2024-02"
    assert result.currency == "CHF"
    assert any("several currencies" in w for w in result.warnings)


def test_balances_that_do_not_add_up_are_reported():
    data = (DATA / "camt053_v02_batch.xml").read_bytes()
    data = data.replace(b'<Amt Ccy="EUR">= 12</Amt>', b'<Amt Ccy="EUR">0.00</Amt>')
    assert not [w for w in camt.parse(data, ImportOptions()).warnings if "balance" in w]
    data = data.replace(b'<Amt Ccy="EUR">3404.66</Amt>', b'<Amt Ccy="EUR">3404.67</Amt>')
    assert any(
        "does not equal the closing balance 3404.67" in w
        for w in camt.parse(data, ImportOptions()).warnings
    )


@pytest.mark.parametrize("name", ["camt_billion_laughs.xml", "camt_xxe.xml"])
def test_entity_attacks_are_refused_at_once(name):
    started = time.perf_counter()
    with pytest.raises(ImportRejected) as caught:
        camt.parse((DATA / name).read_bytes(), ImportOptions())
    assert time.perf_counter() - started < 1.0
    assert caught.value.status == 422
    assert "refused for safety" in caught.value.detail


def test_undefined_entity_is_malformed_xml():
    data = b"<Document><BkToCstmrStmt><Stmt><Ntry>&x;</Ntry></Stmt></BkToCstmrStmt></Document>"
    with pytest.raises(ImportRejected, match="not well-formed XML"):
        camt.parse(data, ImportOptions())


def test_truncated_file_keeps_the_entries_before_the_cut():
    data = (DATA / "camt053_v02_batch.xml").read_bytes()
    cut = data[: data.index(b"<NtryRef>4</NtryRef>") + 10]
    result = camt.parse(cut, ImportOptions())
    assert [r.row_number for r in result.rows] == [1, 2, 3, 3, 3]
    [error] = result.errors
    assert (error.row_number, error.error_type) == (4, "format")
    assert "could not be read" in error.message
    assert error.raw["line"]


def test_cut_before_any_entry_is_rejected():
    data = (DATA / "camt053_v02_batch.xml").read_bytes()
    with pytest.raises(ImportRejected):
        camt.parse(data[:400], ImportOptions())


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not xml at all",
        b'<?xml version="1.0"?><OFX><BANKMSGSRSV1/></OFX>',
        b"\x00\xff" * 50,
    ],
    ids=["empty", "text", "other-xml", "binary"],
)
def test_non_camt_input_is_rejected(data):
    with pytest.raises(ImportRejected) as caught:
        camt.parse(data, ImportOptions())
    assert caught.value.status == 422


def test_declared_and_overridden_encodings():
    body = (
        "<Document><BkToCstmrStmt><Stmt><Ntry><Amt Ccy='EUR'>1.00</Amt>"
        "<CdtDbtInd>DBIT</CdtDbtInd><BookgDt><Dt>2024-01-02</Dt></BookgDt>"
        "<AddtlNtryInf>Bäckerei Grün</AddtlNtryInf></Ntry></Stmt></BkToCstmrStmt></Document>"
    )
    declared = ('<?xml version="1.0" encoding="windows-1252"?>' + body).encode("cp1252")
    result = camt.parse(declared, ImportOptions())
    assert (result.encoding, result.rows[0].asset_name) == ("windows-1252", "Bäckerei Grün")
    # No declaration means UTF-8 to XML; the caller may know better.
    result = camt.parse(body.encode("latin-1"), ImportOptions(encoding="latin-1"))
    assert result.rows[0].asset_name == "Bäckerei Grün"
    with pytest.raises(ImportRejected, match="Unknown text encoding"):
        camt.parse(body.encode(), ImportOptions(encoding="no-such-codec"))
    with pytest.raises(ImportRejected, match="unknown encoding"):
        camt.parse(b'<?xml version="1.0" encoding="UTF-9"?>' + body.encode(), ImportOptions())


def test_currency_fallback_and_row_cap():
    entry = (
        b"<Ntry><Amt>1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
        b"<BookgDt><Dt>2024-01-02</Dt></BookgDt></Ntry>"
    )

    def document(entries: bytes) -> bytes:
        return b"<Document><BkToCstmrStmt><Stmt>" + entries + b"</Stmt></BkToCstmrStmt></Document>"

    result = camt.parse(document(entry), ImportOptions(wallet_currency="SEK"))
    assert result.rows[0].currency == "SEK"
    formula = entry.replace(b"</Ntry>", b"<AddtlNtryInf>=1+2 @x</AddtlNtryInf></Ntry>")
    assert camt.parse(document(formula), ImportOptions()).rows[0].asset_name == "=1+2 @x"
    with pytest.raises(ImportRejected) as caught:
        camt.parse(document(entry * 2), ImportOptions(max_rows=1))
    assert caught.value.status == 413
