"""ISO 20022 bank-to-customer statements: CAMT.053 (``camt.053.001.02`` ... ``.08`` and later).

Read as a stream with ``defusedxml`` (DTDs, entity declarations and external references are
forbidden, so a billion-laughs or XXE file is refused at its ``<!DOCTYPE`` before anything is
expanded), one ``Ntry`` at a time, each cleared once read, so memory does not grow with the file.
Element names are matched without their namespace, so every schema version reads alike;
camt.052 reports and camt.054 notifications, which share the ``Ntry`` layout, are read too.

Per entry: ``Amt@Ccy`` and ``CdtDbtInd`` give the signed amount (``RvslInd`` does not flip it:
the indicator already is the direction of the reversal booking), ``BookgDt/Dt|DtTm`` the date
(``ValDt`` when there is no booking date), ``BkTxCd`` (ISO sub-family such as ``CHRG``/``INTR``,
or a proprietary SWIFT-style code such as ``NCHG+805``) and ``AddtlNtryInf`` the type, the
counterparty ``RltdPties/Dbtr|Cdtr/Nm`` (``Pty/Nm`` from version 08) the name, and
``RmtInf/Ustrd`` the description. A batch entry whose ``TxDtls`` each carry an amount that
together make the entry's amount becomes one row per transaction; any other batch stays one row.
Entries with a status other than ``BOOK`` (pending, information only) are left out.

``row_number`` is the 1-based index of the ``Ntry`` in the file; the rows of one split batch
share it (``raw["TxDtls"]`` says which transaction of the batch a row is).
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from finance.imports.formats._common import (
    booking_text_kind,
    check_row_limit,
    clean_text,
    currency_code,
    fallback_currency,
    is_own_transfer,
    join_wrapped,
    parse_amount,
    signed_type,
    swift_kind,
)
from finance.imports.types import (
    CanonicalRow,
    ImportOptions,
    ImportRejected,
    ParseResult,
    RowError,
)


def _p(path: str) -> str:
    """``"A/B"`` -> ``"{*}A/{*}B"``: an ElementPath that ignores namespaces."""
    return "/".join("{*}" + part for part in path.split("/"))


_AMT, _CDI, _STS, _STS_CD = _p("Amt"), _p("CdtDbtInd"), _p("Sts"), _p("Sts/Cd")
_BOOKING_DATES = (_p("BookgDt/Dt"), _p("BookgDt/DtTm"))
_VALUE_DATES = (_p("ValDt/Dt"), _p("ValDt/DtTm"))
_ADDTL = _p("AddtlNtryInf")
_TXDTLS = _p("NtryDtls/TxDtls")
_BATCH_COUNT = _p("NtryDtls/Btch/NbOfTxs")
_TX_AMTS = (_p("Amt"), _p("AmtDtls/TxAmt/Amt"))
_SUBFAMILY, _PROPRIETARY = _p("BkTxCd/Domn/Fmly/SubFmlyCd"), _p("BkTxCd/Prtry/Cd")
_USTRD, _CRED_REF, _ADDTL_TX = (
    _p("RmtInf/Ustrd"),
    _p("RmtInf/Strd/CdtrRefInf/Ref"),
    _p("AddtlTxInf"),
)
_NAMES = {
    # For a credit the counterparty is the debtor, for a debit the creditor.
    "CRDT": tuple(
        _p(f"RltdPties/{party}/{leaf}")
        for party in ("Dbtr", "UltmtDbtr")
        for leaf in ("Nm", "Pty/Nm")
    ),
    "DBIT": tuple(
        _p(f"RltdPties/{party}/{leaf}")
        for party in ("Cdtr", "UltmtCdtr")
        for leaf in ("Nm", "Pty/Nm")
    ),
}
_CHARGE_RECORDS, _CHRG_INCL = _p("Chrgs/Rcrd"), _p("ChrgInclInd")
_BAL_CODE = _p("Tp/CdOrPrtry/Cd")
_ACCT_CCY = _p("Ccy")
_SUBFAMILY_KINDS = {
    "CHRG": "fee",
    "COMM": "fee",
    "COMI": "fee",
    "FEES": "fee",
    "INTR": "interest",
    "TAXE": "tax",
    "WITH": "tax",
    "DVCA": "dividend",
}
_USTRD_WIDTH = 140


class _EntryError(Exception):
    def __init__(self, error_type: str, field: str, value: str | None, message: str, hint: str):
        super().__init__(message)
        self.error_type, self.field, self.value, self.message, self.hint = (
            error_type,
            field,
            value,
            message,
            hint,
        )


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _text(el: Any, *paths: str) -> str | None:
    for path in paths:
        node = el.find(path)
        if node is not None and node.text and node.text.strip():
            return node.text.strip()
    return None


def _date(el: Any, raw: dict[str, str]) -> dt.date:
    value = _text(el, *_BOOKING_DATES)
    if value is None:
        value = _text(el, *_VALUE_DATES)
    if value is None:
        raise _EntryError(
            "missing",
            "BookgDt",
            None,
            "The entry has no booking date.",
            "Each Ntry needs BookgDt/Dt (YYYY-MM-DD).",
        )
    raw["BookgDt"] = value
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise _EntryError(
            "invalid",
            "BookgDt",
            value,
            f"'{value}' is not an ISO date.",
            "Dates are written YYYY-MM-DD.",
        ) from None


def _money(el: Any, paths: tuple[str, ...], raw: dict[str, str]) -> tuple[Decimal, str | None]:
    """Unsigned amount and its ``Ccy`` from the first of ``paths`` present in ``el``."""
    node = None
    for path in paths:
        node = el.find(path)
        if node is not None:
            break
    text = (node.text or "").strip() if node is not None else ""
    if node is None or not text:
        raise _EntryError(
            "missing",
            "Amt",
            None,
            "The entry has no amount.",
            'Each Ntry needs <Amt Ccy="EUR">123.45</Amt>.',
        )
    raw["Amt"] = text
    try:
        amount = abs(parse_amount(text, "."))
    except ValueError:
        raise _EntryError(
            "invalid",
            "Amt",
            text,
            f"'{text}' is not an amount.",
            "Amounts are decimals with a dot, e.g. 123.45.",
        ) from None
    return amount, currency_code(node.get("Ccy"))


def _purpose(tx: Any | None) -> str | None:
    if tx is None:
        return None
    lines = [n.text.strip() for n in tx.iterfind(_USTRD) if n.text and n.text.strip()]
    if lines:
        return clean_text(join_wrapped(lines, _USTRD_WIDTH))
    return clean_text(_text(tx, _CRED_REF, _ADDTL_TX))


def _kind(entry: Any, tx: Any | None, booking_text: str | None, purpose: str | None) -> str:
    sub = (tx is not None and _text(tx, _SUBFAMILY)) or _text(entry, _SUBFAMILY)
    kind = _SUBFAMILY_KINDS.get((sub or "").upper())
    if kind is None:
        prop = (tx is not None and _text(tx, _PROPRIETARY)) or _text(entry, _PROPRIETARY)
        kind = swift_kind(prop)
    if kind == "cash":
        kind = booking_text_kind(booking_text) or "cash"
    if kind == "cash" and is_own_transfer(booking_text, purpose):
        kind = "transfer"
    return kind


def _entry_rows(
    entry: Any, index: int, stmt_ccy: str | None, options: ImportOptions, raw: dict[str, str]
) -> list[CanonicalRow]:
    amount, ccy = _money(entry, (_AMT,), raw)
    indicator = (_text(entry, _CDI) or "").upper()
    raw["CdtDbtInd"] = indicator
    if indicator not in ("CRDT", "DBIT"):
        raise _EntryError(
            "missing" if not indicator else "invalid",
            "CdtDbtInd",
            indicator or None,
            "The entry does not say credit or debit.",
            "CdtDbtInd must be CRDT or DBIT.",
        )
    signed = amount if indicator == "CRDT" else -amount
    date = _date(entry, raw)
    currency = ccy or stmt_ccy or fallback_currency(options)
    booking_text = clean_text(_text(entry, _ADDTL))
    txs = list(entry.iterfind(_TXDTLS))

    def row(
        tx: Any | None, tx_signed: Decimal, tx_ccy: str | None, fee: Decimal, tx_raw: dict[str, str]
    ) -> CanonicalRow:
        direction = "CRDT" if tx_signed >= 0 else "DBIT"
        name = clean_text(_text(tx, *_NAMES[direction])) if tx is not None else None
        purpose = _purpose(tx)
        return CanonicalRow(
            row_number=index,
            date=date,
            transaction_type=signed_type(_kind(entry, tx, booking_text, purpose), tx_signed),
            transaction_amount=tx_signed,
            currency=tx_ccy or currency,
            fee=fee,
            asset_name=name or booking_text,
            description=purpose or (booking_text if name else None),
            raw=tx_raw,
        )

    if len(txs) > 1:
        parts: list[tuple[Any, Decimal, str | None, dict[str, str]]] = []
        for tx in txs:
            tx_raw = {**raw, "TxDtls": str(len(parts) + 1)}
            try:
                tx_amount, tx_ccy = _money(tx, _TX_AMTS, tx_raw)
            except _EntryError:
                break
            tx_indicator = (_text(tx, _CDI) or indicator).upper()
            tx_raw["CdtDbtInd"] = tx_indicator
            tx_signed = tx_amount if tx_indicator == "CRDT" else -tx_amount
            parts.append((tx, tx_signed, tx_ccy, tx_raw))
        if len(parts) == len(txs) and sum(p[1] for p in parts) == signed:
            return [row(*part[:3], Decimal(0), part[3]) for part in parts]
    fee = Decimal(0)
    for record in entry.iterfind(_CHARGE_RECORDS):
        if (_text(record, _CHRG_INCL) or "").lower() == "true":
            with contextlib.suppress(_EntryError):  # an unreadable charge is no fee
                fee += _money(record, (_AMT,), {})[0]
    if len(txs) == 1:
        return [row(txs[0], signed, None, fee, raw)]
    result = row(None, signed, None, fee, raw)
    batch = len(txs) or _text(entry, _BATCH_COUNT)
    if batch:
        result.description = clean_text(f"Batch booking of {batch} transactions")
    return [result]


def parse(data: bytes, options: ImportOptions) -> ParseResult:
    """Parse a CAMT.053 (or .052/.054) XML file (see the module docstring)."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser, ParseError, iterparse

    if options.encoding:
        try:
            codecs.lookup(options.encoding)
        except LookupError as exc:
            raise ImportRejected(f"Unknown text encoding '{options.encoding}'.", 422) from exc
    parser = DefusedXMLParser(
        encoding=options.encoding, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    rows: list[CanonicalRow] = []
    errors: list[RowError] = []
    warnings: list[str] = []
    namespaces: list[str] = []
    stated: list[str] = []  # currencies the statements' accounts declare
    stmt_ccy: str | None = None
    statements = entries = skipped = 0
    opening: Decimal | None = None
    closing: Decimal | None = None
    total = Decimal(0)
    stmt_failed = False
    try:
        for event, el in iterparse(io.BytesIO(data), ("start-ns", "end"), parser=parser):
            if event == "start-ns":
                namespaces.append(el[1])
                continue
            tag = _local(el.tag)
            if tag == "Ntry":
                status = (_text(el, _STS_CD, _STS) or "BOOK").upper()
                if status not in ("BOOK", "BOOKED"):
                    skipped += 1
                    el.clear()
                    continue
                entries += 1
                check_row_limit(entries, options)
                raw = {"Ntry": str(entries)}
                for key in ("NtryRef", "AcctSvcrRef"):
                    value = _text(el, _p(key))
                    if value:
                        raw[key] = value
                try:
                    produced = _entry_rows(el, entries, stmt_ccy, options, raw)
                except _EntryError as err:
                    stmt_failed = True
                    errors.append(
                        RowError(
                            row_number=entries,
                            error_type=err.error_type,
                            message=err.message,
                            field_name=err.field,
                            value=err.value,
                            suggestion=err.hint,
                            raw=raw,
                        )
                    )
                else:
                    rows.extend(produced)
                    total += sum(r.transaction_amount for r in produced)
                el.clear()
            elif tag == "Acct" and stmt_ccy is None:
                stmt_ccy = currency_code(_text(el, _ACCT_CCY))
                if stmt_ccy and stmt_ccy not in stated:
                    stated.append(stmt_ccy)
            elif tag == "Bal":
                code = (_text(el, _BAL_CODE) or "").upper()
                try:
                    amount, _ = _money(el, (_AMT,), {})
                except _EntryError:
                    continue
                amount = -amount if (_text(el, _CDI) or "").upper() == "DBIT" else amount
                if code in ("OPBD", "PRCD"):
                    opening = amount
                elif code == "CLBD":
                    closing = amount
            elif tag in ("Stmt", "Rpt", "Ntfctn"):
                statements += 1
                if (
                    opening is not None
                    and closing is not None
                    and not stmt_failed
                    and opening + total != closing
                ):
                    warnings.append(
                        f"Statement {statements}: opening balance {opening} plus its entries "
                        f"({total}) does not equal the closing balance {closing}."
                    )
                stmt_ccy = opening = closing = None
                total, stmt_failed = Decimal(0), False
                el.clear()
    except DefusedXmlException as exc:
        raise ImportRejected(
            "The XML file declares a DTD, entities or external references, which a bank "
            "statement never needs; it was refused for safety.",
            422,
        ) from exc
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        if not rows and not errors:
            raise ImportRejected(
                f"The file is not well-formed XML (line {line}, column {column}).", 422
            ) from exc
        errors.append(
            RowError(
                row_number=entries + 1,
                error_type="format",
                message=f"The XML breaks off or is malformed at line {line}, column {column}: "
                "entries from there on could not be read.",
                suggestion="Download the statement again from the bank.",
                raw={"line": str(line), "column": str(column)},
            )
        )
    if entries == 0 and statements == 0 and not errors:
        raise ImportRejected(
            "The XML file is not an ISO 20022 CAMT.053 bank statement (no Stmt or Ntry element).",
            422,
        )
    kinds = {ns.rsplit(":", 1)[-1][:8] for ns in namespaces if "camt.05" in ns}
    if kinds - {"camt.053"}:
        warnings.append(f"Read a {', '.join(sorted(kinds))} file like a camt.053 statement.")
    if skipped:
        warnings.append(
            f"Left out {skipped} {'entry' if skipped == 1 else 'entries'} that the bank has not "
            "booked (pending or information only)."
        )
    if len(stated) > 1:
        warnings.append(
            "The file holds statements in several currencies: " + ", ".join(stated) + "."
        )
    return ParseResult(
        format="camt.053",
        rows=rows,
        errors=errors,
        total_rows=entries,
        encoding=(options.encoding or _declared_encoding(data)),
        mapping_source="format",
        currency=stated[0] if stated else None,
        warnings=warnings,
    )


def _declared_encoding(data: bytes) -> str:
    head = data[:200]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    start = head.find(b"encoding=")
    if start < 0:
        return "utf-8"
    quote = head[start + 9 : start + 10]
    end = head.find(quote, start + 10)
    return head[start + 10 : end].decode("ascii", "replace").lower() if end > 0 else "utf-8"
