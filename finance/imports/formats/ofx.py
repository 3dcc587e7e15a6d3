"""OFX / QFX statements: OFX 1.x (SGML, leaf end tags optional) and OFX 2.x (XML).

Bank (``STMTRS``), credit-card (``CCSTMTRS``) and investment (``INVSTMTRS``) statements.

The markup is read by a small tolerant tokenizer rather than an XML library, because real OFX 1
files are SGML (leaf elements never closed, ``&`` unescaped, lower-case tags from some banks)
and OFX 2 files from banks are often not well-formed XML either. The tokenizer never expands
anything but the five predefined XML entities and numeric character references, and a file
that declares a DTD or entities (which OFX never needs) is refused outright, so entity-expansion
and external-entity attacks have nothing to work with. ``ofxtools`` was evaluated and not used:
it refuses header-less files, leaves ``&amp;`` escaped, silently mis-nests a missing end tag and
fails the whole file on one stray character, while we want one error row per bad record.

``row_number`` is the 1-based index of the transaction record in the file (the n-th
``STMTTRN``/``BUYSTOCK``/``INCOME``... in document order); ``raw`` holds the record's leaf
values keyed by their path inside it (``TRNAMT``, ``PAYEE/NAME``) and ``raw["line"]`` the
physical line where the record starts. Canonical dates are the ``YYYYMMDD`` part of
``DTPOSTED`` (bank and card) or ``DTTRADE`` (investments) as written, without time-zone
conversion.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from finance.imports.formats._common import (
    RecordError,
    check_row_limit,
    clean_text,
    currency_code,
    decode_text,
    fallback_currency,
    is_own_transfer,
    parse_amount,
    signed_type,
)
from finance.imports.types import (
    CanonicalRow,
    ImportOptions,
    ImportRejected,
    ParseResult,
    RowError,
)

# --- tokenizer ------------------------------------------------------------------------------

MAX_DEPTH = 200  # open elements at once; statements need about 10 (see _build_tree)

_TOKEN = re.compile(
    r"<(?:(/?)\s*([A-Za-z][\w.:-]*)[^<>]*?(/?)>"  # 1: end slash, 2: name, 3: self-closing
    r"|!\[CDATA\[(.*?)\]\]>"  # 4: CDATA text
    r"|!--.*?-->"  # comment
    r"|\?.*?\?>)"  # processing instruction (<?xml ...?>, <?OFX ...?>)
    r"([^<]*)",  # 5: the text after it, up to the next '<'
    re.DOTALL,
)
_DTD = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_XML_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)["']""", re.IGNORECASE)
_SGML_HEADER_LINE = re.compile(r"^\s*([A-Z]+)\s*:\s*(.*?)\s*$", re.MULTILINE)
_OFX_MARK = re.compile(r"<OFX[\s>]|OFXHEADER", re.IGNORECASE)


def _entity(m: re.Match[str]) -> str:
    if m.group(1):
        return _NAMED[m.group(1)]
    code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
    return chr(code) if 0 < code < 0x110000 else m.group(0)


def _clean_leaf(text: str) -> str:
    """Leaf text as meant: the predefined XML entities and character references resolved."""
    return (_ENTITY.sub(_entity, text) if "&" in text else text).strip()


