"""Deterministic column mapper: header words in nine languages, confirmed by the values.

Each column gets a score per canonical field: how well its header matches a
synonym (exact phrase, phrase inside a longer header, or a German-style
compound such as ``Buchungsdatum``), times how well its cells fit that field
(dates for a date, numbers for an amount, ISO codes for a currency). Columns
are then assigned greedily, best score first, so "Completed Date" beats
"Started Date" and "Total EUR" beats "Value EUR". The scores double as the
confidence a later cache/AI layer uses to decide whether to ask for help.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from finance.imports.values import (
    CURRENCY_SYMBOLS,
    ISO_CURRENCIES,
    looks_like_date,
    looks_like_number,
    make_date_parser,
)

FIELDS = (
    "date",
    "value_date",
    "transaction_type",
    "asset_name",
    "asset_symbol",
    "volume",
    "item_price",
    "transaction_amount",
    "transaction_amount_minor",
    "fee",
    "currency",
    "description",
    "memo",
    "counterparty",
    "payer",
    "payee",
    "debit",
    "credit",
    "dc_indicator",
    "balance",
    "ignore",
)
MULTI_FIELDS = frozenset({"fee"})
MIN_SCORE = 0.55

# "phrase" or "phrase:weight"; phrases are normalised like headers (accents folded).
_SYNONYMS = {
    "date": """date, transaction date, posting date, booking date, trade date, completed date,
        date completed, execution date, operation date, datetime:0.9, date time:0.9,
        timestamp:0.7, time:0.6, completed:0.7, booked:0.7, datum, buchungsdatum, buchungstag,
        buchung:0.8, transaktionsdatum, handelsdatum, ausfuhrungsdatum, schlusstag, date operation,
        date d operation, date de l operation, date comptable, date transaction, fecha,
        fecha operacion, fecha de operacion, fecha contable, fecha transaccion, data:0.9,
        data operazione, data contabile, data registrazione, boekdatum, transactiedatum,
        boekingsdatum, data operacji, data transakcji, data ksiegowania, data zlecenia,
        data movimento, data lancamento, data transacao, data da operacao, bokforingsdag,
        bokforingsdatum, transaktionsdag, affarsdag, transaktionsdatum""",
    "value_date": """value date, valuta:0.8, valutadatum, wertstellung, wertstellungsdatum,
        data valuta, fecha valor, date de valeur, date valeur, data waluty, data valor,
        valutadag, rentedatum, settlement date, settle date, started date:0.8, start date:0.8,
        started:0.8, date started:0.8, valuta datum""",
    "transaction_type": """type, transaction type, type of transaction, operation type,
        activity:0.8, action:0.8, side:0.8, buy sell, typ, umsatztyp, transaktionstyp,
        buchungstyp, buchungsart, umsatzart, transaktionsart, vorgang:0.8, geschaftsart,
        buchungstext:0.6, type d operation, type operation, nature:0.7, tipo, tipo operacion,
        tipo de operacion, tipo de movimiento, tipo movimento, tipo operazione, causale:0.7,
        mutatiesoort, soort:0.8, transactietype, typ transakcji, rodzaj, rodzaj transakcji,
        rodzaj operacji, typ operacji, tipo de transacao, tipo transacao, tipo de movimento,
        typ av transaktion, handelse:0.7, details:0.5""",
    "asset_name": """product, instrument, security, security name, security description, stock,
        asset, asset name, share:0.8, fund:0.8, wertpapier, wertpapiername,
        wertpapierbezeichnung, bezeichnung:0.7, titel:0.8, produkt, titre, libelle valeur,
        instrument financier, producto, activo, nombre del valor, titolo, strumento, prodotto,
        descrizione titolo, effect, fonds, fondsnaam, nazwa instrumentu, walor,
        papier wartosciowy, ativo, produto, titulo, vardepapper, fond""",
    "asset_symbol": """symbol, ticker, isin, ticker symbol, isin code, code isin, wkn,
        symbol isin, isin wkn, wkn isin, instrument code, security code, kod isin, simbolo,
        codigo isin, symbole, codice isin, kortnamn:0.8, code:0.4""",
    "volume": """quantity, qty, shares, units, volume, number of shares, amount of shares,
        nominal, anzahl, stuck, stueck, menge, nennwert:0.7, quantite, nombre de titres,
        nombre:0.6, cantidad, titulos, numero de titulos, participaciones, quantita,
        numero titoli, aantal, ilosc, liczba, liczba jednostek, quantidade, antal, volym""",
    "item_price": """price, unit price, share price, price per share, execution price,
        trade price, open price, kurs, preis, ausfuhrungskurs, cours, prix, prix unitaire,
        cours d execution, precio, precio unitario, cotizacion, prezzo, prezzo unitario, koers,
        prijs, cena, cena jednostkowa, preco, preco unitario, cotacao, pris""",
    "transaction_amount": """amount, transaction amount, net amount, total:0.95,
        total amount:0.95, net:0.9, value:0.75, betrag, umsatz, buchungsbetrag, gesamtbetrag,
        endbetrag, summe:0.8, montant, montant net, montant operation, importe, importe neto,
        importo, importo netto, bedrag, transactiebedrag, kwota, kwota transakcji,
        kwota operacji, wartosc:0.7, valor, montante, quantia, belopp, summa:0.8, net total,
        total value:0.9, proceeds:0.8, cash amount""",
    "transaction_amount_minor": """amount in cents, amount cents, cents, amount minor,
        minor units, amount in minor units, pence, amount in pence, betrag in cent,
        centimes, centavos, groszy""",
    "fee": """fee, fees, commission, commissions, brokerage, charges, charge, costs,
        transaction costs, transaction fee, transaction fees, autofx fee, fx fee, gebuhr,
        gebuhren, gebuehr, gebuehren, provision, entgelt, spesen, kosten:0.8, frais, courtage,
        comision, comisiones, gastos, commissione, commissioni, spese, costi,
        transactiekosten, prowizja, oplata, oplaty, taxa:0.8, comissao, corretagem, custos,
        avgift""",
    "currency": """currency, ccy, curr, currency code, cur, wahrung, waehrung, devise, monnaie,
        moneda, divisa, valuta:0.8, waluta, moeda""",
    "description": """description, transaction description, memo:0.8, narrative, purpose,
        payment details, payment reference, reference:0.6, remittance information, text:0.7,
        comment, comments, verwendungszweck, buchungstext:0.6, beschreibung, libelle,
        libelle operation, descriptif, motif, concepto, descripcion, observaciones,
        descrizione, causale:0.6, mededelingen, omschrijving, tytul, tytulem, opis,
        opis operacji, tytul operacji, descricao, historico, texto, beskrivning, meddelande""",
    "memo": """details:0.8, notes, note, notes tags, additional information, info:0.7, remarks,
        zusatzinfo, notizen, informacion adicional""",
    "counterparty": """counterparty, counter party, name:0.7, payee name, merchant,
        merchant name, other party, name zahlungsbeteiligter, zahlungsbeteiligter,
        beguenstigter auftraggeber, auftraggeber empfanger, tiers, contrepartie, nom:0.7,
        controparte, naam omschrijving, naam, tegenpartij, naam tegenpartij, kontrahent,
        nazwa kontrahenta, dane kontrahenta, nadawca odbiorca, contraparte, motpart""",
    "payer": """payer, zahlungspflichtige, zahlungspflichtiger, auftraggeber:0.8,
        ordenante:0.8, ordinante:0.8, nadawca:0.8, remitter, debtor, donneur d ordre""",
    "payee": """payee, zahlungsempfanger, empfanger, beguenstigter:0.8, beneficiary:0.8,
        beneficiaire:0.8, beneficiario:0.8, odbiorca:0.8, recipient:0.8, creditor""",
    "debit": """debit, debits, debit amount, money out, paid out, withdrawals:0.8, outflow,
        outgoing, spent, soll, ausgaben, belastung, debet, uitgaven, afschrijving, debito,
        cargo, cargos, debe, uscite, addebiti, addebito, dare, obciazenia, wyplywy, winien,
        wydatki, saidas, saida, uttag:0.8, utgifter""",
    "credit": """credit, credits, credit amount, money in, paid in, deposits:0.8, inflow,
        incoming, received, haben, einnahmen, gutschrift, bijschrijving, inkomsten, credito,
        abono, abonos, haber, ingresos, entrate, accrediti, accredito, avere, uznania, wplywy,
        entradas, entrada, insattning:0.8, inkomster""",
    "dc_indicator": """af bij, bij af, debit credit, credit debit, d c, c d, dr cr, cr dr,
        soll haben, s h, debit credit indicator, cd indicator, credit debit indicator,
        sign:0.8, direction:0.8, in out, sens, signe, dc, debet credit, kennzeichen:0.6""",
    "balance": """balance, running balance, saldo, saldo na mutatie, kontostand, solde,
        saldo disponible, saldo contabile, saldo po operacji, saldo po transakcji, balans,
        available balance, closing balance, saldo efter""",
}
# Words that turn a match into a different column ("Local amount", "Value date").
_NEGATIVE = {
    "date": ("value", "valuta", "wertstellung", "settle", "start", "rentedatum", "due"),
    "transaction_amount": (
        "local",
        "original",
        "orig",
        "balance",
        "saldo",
        "fee",
        "commission",
        "price",
        "rate",
        "date",
        "datum",
        "foreign",
        "exchange",
        "tax",
    ),
    "item_price": ("exchange", "fx", "market"),
    "currency": ("local", "original", "orig", "foreign"),
}
# Full-text description beats the short booking text next to it (Fineco's Descrizione_Completa).
_FULL_TEXT = frozenset(
    {"full", "complete", "completa", "completo", "extended", "long", "vollstandig", "komplett"}
)
# English words end other words by accident ("transaction" ends in "action"): no compounds.
_NOT_STEMS = frozenset(
    {
        "action",
        "side",
        "date",
        "time",
        "type",
        "name",
        "note",
        "notes",
        "text",
        "total",
        "value",
        "price",
        "data",
        "info",
        "code",
    }
)
_STOPWORDS = frozenset({"and", "or", "of", "the", "for", "by", "per", "no", "nr"})
# Amount headers that say the fee is already inside the amount.
NET_WORDS = frozenset(
    {"total", "net", "netto", "totaal", "gesamtbetrag", "endbetrag", "proceeds", "neto", "totale"}
)
_DEBIT_WORDS = "af d dr db debit s soll - out debet obciazenie debito cargo ausgang uscita"
_CREDIT_WORDS = "bij c cr credit h haben + in uznanie credito abono eingang entrata"
DC_SIGNS = dict.fromkeys(_DEBIT_WORDS.split(), -1) | dict.fromkeys(_CREDIT_WORDS.split(), 1)
_ISIN = re.compile(r"[A-Z]{2}[A-Z0-9]{9}\d")
_TICKER = re.compile(r"(?=.*[A-Z])[A-Z0-9][A-Z0-9.\-:/]{0,14}")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# ISO codes that are also English words in upper-case headers ("TOP UP", "ALL").
_WORD_LIKE_CODES = frozenset({"ALL", "BOB", "CUP", "GEL", "MAD", "MOP", "PEN", "SOS", "TOP", "TRY"})
_HEADER_CCY = re.compile(
    r"\b(?:"
    + "|".join(sorted(ISO_CURRENCIES - _WORD_LIKE_CODES))
    + r")\b|"
    + "|".join(re.escape(s) for s in CURRENCY_SYMBOLS if not s[0].isalpha())
    + "|\uff04"  # a label's leading "$" is stored as U+FF04 (see table.safe_label)
)


@dataclass(slots=True)
class MappingResult:
    """Column label → canonical field, overall confidence, and confidence per mapped column."""

    mapping: dict[str, str]
    confidence: float
    per_column: dict[str, float] = field(default_factory=dict)


def fold(text: str) -> str:
    """Lower-case ASCII without accents: ``Zahlungsempfänger`` → ``zahlungsempfanger``."""
    if text.isascii():
        return text.lower()
    text = text.replace("ß", "ss").replace("ł", "l").replace("Ł", "L")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


@lru_cache(maxsize=4096)
def header_words(header: str) -> tuple[str, ...]:
    """The meaningful words of a header cell, currency codes and punctuation removed."""
    text = _HEADER_CCY.sub(" ", header)
    return tuple(w for w in _NON_WORD.split(fold(text)) if w and w not in _STOPWORDS)


def header_currency(header: str) -> str | None:
    """The currency a header names (``Betrag (€)``, ``Total EUR``), if any."""
    match = _HEADER_CCY.search(header)
    if not match:
        return None
    return CURRENCY_SYMBOLS.get(match.group().replace("\uff04", "$"), match.group())


def _parse_synonyms() -> dict[str, tuple[tuple[tuple[str, ...], float], ...]]:
    table = {}
    for name, text in _SYNONYMS.items():
        entries = []
        for item in text.split(","):
            phrase, _, weight = item.strip().partition(":")
            entries.append((header_words(phrase), float(weight or 1)))
        table[name] = tuple(entries)
    return table


SYNONYMS = _parse_synonyms()
# Indexes so scoring a cell costs a few dict look-ups, not a pass over every synonym:
# phrases by their first word, and single-word synonyms (4+ letters) as compound stems.
_BY_FIRST_WORD: dict[str, list[tuple[str, tuple[str, ...], float]]] = {}
_STEMS: dict[str, list[tuple[str, float]]] = {}
for _name, _entries in SYNONYMS.items():
    for _phrase, _weight in _entries:
        _BY_FIRST_WORD.setdefault(_phrase[0], []).append((_name, _phrase, _weight))
        if len(_phrase) == 1 and len(_phrase[0]) >= 4 and _phrase[0] not in _NOT_STEMS:
            _STEMS.setdefault(_phrase[0], []).append((_name, _weight))


@lru_cache(maxsize=4096)
def header_scores(header: str) -> dict[str, float]:
    """Score of a header cell for every field it could name (header words only).

    An exact synonym scores 1, a synonym inside a longer header a little less
    per extra word, a compound (``Buchungsdatum`` ends in ``datum``) 0.7,
    each times the synonym's weight; negative words cut the score.
    """
    words = header_words(header)
    if not words or len(words) > 8:
        return {}
    scores: dict[str, float] = {}

    def offer(name: str, score: float) -> None:
        if score > scores.get(name, 0.0):
            scores[name] = score

    for i, word in enumerate(words):
        for name, phrase, weight in _BY_FIRST_WORD.get(word, ()):
            if words[i : i + len(phrase)] == phrase:
                extra = len(words) - len(phrase)
                offer(name, weight * (1.0 if not extra else max(0.85 - 0.03 * extra, 0.6)))
        for k in range(4, len(word)):
            for name, weight in _STEMS.get(word[-k:], ()):
                offer(name, 0.7 * weight)
            if k >= 5:
                for name, weight in _STEMS.get(word[:k], ()):
                    offer(name, 0.7 * weight)
    for name in scores:
        if any(neg in word for neg in _NEGATIVE.get(name, ()) for word in words):
            scores[name] *= 0.3
    if "description" in scores and _FULL_TEXT.intersection(words):
        scores["description"] *= 1.25
    return scores


def known_header_cells(cells: Sequence[Any]) -> int:
    """How many cells read as a column name we know (used to find the header row)."""
    return sum(
        1
        for cell in cells
        if type(cell) is str and max(header_scores(cell).values(), default=0) >= 0.7
    )


#: Filled cells per column that decide what the column holds: enough to tell dates, numbers,
#: codes and text apart; a sparse column is still read down the whole sample to find them.
PROFILE_CELLS = 100


@dataclass(slots=True)
class _Profile:
    filled: int = 0
    dates: int = 0
    numbers: int = 0
    isos: int = 0
    symbols: int = 0
    dc: int = 0
    distinct: set[str] = field(default_factory=set)


def _profile(values: Sequence[Any], is_date: Callable[[Any], bool]) -> _Profile:
    """What a column's filled cells look like, from at most :data:`PROFILE_CELLS` of them
    (the date order and decimal mark are decided from the whole sample elsewhere)."""
    p = _Profile()
    for value in values:
        if value is None or value == "":
            continue
        if p.filled == PROFILE_CELLS:
            break
        p.filled += 1
        if isinstance(value, int | float) and not isinstance(value, bool):
            p.numbers += 1
            continue
        text = value.strip() if type(value) is str else str(value)
        p.distinct.add(text)
        if is_date(value):
            p.dates += 1
        elif looks_like_number(text):
            p.numbers += 1
        size = len(text)
        if size == 3 and text.upper() in ISO_CURRENCIES:
            p.isos += 1
        # An ISIN is 12 characters and a ticker at most 15: longer text is tried by neither.
        if size <= 15 and (_ISIN.fullmatch(text) or _TICKER.fullmatch(text)):
            p.symbols += 1
        if fold(text) in DC_SIGNS:
            p.dc += 1
    return p


_NUMERIC = frozenset(
    {
        "volume",
        "item_price",
        "transaction_amount",
        "transaction_amount_minor",
        "fee",
        "debit",
        "credit",
        "balance",
    }
)
_SPARSE_OK = frozenset({"fee", "debit", "credit", "asset_symbol", "description", "memo"})
_NAMES = frozenset({"asset_name", "counterparty", "payer", "payee"})


def _mostly(share: float) -> float:
    """A few bad cells lower the confidence; a column that mostly does not fit is vetoed."""
    if share >= 0.8:
        return 1.0
    return 0.75 if share >= 0.5 else 0.1


def _fit(name: str, p: _Profile) -> float:
    """How well a column's cells fit a field (1 = perfectly, 0.1 = not at all)."""
    if not p.filled:
        return 0.8 if name in _SPARSE_OK else 0.3
    share = {"dates": p.dates / p.filled, "numbers": p.numbers / p.filled}
    if name in ("date", "value_date"):
        return _mostly(share["dates"])
    if name in _NUMERIC:
        return _mostly(share["numbers"])
    if name == "currency":
        return 1.0 if p.isos / p.filled >= 0.8 else 0.2
    if name == "dc_indicator":
        return 1.0 if p.dc / p.filled >= 0.9 else 0.1
    if name == "asset_symbol":
        return 1.0 if p.symbols / p.filled >= 0.6 else 0.3
    if share["numbers"] >= 0.8 or share["dates"] >= 0.8:
        return 0.2
    if name in _NAMES and len(p.distinct) == 1 and p.filled >= 5:
        return 0.5  # the same name on every row names the account, not the row
    if name == "memo" and p.filled >= 8 and len(p.distinct) <= 0.35 * p.filled:
        return 0.5  # a handful of repeated codes (Chase's DEBIT/CREDIT) is not a memo
    return 1.0


