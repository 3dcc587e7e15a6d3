"""classify(): a table of real-world instrument names, symbols and ISINs."""

import pytest

from finance.assets.classify import classify
from finance.assets.models import ASSET_TYPES

CASES = [
    # crypto: symbols, pairs, names
    ("Bitcoin", "BTC", None, "crypto"),
    ("BTC", None, None, "crypto"),
    ("eth", None, None, "crypto"),
    (None, "BTC-EUR", None, "crypto"),
    (None, "btc/usd", None, "crypto"),
    ("ETH/USDT", None, None, "crypto"),
    ("Solana", None, None, "crypto"),
    ("Cardano", "ADA", None, "crypto"),
    ("Dogecoin", None, None, "crypto"),
    ("USD Coin", "USDC", None, "crypto"),
    ("21Shares Bitcoin ETP", None, "CH0454664001", "crypto"),
    # cash
    ("EUR", None, None, "cash"),
    (None, "usd", None, "cash"),
    ("EUR/USD", None, None, "cash"),
    ("Cash", None, None, "cash"),
    ("EUR Cash", None, None, "cash"),
    # ETFs: the wrapper wins over what it holds
    ("iShares Core MSCI World UCITS ETF", "EUNL", "IE00B4L5Y983", "etf"),
    ("Vanguard FTSE All-World UCITS ETF", "VWRL", "IE00B3RBWM25", "etf"),
    ("SPDR S&P 500 ETF Trust", "SPY", "US78462F1030", "etf"),
    ("Xtrackers MSCI Emerging Markets", None, None, "etf"),
    ("Lyxor Core STOXX Europe 600", None, None, "etf"),
    ("iShares Core Euro Govt Bond UCITS ETF", None, None, "etf"),
    ("Vanguard Real Estate ETF", "VNQ", None, "etf"),
    ("iShares Physical Gold ETC", None, None, "etf"),
    # funds
    ("Vanguard LifeStrategy 60% Equity", None, None, "fund"),
    ("Vanguard 500 Index Fund Admiral Shares", "VFIAX", None, "fund"),
    ("Amundi Funds Global Equity", None, None, "fund"),
    ("DWS Top Dividende Fonds", None, None, "fund"),
    ("Deka-ImmobilienEuropa Immobilienfonds", None, None, "fund"),
    ("Fondo Pensione Azionario", None, None, "fund"),
    ("Carmignac Patrimoine SICAV", None, None, "fund"),
    ("Fundsmith Equity OEIC", None, None, "fund"),
    # bonds
    ("US Treasury Bond 2034", None, None, "bond"),
    ("Bundesrep.Deutschland Anl.v.2020(2030)", None, "DE0001102507", "bond"),
    ("Deutsche Telekom 2.5% 2030", None, None, "bond"),
    ("Siemens Finan. 1,75 % 15.02.2030", None, None, "bond"),
    ("BTP Italia 2028", None, None, "bond"),
    ("Obligation EDF 2031", None, None, "bond"),
    ("Unternehmensanleihe Porsche", None, None, "bond"),
    ("UK Gilt 2027", None, None, "bond"),
    ("Eurobond Volkswagen", None, None, "bond"),
    ("Volkswagen Intl Fin", None, "XS1048428012", "bond"),
    # real estate
    ("Realty Income REIT", "O", None, "real_estate"),
    ("Real Estate Portfolio Berlin", None, None, "real_estate"),
    ("Immobilien Ferienwohnung", None, None, "real_estate"),
    # commodities
    ("Gold", None, None, "commodity"),
    ("Silver bullion", None, None, "commodity"),
    (None, "XAU", None, "commodity"),
    ("XAG", None, None, "commodity"),
    ("Brent Crude Oil", None, None, "commodity"),
    # stocks: company names, tickers, ISINs (a company suffix beats a commodity word)
    ("Apple Inc.", "AAPL", "US0378331005", "stock"),
    ("Goldman Sachs Group Inc", "GS", None, "stock"),
    ("Gold Fields Ltd", None, None, "stock"),
    ("Shell plc", None, None, "stock"),
    ("SAP SE", None, None, "stock"),
    ("Siemens AG", None, None, "stock"),
    ("TAG Immobilien AG", None, None, "stock"),
    ("ASML Holding N.V.", None, None, "stock"),
    (None, "MSFT", None, "stock"),
    (None, "VOW3.DE", None, "stock"),
    ("TSLA", None, None, "stock"),
    ("Allianz", None, "DE0008404005", "stock"),
    # nothing to go on
    ("Ferienwohnung am See", None, None, "other"),
    ("something custom", None, None, "other"),
    (None, None, None, "other"),
    ("", "", "", "other"),
]


@pytest.mark.parametrize(("name", "symbol", "isin", "expected"), CASES)
def test_classify_table(name, symbol, isin, expected):
    assert classify(name, symbol, isin) == expected


def test_every_result_is_a_stored_asset_type():
    assert {expected for *_, expected in CASES} == set(ASSET_TYPES)


def test_whitespace_and_case_do_not_matter():
    assert classify("  ishares   CORE msci world  ") == "etf"
    assert classify(None, "  btc-eur ") == "crypto"