class _Node:
    """An OFX aggregate. Its ``children`` are aggregates and leaves; a leaf is a plain
    ``(tag, text)`` tuple (most elements are leaves: tuples keep the tree cheap)."""

    __slots__ = ("children", "closed", "offset", "tag", "text")

    def __init__(self, tag: str, offset: int, text: str):
        self.tag = tag
        self.offset = offset  # in the decoded text, for the record's line number
        self.text = text
        self.children: list[_Node | tuple[str, str]] = []
        self.closed = False

    def find(self, tag: str) -> _Node | None:
        """The first child aggregate named ``tag``."""
        for child in self.children:
            if type(child) is _Node and child.tag == tag:
                return child
        return None

    def value(self, path: str) -> str | None:
        """Text of the leaf at ``path`` ("A/B"), ``None`` when absent or empty."""
        *parents, name = path.split("/")
        node: _Node | None = self
        for part in parents:
            node = node.find(part) if node is not None else None
        for child in node.children if node is not None else ():
            leaf = _as_leaf(child)
            if leaf is not None and leaf[0] == name:
                return _clean_leaf(leaf[1]) or None
        return None

    def iter(self, tags: frozenset[str], prune: frozenset[str] = frozenset()) -> Iterator[_Node]:
        """Descendant aggregates whose tag is in ``tags``, in document order.

        Does not descend into a match, nor into an element whose tag is in ``prune``.
        """
        stack = [c for c in reversed(self.children) if type(c) is _Node]
        while stack:
            node = stack.pop()
            if node.tag in tags:
                yield node
            elif node.tag not in prune:
                stack.extend(c for c in reversed(node.children) if type(c) is _Node)

    def flat(self, prefix: str = "", out: dict[str, str] | None = None) -> dict[str, str]:
        """Leaf values of this subtree keyed by path ("PAYEE/NAME"); the first of repeats."""
        out = {} if out is None else out
        for child in self.children:
            leaf = _as_leaf(child)
            if leaf is None:
                child.flat(f"{prefix}{child.tag}/", out)
            elif prefix + leaf[0] not in out:
                out[prefix + leaf[0]] = _clean_leaf(leaf[1])
        return out


def _as_leaf(child: _Node | tuple[str, str]) -> tuple[str, str] | None:
    """``(tag, text)`` of a leaf; ``None`` for an aggregate with children.

    An element read as an aggregate but left without children (``<MEMO></MEMO>``,
    ``<NAME><![CDATA[..]]></NAME>``) is a leaf too.
    """
    if type(child) is tuple:
        return child
    return None if child.children else (child.tag, child.text)


def _build_tree(text: str, start: int) -> _Node:
    """SGML-tolerant tree of ``text[start:]``.

    * A start tag followed by text is a leaf; it ends at the next tag whatever that is.
    * An end tag closes the innermost open element of that name. Elements it skips over were
      never closed: they were empty leaves (``<MEMO>`` with no value), so their children move
      up to their parent. An end tag with no open element of its name is ignored.
    * OFX aggregates never contain one of their own name, so a start tag whose name is already
      open closes that element first (a record that lost its end tag stays a record).
    * Whatever is open at the end of the text stays ``closed = False``: the file is truncated.
    * Nesting deeper than :data:`MAX_DEPTH` is refused: a statement nests about ten levels
      (a few more with empty SGML leaves), and each level costs every later tag a step.

    ``open_names`` counts the open elements by name, so a tag whose name is not open (most
    of them) is handled without walking the stack.
    """
    root = _Node("#root", start, "")
    stack = [root]
    open_names: dict[str, int] = {}
    top = root
    leaf = ""  # the tag of the leaf just read: its own end tag may follow, or a stray "<"
    pos = start
    for m in _TOKEN.finditer(text, start):
        at = m.start()
        if at != pos:  # a "<" that starts no tag belongs to the text before it
            _add_text(top, leaf, text[pos:at])
        pos = m.end()
        end, name, self_closing, cdata, tail = m.groups()
        if name is None:  # CDATA, comment or processing instruction
            _add_text(top, leaf, (cdata or "") + tail)
            continue
        name = name.upper()
        if end:
            if name != leaf and open_names.get(name):  # not just the </X> of <X>text
                top = _close_named(stack, open_names, name)
            leaf = ""
            continue
        if tail.strip():  # <X>text
            top.children.append((name, tail))
            leaf = name
            continue
        leaf = ""
        if open_names.get(name):
            top = _close_named(stack, open_names, name)
        if self_closing:
            top.children.append((name, ""))
        else:
            if len(stack) > MAX_DEPTH:
                raise ImportRejected(
                    f"The OFX file nests its elements more than {MAX_DEPTH} levels deep, "
                    "far more than any statement; it was refused as malformed.",
                    422,
                )
            node = _Node(name, at, tail)
            top.children.append(node)
            stack.append(node)
            open_names[name] = open_names.get(name, 0) + 1
            top = node
    return root