def heuristic_mapping(
    header: Sequence[str], sample_rows: Sequence[Sequence[Any]], *, date_format: str | None = None
) -> MappingResult:
    """Map each column label to a canonical field from its header words and sample values.

    ``date_format`` (the caller's strptime pattern) decides what counts as a date cell.
    """
    is_date = looks_like_date if not date_format else _format_test(date_format)
    columns = list(zip(*[_padded(row, len(header)) for row in sample_rows], strict=True)) or [
        () for _ in header
    ]
    candidates: list[tuple[float, int, str]] = []
    for index, label in enumerate(header):
        profile = _profile(columns[index], is_date)
        scores = header_scores(label)
        if not scores and profile.filled and profile.dc == profile.filled:
            scores = {"dc_indicator": 0.6}
        for name, score in scores.items():
            candidates.append((score * _fit(name, profile), index, name))
            if name == "description":
                candidates.append((score * 0.9 * _fit("memo", profile), index, "memo"))
    candidates.sort(key=lambda c: (-c[0], c[1]))
    mapping: dict[str, str] = {}
    per_column: dict[str, float] = {}
    taken: set[str] = set()
    for score, index, name in candidates:
        label = header[index]
        if score < MIN_SCORE or label in mapping or (name in taken and name not in MULTI_FIELDS):
            continue
        mapping[label] = name
        per_column[label] = round(min(score, 1.0), 3)
        taken.add(name)
    _prefer_security_name(mapping, header)
    return MappingResult(mapping, overall_confidence(mapping, per_column), per_column)


