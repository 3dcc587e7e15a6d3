"""Guess an asset's type from its name, symbol and ISIN — pure, fast, no I/O.

Used when an importer (or a client) names an instrument without saying what it
is. The rules run in a fixed order, first match wins:

1. the symbol (or a name that *is* a symbol) is a known crypto coin or a coin pair
   (``BTC``, ``BTC-EUR``, ``ETH/USD``) → ``crypto``;
   a plain currency code or a fiat pair (``EUR``, ``EUR/USD``, "Cash") → ``cash``;
2. a fund wrapper in the name → ``etf`` (ETF, iShares, SPDR, Xtrackers, Lyxor...) or
   ``fund`` (Fund, Fonds, Fondo, SICAV, OEIC, Index Fund, and Vanguard/Amundi/UCITS
   when the name does not say ETF). The wrapper wins over what it holds:
   "iShares Core Euro Govt Bond UCITS ETF" is an ``etf``, not a ``bond``;
3. a coin's name (Bitcoin, Ethereum, ...) → ``crypto`` (so a "Bitcoin ETP" is crypto);
4. bond words (Bond, Anleihe, Obligation, Treasury, Bund, BTP, Gilt) or a coupon with a
   maturity ("2.5% 2030"), or an ``XS``/``EU`` ISIN → ``bond``;
5. ``REIT`` → ``real_estate``;
6. a company suffix (Inc, Corp, AG, SE, plc, N.V. ...) → ``stock`` — so "Gold Fields Ltd"
   and "TAG Immobilien AG" are shares, not gold or a building;
7. commodity words (Gold, Silver, XAU, XAG, Oil, Brent, WTI, ...) → ``commodity``;
8. Real Estate / Immobilien → ``real_estate``;
9. an ISIN, or a symbol / name that looks like an exchange ticker → ``stock``;
10. otherwise ``other``.
"""

from __future__ import annotations

import re
from functools import lru_cache


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


CRYPTO_SYMBOLS = _codes(
    """BTC XBT ETH SOL ADA XRP DOGE DOT LTC USDT USDC BNB AVAX MATIC POL LINK TRX SHIB TON XLM
    BCH ATOM UNI ETC XMR ALGO NEAR APT ARB OP FIL ICP VET HBAR EOS XTZ AAVE DAI BUSD SUI PEPE
    CRO SAND MANA EGLD KAS"""
)
FIAT_CODES = _codes(
    """EUR USD GBP CHF JPY CAD AUD NZD SEK NOK DKK PLN CZK HUF RON BGN TRY CNY HKD SGD INR BRL
    MXN ZAR KRW ILS"""
)
_QUOTES = CRYPTO_SYMBOLS | FIAT_CODES

_PAIR = re.compile(r"^([A-Z0-9]{2,6})\s*[-/:_ ]\s*([A-Z0-9]{2,6})$")
_CASH_NAME = re.compile(r"^(?:cash|bargeld|[A-Za-z]{3}\s+cash|cash\s+[A-Za-z]{3})$", re.I)

