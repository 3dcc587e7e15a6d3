"""ISO 20022 bank-to-customer statements: CAMT.053 (``camt.053.001.02`` ... ``.08`` and later).

Safety first, then speed. ``defusedxml`` reads the document up to its root element with DTDs,
entity declarations and external references forbidden: a billion-laughs or XXE file is refused
(422) at its ``<!DOCTYPE``, before anything is expanded or fetched. A DTD can only stand before
the root element, so a document that passes has no entities to expand; the rest is then read
with the standard library's C pull parser (defusedxml's own parser is pure Python and about
ten times slower), one ``Ntry`` at a time, each cleared once read, so memory stays flat.
Element names are matched in the document's namespace, whatever the schema version;
camt.052 reports and camt.054 notifications, which share the ``Ntry`` layout, are read too.

Per entry: ``Amt@Ccy`` and ``CdtDbtInd`` give the signed amount (``RvslInd`` does not flip it:
the indicator already is the direction of the reversal booking), ``BookgDt/Dt|DtTm`` the date
(``ValDt`` when there is no booking date), ``BkTxCd`` (ISO sub-family such as ``CHRG``/``INTR``,
or a proprietary SWIFT-style code such as ``NCHG+805``) and ``AddtlNtryInf`` the type, the
counterparty ``RltdPties/Dbtr|Cdtr/Nm`` (``Pty/Nm`` from version 08) the name, and
``RmtInf/Ustrd`` the description; charges included in the amount (``Chrgs/Rcrd`` with
``ChrgInclInd`` true) the fee. A batch entry whose ``TxDtls`` each carry an amount that together
make the entry's amount becomes one row per transaction; any other batch stays one row.
Entries with a status other than ``BOOK`` (pending, information only) are left out.

``row_number`` is the 1-based index of the ``Ntry`` in the file; the rows of one split batch
share it (``raw["TxDtls"]`` says which transaction of the batch a row is).
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
from decimal import Decimal
from typing import Any

from finance.imports.formats._common import (
    RecordError,
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

_CHUNK = 1 << 16
_USTRD_WIDTH = 140
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


class _Names:
    """Qualified tags and child paths in one document's namespace."""

    def __init__(self, namespace: str):
        self.prefix = f"{{{namespace}}}" if namespace else ""
        q = self.q
        self.ntry, self.acct, self.bal = q("Ntry"), q("Acct"), q("Bal")
        self.statements = frozenset({q("Stmt"), q("Rpt"), q("Ntfctn")})
        self.others = self.statements | {self.acct, self.bal}
        self.amt, self.cdi, self.ccy = self.path("Amt"), self.path("CdtDbtInd"), self.path("Ccy")
        self.sts, self.cd = q("Sts"), q("Cd")
        self.booking_date, self.value_date = q("BookgDt"), q("ValDt")
        self.dt, self.dttm = q("Dt"), q("DtTm")
        self.addtl = self.path("AddtlNtryInf")
        self.refs = {key: self.path(key) for key in ("NtryRef", "AcctSvcrRef")}
        self.ntry_dtls, self.tx_dtls = self.path("NtryDtls"), q("TxDtls")
        self.batch_count = self.path("NtryDtls/Btch/NbOfTxs")
        self.tx_amounts = (self.path("Amt"), self.path("AmtDtls/TxAmt/Amt"))
        self.bank_code = q("BkTxCd")
        self.subfamily = self.path("Domn/Fmly/SubFmlyCd")
        self.proprietary = self.path("Prtry/Cd")
        self.rmt_inf, self.ustrd = self.path("RmtInf"), q("Ustrd")
        self.tx_texts = (self.path("RmtInf/Strd/CdtrRefInf/Ref"), self.path("AddtlTxInf"))
        self.related, self.nm, self.pty = q("RltdPties"), q("Nm"), q("Pty")
        # For a credit the counterparty is the debtor, for a debit the creditor.
        self.parties = {
            "CRDT": (q("Dbtr"), q("UltmtDbtr")),
            "DBIT": (q("Cdtr"), q("UltmtCdtr")),
        }
        self.charges, self.charge_record = self.path("Chrgs"), q("Rcrd")
        self.charge_included = self.path("ChrgInclInd")
        self.balance_code = self.path("Tp/CdOrPrtry/Cd")

    def q(self, name: str) -> str:
        return self.prefix + name

    def path(self, path: str) -> tuple[str, ...]:
        return tuple(self.q(part) for part in path.split("/"))