def _format_test(fmt: str) -> Callable[[Any], bool]:
    parse = make_date_parser(fmt=fmt)

    def is_date(cell: Any) -> bool:
        try:
            return parse(cell) is not None
        except ValueError:
            return False

    return is_date


def _padded(row: Sequence[Any], width: int) -> list[Any]:
    cells = list(row[:width])
    return cells + [""] * (width - len(cells))


def _prefer_security_name(mapping: dict[str, str], header: Sequence[str]) -> None:
    """A bare "Name" is the merchant on a bank statement but the security on a broker's."""
    fields = set(mapping.values())
    if "asset_name" in fields or not fields & {"volume", "item_price"}:
        return
    for label in header:
        if mapping.get(label) == "counterparty" and header_words(label) in (("name",), ("nom",)):
            mapping[label] = "asset_name"


def overall_confidence(mapping: dict[str, str], per_column: dict[str, float]) -> float:
    """0 without a date and an amount; else weighted towards the weakest essential column."""
    by_field: dict[str, float] = {}
    for label, name in mapping.items():
        by_field[name] = max(by_field.get(name, 0.0), per_column.get(label, 1.0))
    split = [by_field[name] for name in ("debit", "credit") if name in by_field]
    amount = max(
        by_field.get("transaction_amount", 0.0),
        by_field.get("transaction_amount_minor", 0.0),
        min(split, default=0.0),
    )
    essential = min(by_field.get("date", 0.0), amount)
    if not essential:
        return 0.0
    mean = sum(per_column.values()) / len(per_column)
    return round(0.6 * essential + 0.4 * mean, 3)


def header_signature(header: Sequence[str], fmt: str, delimiter: str | None) -> str:
    """Stable key of a layout for the mapping cache: same columns + format → same key."""
    cells = [" ".join(header_words(cell)) or fold(cell).strip() for cell in header]
    payload = json.dumps([cells, fmt, delimiter or ""], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()