def _close_named(stack: list[_Node], open_names: dict[str, int], name: str) -> _Node:
    """Close the innermost open ``name`` and everything above it; the new top."""
    index = len(stack) - 1
    while stack[index].tag != name:
        index -= 1
    for node in stack[index:]:
        open_names[node.tag] -= 1
    _close_to(stack, index)
    return stack[-1]


def _add_text(top: _Node, leaf: str, text: str) -> None:
    """Text the tokenizer met outside a leaf's own tail: the leaf's, or an empty element's."""
    children = top.children
    if leaf and children and type(children[-1]) is tuple:
        children[-1] = (leaf, children[-1][1] + text)
    elif not children and top.tag != "#root":
        top.text += text


def _close_to(stack: list[_Node], index: int) -> None:
    while len(stack) - 1 > index:
        node = stack.pop()
        if node.children and not node.text.strip():
            # Never closed, so it was an empty leaf and these belong to its parent.
            siblings = stack[-1].children
            at = siblings.index(node)
            siblings[at : at + 1] = [(node.tag, ""), *node.children]
        node.closed = True
    stack.pop().closed = True


# --- header and decoding ------------------------------------------------------------------


def _declared_encoding(data: bytes) -> str | None:
    head = data[:4096]
    m = _XML_ENCODING.search(head)
    if m:
        name = m.group(1).decode("ascii")
        try:
            return codecs.lookup(name).name
        except LookupError:
            return name  # decode_text warns and falls back
    lt = head.find(b"<")
    header = dict(_SGML_HEADER_LINE.findall(head[: lt if lt >= 0 else None].decode("latin-1")))
    encoding = header.get("ENCODING", "").upper()
    charset = header.get("CHARSET", "").upper().replace("WINDOWS-", "").replace("CP", "")
    if encoding in ("UTF-8", "UTF8", "UNICODE"):
        return "utf-8"
    if charset in ("ISO-8859-1", "8859-1", "ISO8859-1", "LATIN1", "LATIN-1"):
        return "latin-1"
    if charset.isdigit():
        return f"cp{charset}"
    return None


def _decode(data: bytes, options: ImportOptions, warnings: list[str]) -> tuple[str, str]:
    declared = _declared_encoding(data)
    if declared and declared != "utf-8" and not options.encoding and not data.isascii():
        # Many banks keep "CHARSET:1252" in a header template and send UTF-8: valid UTF-8
        # with non-ASCII bytes is practically never meant as a single-byte code page.
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        else:
            warnings.append(f"The file declares {declared} but is UTF-8; read it as UTF-8.")
            return text, "utf-8"
    return decode_text(data, options, declared, warnings)


# --- records --------------------------------------------------------------------------------

_STATEMENTS = frozenset({"STMTRS", "CCSTMTRS", "INVSTMTRS"})
_STMTTRN = frozenset({"STMTTRN"})
_SECINFO = frozenset({"SECINFO"})
_STATUS = frozenset({"STATUS"})

# TRNTYPE -> kind (see _common.KIND_TYPES); everything else is plain cash.
_TRNTYPE_KIND = {
    "INT": "interest",
    "DIV": "dividend",
    "FEE": "fee",
    "SRVCHG": "fee",
    "XFER": "transfer",
}
# Generic types whose text may reveal a move between the holder's own accounts.
_REFINABLE = frozenset(
    {"CREDIT", "DEBIT", "DEP", "DIRECTDEP", "DIRECTDEBIT", "PAYMENT", "REPEATPMT", "OTHER", ""}
)
_CARD_PAYMENT = re.compile(r"\bpayment|\bpymt\b|\bpmt\b|thank\s+you|autopay", re.IGNORECASE)