def _find(el: Any, path: tuple[str, ...]) -> Any:
    for tag in path:
        el = el.find(tag)  # a plain (namespaced) tag: the C element's fast path
        if el is None:
            return None
    return el


def _text(el: Any, *paths: tuple[str, ...]) -> str | None:
    for path in paths:
        node = _find(el, path)
        if node is not None and node.text and node.text.strip():
            return node.text.strip()
    return None


def _money(
    el: Any, paths: tuple[tuple[str, ...], ...], raw: dict[str, str]
) -> tuple[Decimal, str | None]:
    """Unsigned amount and its ``Ccy`` from the first of ``paths`` present in ``el``."""
    node = next((n for n in (_find(el, p) for p in paths) if n is not None), None)
    text = (node.text or "").strip() if node is not None else ""
    if node is None or not text:
        raise RecordError(
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
        raise RecordError(
            "invalid",
            "Amt",
            text,
            f"'{text}' is not an amount.",
            "Amounts are decimals with a dot, e.g. 123.45.",
        ) from None
    return amount, currency_code(node.get("Ccy"))


def _date(entry: Any, n: _Names, raw: dict[str, str]) -> dt.date:
    value = None
    for tag in (n.booking_date, n.value_date):
        holder = entry.find(tag)
        if holder is not None:
            value = _text(holder, (n.dt,), (n.dttm,))
            if value:
                break
    if value is None:
        raise RecordError(
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
        raise RecordError(
            "invalid", "BookgDt", value, f"'{value}' is not an ISO date.", "Dates read YYYY-MM-DD."
        ) from None


def _status(entry: Any, n: _Names) -> str:
    """``Sts`` holds the code (versions up to 07) or a ``Cd`` child (08 on); BOOK when absent."""
    sts = entry.find(n.sts)
    if sts is None:
        return "BOOK"
    text = (sts.text or "").strip() or _text(sts, (n.cd,)) or "BOOK"
    return text.upper()


def _counterparty(tx: Any, n: _Names, direction: str) -> str | None:
    related = tx.find(n.related)
    if related is None:
        return None
    for tag in n.parties[direction]:
        party = related.find(tag)
        if party is not None:
            name = _text(party, (n.nm,), (n.pty, n.nm))
            if name:
                return clean_text(name)
    return None


def _purpose(tx: Any | None, n: _Names) -> str | None:
    if tx is None:
        return None
    rmt = _find(tx, n.rmt_inf)
    lines = [] if rmt is None else [u.text.strip() for u in rmt.iter(n.ustrd) if u.text]
    lines = [line for line in lines if line]
    if lines:
        return clean_text(join_wrapped(lines, _USTRD_WIDTH))
    return clean_text(_text(tx, *n.tx_texts))


def _kind(entry: Any, tx: Any | None, n: _Names, booking: str | None, purpose: str | None) -> str:
    """The transaction's own ``BkTxCd`` first, then the entry's: ISO sub-family, then a
    proprietary SWIFT-style code; then the booking text; then own-account phrases."""
    kind = None
    for holder in (tx, entry):
        code = None if holder is None else holder.find(n.bank_code)
        if code is not None:
            sub = _text(code, n.subfamily)
            kind = _SUBFAMILY_KINDS.get(sub.upper()) if sub else None
            if kind is None:
                kind = swift_kind(_text(code, n.proprietary))
            if kind != "cash":
                break
    if kind in (None, "cash"):
        kind = booking_text_kind(booking) or "cash"
    if kind == "cash" and is_own_transfer(booking, purpose):
        kind = "transfer"
    return kind


def _entry_rows(
    entry: Any, n: _Names, index: int, currency: str | None, raw: dict[str, str]
) -> list[CanonicalRow]:
    """The rows of one ``Ntry`` (several for a batch it can split); raises RecordError."""
    amount, ccy = _money(entry, (n.amt,), raw)
    indicator = (_text(entry, n.cdi) or "").upper()
    raw["CdtDbtInd"] = indicator
    if indicator not in ("CRDT", "DBIT"):
        raise RecordError(
            "invalid" if indicator else "missing",
            "CdtDbtInd",
            indicator or None,
            "The entry does not say credit or debit.",
            "CdtDbtInd must be CRDT or DBIT.",
        )
    signed = amount if indicator == "CRDT" else -amount
    date = _date(entry, n, raw)
    currency = ccy or currency
    booking = clean_text(_text(entry, n.addtl))
    details = _find(entry, n.ntry_dtls)
    txs = [] if details is None else details.findall(n.tx_dtls)

    def row(tx: Any | None, tx_signed: Decimal, tx_raw: dict[str, str], **extra) -> CanonicalRow:
        name = None if tx is None else _counterparty(tx, n, "CRDT" if tx_signed >= 0 else "DBIT")
        purpose = _purpose(tx, n)
        return CanonicalRow(
            row_number=index,
            date=date,
            transaction_type=signed_type(_kind(entry, tx, n, booking, purpose), tx_signed),
            transaction_amount=tx_signed,
            currency=extra.pop("currency", None) or currency,
            asset_name=name or booking,
            description=purpose or (booking if name else None),
            raw=tx_raw,
            **extra,
        )

    if len(txs) > 1:
        parts: list[tuple[Any, Decimal, str | None, dict[str, str]]] = []
        for tx in txs:
            tx_raw = {**raw, "TxDtls": str(len(parts) + 1)}
            try:
                tx_amount, tx_ccy = _money(tx, n.tx_amounts, tx_raw)
            except RecordError:
                break
            tx_raw["CdtDbtInd"] = (_text(tx, n.cdi) or indicator).upper()
            parts.append(
                (tx, tx_amount if tx_raw["CdtDbtInd"] == "CRDT" else -tx_amount, tx_ccy, tx_raw)
            )
        if len(parts) == len(txs) and sum(p[1] for p in parts) == signed:
            return [row(tx, s, r, currency=c) for tx, s, c, r in parts]
    fee = Decimal(0)
    charges = _find(entry, n.charges)
    for record in () if charges is None else charges.findall(n.charge_record):
        if (_text(record, n.charge_included) or "").lower() == "true":
            with contextlib.suppress(RecordError):  # an unreadable charge is no fee
                fee += _money(record, (n.amt,), {})[0]
    if len(txs) == 1:
        return [row(txs[0], signed, raw, fee=fee)]
    result = row(None, signed, raw, fee=fee)
    batch = len(txs) or _text(entry, n.batch_count)
    if batch:
        result.description = f"Batch booking of {batch} transactions"
    return [result]


class _Reader:
    """Statement state while the pull parser hands over finished elements."""

    def __init__(self, names: _Names, options: ImportOptions):
        self.n = names
        self.options = options
        self.rows: list[CanonicalRow] = []
        self.errors: list[RowError] = []
        self.warnings: list[str] = []
        self.stated: list[str] = []  # currencies the statements' accounts declare
        self.entries = self.statements = self.skipped = 0
        self._reset()

    def _reset(self) -> None:
        self.currency: str | None = None
        self.opening: Decimal | None = None
        self.closing: Decimal | None = None
        self.total = Decimal(0)
        self.failed = False

    def drain(self, pull: Any) -> None:
        """Handle the elements the pull parser has finished; only a few kinds matter."""
        ntry, others = self.n.ntry, self.n.others
        for _, el in pull.read_events():
            tag = el.tag
            if tag == ntry:
                self._entry(el)
                el.clear()
            elif tag in others:
                self._other(el, tag)

    def _other(self, el: Any, tag: str) -> None:
        n = self.n
        if tag == n.acct and self.currency is None:
            self.currency = currency_code(_text(el, n.ccy))
            if self.currency and self.currency not in self.stated:
                self.stated.append(self.currency)
        elif tag == n.bal:
            self._balance(el)
        elif tag in n.statements:
            self.statements += 1
            if (
                self.opening is not None
                and self.closing is not None
                and not self.failed
                and self.opening + self.total != self.closing
            ):
                self.warnings.append(
                    f"Statement {self.statements}: opening balance {self.opening} plus its "
                    f"entries ({self.total}) does not equal the closing balance {self.closing}."
                )
            self._reset()
            el.clear()

    def _entry(self, el: Any) -> None:
        n = self.n
        if _status(el, n) not in ("BOOK", "BOOKED"):
            self.skipped += 1
            return
        self.entries += 1
        check_row_limit(self.entries, self.options)
        raw = {"Ntry": str(self.entries)}
        for key, path in n.refs.items():
            value = _text(el, path)
            if value:
                raw[key] = value
        currency = self.currency or fallback_currency(self.options)
        try:
            produced = _entry_rows(el, n, self.entries, currency, raw)
        except RecordError as err:
            self.failed = True
            self.errors.append(err.row_error(self.entries, raw))
            return
        self.rows.extend(produced)
        self.total += sum(r.transaction_amount for r in produced)

    def _balance(self, el: Any) -> None:
        code = (_text(el, self.n.balance_code) or "").upper()
        try:
            amount, _ = _money(el, (self.n.amt,), {})
        except RecordError:
            return
        if (_text(el, self.n.cdi) or "").upper() == "DBIT":
            amount = -amount
        if code in ("OPBD", "PRCD"):
            self.opening = amount
        elif code == "CLBD":
            self.closing = amount


class _RootSeen(Exception):
    def __init__(self, tag: str):
        super().__init__(tag)
        self.tag = tag


class _Probe:
    """defusedxml target that stops at the root element: the prolog is all it must vet."""

    def start(self, tag: str, attrib: dict) -> None:
        raise _RootSeen(tag)

    def end(self, tag: str) -> None:  # pragma: no cover - never reached
        pass

    def data(self, data: str) -> None:
        pass

    def close(self) -> None:
        pass


def _root_namespace(source: bytes | str) -> str:
    """Vet the prolog with defusedxml; the root element's namespace, or 422."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser, ParseError

    probe = DefusedXMLParser(
        target=_Probe(), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        for offset in range(0, len(source), _CHUNK):
            probe.feed(source[offset : offset + _CHUNK])
        probe.close()
    except _RootSeen as root:
        return root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    except DefusedXmlException as exc:
        raise ImportRejected(
            "The XML file declares a DTD, entities or external references, which a bank "
            "statement never needs; it was refused for safety.",
            422,
        ) from exc
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise ImportRejected(
            f"The file is not well-formed XML (line {line}, column {column}).", 422
        ) from exc
    except LookupError as exc:  # <?xml ... encoding="no-such-codec"?>
        raise ImportRejected(f"The XML declares an unknown encoding ({exc}).", 422) from exc
    raise ImportRejected("The file is not an XML document.", 422)


def parse(data: bytes, options: ImportOptions) -> ParseResult:
    """Parse a CAMT.053 (or .052/.054) XML file (see the module docstring)."""
    from xml.etree.ElementTree import ParseError, XMLPullParser

    source: bytes | str = data
    if options.encoding:  # the caller knows better than the XML declaration
        try:
            source = data.decode(codecs.lookup(options.encoding).name, errors="replace")
        except LookupError as exc:
            raise ImportRejected(f"Unknown text encoding '{options.encoding}'.", 422) from exc
    namespace = _root_namespace(source)
    reader = _Reader(_Names(namespace), options)
    pull = XMLPullParser(events=("end",))
    try:
        for offset in range(0, len(source), _CHUNK):
            pull.feed(source[offset : offset + _CHUNK])
            reader.drain(pull)
        pull.close()
        reader.drain(pull)
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        if not reader.rows and not reader.errors:
            raise ImportRejected(
                f"The file is not well-formed XML (line {line}, column {column}).", 422
            ) from exc
        reader.errors.append(
            RowError(
                row_number=reader.entries + 1,
                error_type="format",
                message=f"The XML breaks off or is malformed at line {line}, column {column}: "
                "entries from there on could not be read.",
                suggestion="Download the statement again from the bank.",
                raw={"line": str(line), "column": str(column)},
            )
        )
    if reader.entries == 0 and reader.statements == 0 and not reader.errors:
        raise ImportRejected(
            "The XML file is not an ISO 20022 CAMT.053 bank statement (no Stmt or Ntry element).",
            422,
        )
    warnings = reader.warnings
    kind = namespace.rpartition(":")[2][:8]
    if kind.startswith("camt.05") and kind != "camt.053":
        warnings.append(f"Read a {kind} file like a camt.053 statement.")
    if reader.skipped:
        warnings.append(
            f"Left out {reader.skipped} {'entry' if reader.skipped == 1 else 'entries'} that "
            "the bank has not booked (pending or information only)."
        )
    if len(reader.stated) > 1:
        warnings.append(
            "The file holds statements in several currencies: " + ", ".join(reader.stated) + "."
        )
    return ParseResult(
        format="camt.053",
        rows=reader.rows,
        errors=reader.errors,
        total_rows=reader.entries,
        encoding=options.encoding or _declared_encoding(data),
        mapping_source="format",
        currency=reader.stated[0] if reader.stated else None,
        warnings=warnings,
    )


def _declared_encoding(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = data[:200]
    start = head.find(b"encoding=")
    if start < 0:
        return "utf-8"
    quote = head[start + 9 : start + 10]
    end = head.find(quote, start + 10)
    return head[start + 10 : end].decode("ascii", "replace").lower() if end > 0 else "utf-8"