_ETF = re.compile(r"\b(?:ETFs?|iShares|SPDR|Xtrackers|db\s?x-trackers|Lyxor|WisdomTree)\b", re.I)
_FUND = re.compile(
    r"(?:\bindex\s+fund\b|\bfunds?\b|fonds\b|\bfondo\b|\bSICAV\b|\bOEIC\b|\bUCITS\b"
    r"|\bVanguard\b|\bAmundi\b|\bmutual\s+fund\b|\binvestment\s+trust\b)",
    re.I,
)
_CRYPTO_NAME = re.compile(
    r"\b(?:bitcoin|ethereum|ether|solana|cardano|ripple|dogecoin|polkadot|litecoin|tether"
    r"|usd\s+coin|binance\s+coin|avalanche|chainlink|stellar|tron|shiba\s+inu|crypto)\b",
    re.I,
)
_BOND = re.compile(
    r"(?:bonds?\b|anleihe|\banl\.|\bobligation|\btreasur(?:y|ies)\b|\bT-?Bills?\b|\bbunds?\b"
    r"|bundesanleihe|bundesobligation|bundesschatz|\bBTPS?\b|\bOATs?\b|\bgilts?\b"
    r"|\bnotes?\s+due\b|\bdebentures?\b|\bpfandbrief)",
    re.I,
)
# A coupon followed by a maturity: "2.5% 2030", "1,75 % 15.02.2030", "0.5% 20/30", "3% 2030-01-15".
_COUPON = re.compile(
    r"\d{1,2}(?:[.,]\d{1,4})?\s?%\s*(?:v\.?\s*)?"
    r"(?:(?:\d{1,2}[./-]){0,2}(?:19|20)\d{2}\b|\d{2}/\d{2}\b|(?:19|20)\d{2}-\d{2}-\d{2})"
)
_REIT = re.compile(r"\bREITs?\b", re.I)
_REAL_ESTATE = re.compile(r"(?:\breal\s+estate\b|immobilien|\bproperty\s+trust\b)", re.I)
_COMPANY = re.compile(
    r"(?:\b(?:inc|corp|corporation|ltd|limited|plc|ag|se|sa|nv|n\.v|s\.a|s\.p\.a|spa|co|company"
    r"|holdings?|group|gmbh|kgaa|oyj|asa|ab)\.?$|\b(?:inc|corp|ltd|plc|ag|kgaa)\b\.?)",
    re.I,
)
_COMMODITY = re.compile(
    r"\b(?:gold|silver|platinum|palladium|copper|XAU|XAG|XPT|XPD|oil|crude|brent|WTI"
    r"|natural\s+gas|commodit(?:y|ies))\b",
    re.I,
)
_TICKER = re.compile(r"^[A-Z][A-Z0-9]{0,5}(?:[.:\-][A-Z0-9]{1,4})?$")
_ISIN = re.compile(r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")


def _clean(value: str | None) -> str:
    return " ".join(value.split()) if value else ""


def _symbol_type(token: str) -> str | None:
    """``crypto``/``cash`` for a coin, a currency or a pair of them; else ``None``."""
    token = token.upper()
    if token in CRYPTO_SYMBOLS:
        return "crypto"
    if token in FIAT_CODES:
        return "cash"
    pair = _PAIR.match(token)
    if pair:
        base, quote = pair.groups()
        if base in CRYPTO_SYMBOLS and quote in _QUOTES:
            return "crypto"
        if base in FIAT_CODES and quote in FIAT_CODES:
            return "cash"
    return None


@lru_cache(maxsize=4096)
def classify(name: str | None, symbol: str | None = None, isin: str | None = None) -> str:
    """One of ``ASSET_TYPES`` for an instrument, from whatever of the three is known."""
    name = _clean(name)
    symbol = _clean(symbol).upper()
    isin = _clean(isin).upper()

    for token in (symbol, name):
        if token and len(token) <= 13:
            kind = _symbol_type(token)
            if kind:
                return kind
    if name and _CASH_NAME.match(name):
        return "cash"
    if name:
        if _ETF.search(name):
            return "etf"
        if _FUND.search(name):
            return "fund"
        if _CRYPTO_NAME.search(name):
            return "crypto"
        if _BOND.search(name) or _COUPON.search(name):
            return "bond"
    if isin.startswith(("XS", "EU")):
        return "bond"
    if name:
        if _REIT.search(name):
            return "real_estate"
        if _COMPANY.search(name):
            return "stock"
        if _COMMODITY.search(name):
            return "commodity"
        if _REAL_ESTATE.search(name):
            return "real_estate"
    if symbol and _COMMODITY.fullmatch(symbol):
        return "commodity"
    if isin and _ISIN.match(isin):
        return "stock"
    if symbol and _TICKER.match(symbol):
        return "stock"
    if name and _TICKER.match(name):
        return "stock"
    return "other"