_BUYS = frozenset({"BUYDEBT", "BUYMF", "BUYOPT", "BUYOTHER", "BUYSTOCK"})
_SELLS = frozenset({"SELLDEBT", "SELLMF", "SELLOPT", "SELLOTHER", "SELLSTOCK"})
_INCOME_KIND = {
    "DIV": "dividend",
    "CGLONG": "dividend",
    "CGSHORT": "dividend",
    "INTEREST": "interest",
}
_NOT_CASH = frozenset({"SPLIT", "CLOSUREOPT", "JRNLFUND", "JRNLSEC"})
_CASH_ONLY = frozenset({"INCOME", "INVEXPENSE", "MARGININTEREST", "RETOFCAP"})
_INV_RECORDS = _BUYS | _SELLS | _NOT_CASH | _CASH_ONLY | {"REINVEST", "TRANSFER", "INVBANKTRAN"}


@dataclass(slots=True)
class _Context:
    kind: str  # bank | card | invest
    currency: str | None
    securities: dict[str, tuple[str | None, str | None]]  # UNIQUEID -> (name, ticker)


class _Fields:
    """The leaf values of one record (its ``raw``), read below an optional prefix path."""

    __slots__ = ("prefix", "raw")

    def __init__(self, raw: dict[str, str], prefix: str = ""):
        self.raw, self.prefix = raw, prefix

    def get(self, key: str) -> str | None:
        return self.raw.get(self.prefix + key) or None

    def date(self, key: str) -> dt.date:
        value = self.get(key)
        if value is None:
            raise RecordError("missing", key, None, f"The record has no {key} date.")
        try:
            if not (value[:8].isascii() and value[:8].isdigit()):  # int() reads U+0663 too
                raise ValueError(value)
            return dt.date(int(value[0:4]), int(value[4:6]), int(value[6:8]))
        except ValueError:
            raise RecordError(
                "invalid",
                key,
                value,
                f"{key} '{value}' is not an OFX date (YYYYMMDD...).",
                "OFX dates start with YYYYMMDD, e.g. 20240131.",
            ) from None

    def optional_amount(self, key: str) -> Decimal | None:
        value = self.get(key)
        if value is None:
            return None
        try:
            # The OFX spec allows '.' or ',' as the decimal mark and no thousands separators.
            return parse_amount(value, "," if "," in value and "." not in value else ".")
        except ValueError:
            raise RecordError(
                "invalid",
                key,
                value,
                f"{key} '{value}' is not a number.",
                "Amounts are plain decimals such as -12.34.",
            ) from None

    def amount(self, key: str) -> Decimal:
        value = self.optional_amount(key)
        if value is None:
            raise RecordError("missing", key, None, f"The record has no {key} amount.")
        return value

    def charges(self, *keys: str) -> Decimal:
        total = Decimal(0)
        for key in keys:
            value = self.optional_amount(key)
            if value is not None:
                total += abs(value)
        return total

    def currency(self, ctx: _Context) -> str | None:
        # <CURRENCY> means the amounts are in that currency; <ORIGCURRENCY> means they were
        # already converted to CURDEF.
        return currency_code(self.get("CURRENCY/CURSYM")) or ctx.currency


def _bank_rows(f: _Fields, ctx: _Context, row_number: int) -> list[CanonicalRow]:
    trntype = (f.get("TRNTYPE") or "").upper()
    amount = f.amount("TRNAMT")
    name = clean_text(f.get("NAME") or f.get("PAYEE/NAME"))
    memo = clean_text(f.get("MEMO"))
    kind = _TRNTYPE_KIND.get(trntype, "cash")
    if ctx.kind == "invest":
        if kind == "transfer":
            kind = "cash"  # README: cash paid into / taken out of a brokerage account
    elif (
        ctx.kind == "card"
        and amount > 0
        and (trntype == "PAYMENT" or _CARD_PAYMENT.search(name or ""))
    ):
        kind = "transfer"  # the card bill, paid from the holder's current account
    elif kind == "cash" and trntype in _REFINABLE and is_own_transfer(name, memo):
        kind = "transfer"
    return [
        CanonicalRow(
            row_number=row_number,
            date=f.date("DTPOSTED"),
            transaction_type=signed_type(kind, amount),
            transaction_amount=amount,
            currency=f.currency(ctx),
            asset_name=name or memo,
            description=memo,
        )
    ]


def _invest_rows(rec: _Node, raw: dict, ctx: _Context, row_number: int) -> list[CanonicalRow]:
    """Rows for one INVTRANLIST record. Trade date is canonical (broker convention)."""
    tag = rec.tag
    if tag == "INVBANKTRAN":
        return _bank_rows(_Fields(raw, "STMTTRN/"), ctx, row_number)
    body = rec.find("INVBUY") or rec.find("INVSELL")
    f = _Fields(raw, f"{body.tag}/" if body is not None else "")
    uid = f.get("SECID/UNIQUEID")
    sec_name, ticker = ctx.securities.get(uid or "", (None, None))
    common = {
        "row_number": row_number,
        "date": f.date("INVTRAN/DTTRADE"),
        "currency": f.currency(ctx),
        "asset_name": sec_name or ticker or uid,
        "asset_symbol": ticker or uid,
        "description": clean_text(f.get("INVTRAN/MEMO")),
    }
    price = f.optional_amount("UNITPRICE")
    if tag in _CASH_ONLY:
        total = f.amount("TOTAL")
        if tag == "INCOME":
            kind = _INCOME_KIND.get((f.get("INCOMETYPE") or "").upper(), "cash")
        elif tag == "RETOFCAP":
            kind = "cash"
        else:  # INVEXPENSE, MARGININTEREST
            kind, total = "fee", -abs(total)
        return [
            CanonicalRow(
                transaction_type=signed_type(kind, total), transaction_amount=total, **common
            )
        ]
    units = f.amount("UNITS")
    volume = abs(units)
    if tag == "TRANSFER":  # units moved in or out, no cash
        action = (f.get("TFERACTION") or "").upper()
        incoming = action == "IN" if action else units >= 0
        return [
            CanonicalRow(
                transaction_type="TRANSFER_IN" if incoming else "TRANSFER_OUT",
                transaction_amount=Decimal(0),
                volume=volume,
                item_price=price,
                **common,
            )
        ]
    fee = f.charges("COMMISSION", "FEES", "LOAD")
    if tag == "REINVEST":
        # Income paid and at once spent on units: two rows whose cash effects cancel.
        kind = _INCOME_KIND.get((f.get("INCOMETYPE") or "").upper(), "dividend")
        cash = abs(f.amount("TOTAL"))
        return [
            CanonicalRow(
                transaction_type=signed_type(kind, cash), transaction_amount=cash, **common
            ),
            CanonicalRow(
                transaction_type="BUY",
                transaction_amount=-cash,
                volume=volume,
                item_price=price,
                fee=fee,
                **common,
            ),
        ]
    buy = tag in _BUYS
    total = f.optional_amount("TOTAL")
    if total is None:
        if price is None:
            raise RecordError(
                "missing",
                "TOTAL",
                None,
                "The trade has neither TOTAL nor UNITPRICE, so its cash effect is unknown.",
            )
        taxes = f.charges("TAXES")
        total = volume * price + fee + taxes if buy else volume * price - fee - taxes
    return [
        CanonicalRow(
            transaction_type="BUY" if buy else "SELL",
            transaction_amount=-abs(total) if buy else abs(total),
            volume=volume,
            item_price=price,
            fee=fee,
            **common,
        )
    ]


def _securities(root: _Node) -> dict[str, tuple[str | None, str | None]]:
    out: dict[str, tuple[str | None, str | None]] = {}
    for info in root.iter(_SECINFO, prune=_STATEMENTS):
        uid = info.value("SECID/UNIQUEID")
        if uid:
            out[uid] = (clean_text(info.value("SECNAME")), clean_text(info.value("TICKER")))
    return out


def _status_message(root: _Node) -> str:
    for status in root.iter(_STATUS):
        code = status.value("CODE")
        if code and code != "0":
            message = status.value("MESSAGE")
            return f" The bank's response says status {code}" + (
                f": {message}." if message else "."
            )
    return ""


def _statement_records(
    stmt: _Node, options: ImportOptions, securities: dict
) -> tuple[_Context, list[_Node]]:
    kind = {"CCSTMTRS": "card", "INVSTMTRS": "invest"}.get(stmt.tag, "bank")
    stated = currency_code(stmt.value("CURDEF"))
    ctx = _Context(kind, stated or fallback_currency(options), securities)
    if kind != "invest":
        return ctx, list(stmt.iter(_STMTTRN))
    tranlist = stmt.find("INVTRANLIST") or stmt
    return ctx, [r for r in tranlist.children if type(r) is _Node and r.tag in _INV_RECORDS]


def parse(data: bytes, options: ImportOptions) -> ParseResult:
    """Parse an OFX 1.x/2.x or QFX file (see the module docstring)."""
    warnings: list[str] = []
    text, encoding = _decode(data, options, warnings)
    if _DTD.search(text):
        raise ImportRejected(
            "The OFX file declares a DTD or entities, which OFX never uses; it was refused "
            "for safety.",
            422,
        )
    start = text.find("<")
    if start < 0 or not _OFX_MARK.search(text, 0, 65536):
        raise ImportRejected("The file is not an OFX statement: it has no OFX header or body.", 422)
    root = _build_tree(text, start)
    statements = list(root.iter(_STATEMENTS))
    if not statements and any(True for _ in root.iter(_STMTTRN)):
        statements = [root]  # transactions outside any statement aggregate: still use them
    if not statements:
        raise ImportRejected(
            "The OFX file contains no bank, credit-card or investment statement."
            + _status_message(root),
            422,
        )
    securities = _securities(root)

    rows: list[CanonicalRow] = []
    errors: list[RowError] = []
    currencies: list[str] = []
    skipped = count = 0
    line, counted = 1, 0  # physical line of text[counted]; records come in document order
    for stmt in statements:
        stated = currency_code(stmt.value("CURDEF"))
        if stated and stated not in currencies:
            currencies.append(stated)
        ctx, records = _statement_records(stmt, options, securities)
        for rec in records:
            if rec.tag in _NOT_CASH:
                skipped += 1
                continue
            count += 1
            check_row_limit(count, options)
            line += text.count("\n", counted, rec.offset)
            counted = rec.offset
            raw = rec.flat()
            raw["line"] = str(line)
            try:
                if not rec.closed:
                    raise RecordError(
                        "format",
                        rec.tag,
                        None,
                        "The file ends inside this transaction: it looks truncated.",
                        "Download the statement again from the bank.",
                    )
                if ctx.kind == "invest":
                    produced = _invest_rows(rec, raw, ctx, count)
                else:
                    produced = _bank_rows(_Fields(raw), ctx, count)
            except RecordError as err:
                errors.append(err.row_error(count, raw))
                continue
            for row in produced:
                row.raw = raw
            rows.extend(produced)
    if skipped:
        warnings.append(
            f"Skipped {skipped} investment record(s) without a cash effect "
            "(splits, option closures, journal moves)."
        )
    if len(currencies) > 1:
        warnings.append(
            "The file holds statements in several currencies: " + ", ".join(currencies) + "."
        )
    intu = root.value("OFX/SIGNONMSGSRSV1/SONRS/INTU.BID")
    return ParseResult(
        format="qfx" if intu else "ofx",
        rows=rows,
        errors=errors,
        total_rows=count,
        encoding=encoding,
        mapping_source="format",
        currency=currencies[0] if currencies else None,
        warnings=warnings,
    )
