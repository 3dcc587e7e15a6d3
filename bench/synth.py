"""Synthetic broker/bank statements for the import benchmark: CSV and XLSX, any row count.

The layout is what real exports look like: a three-line preamble (account holder, IBAN and
period, statement currency), a header row, the transaction rows (newest first), a blank line
and a closing-balance line the importer must stop at. The columns are

    Date;Type;Symbol;Description;Quantity;Price;Amount;Fee;Currency

with a mix of buys, sells, deposits, withdrawals, dividends, interest and fees over about six
years, 24 securities (ISINs), two currencies, signed amounts (cash out negative), and a
unique reference in every description so that no two rows de-duplicate.

Variants:

* ``eu`` — ``;``-delimited, ``31.12.2024`` dates, ``1.234,56`` numbers (German/Dutch banks);
* ``us`` — ``,``-delimited, ``2024-12-31`` dates, ``1,234.56`` numbers (quoted where needed);
* XLSX always stores real cell types (dates as dates, numbers as numbers), written with
  openpyxl's write-only mode so a 100k-row file costs little memory to make.

Everything is deterministic for a given ``(rows, seed)``.

    python bench/synth.py 10000 --format xlsx --out /tmp/st10k.xlsx
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

HEADER = ["Date", "Type", "Symbol", "Description", "Quantity", "Price", "Amount", "Fee", "Currency"]
PREAMBLE = [
    ["Account holder", "Jane Example"],
    ["IBAN", "DE89 3704 0044 0532 0130 00", "Period", "01.01.2019 - 31.12.2024"],
    ["Account currency", "EUR"],
]
SECURITIES = [
    ("US0378331005", "Apple Inc.", "USD", 180),
    ("US5949181045", "Microsoft Corp.", "USD", 410),
    ("US0231351067", "Amazon.com Inc.", "USD", 175),
    ("US67066G1040", "NVIDIA Corp.", "USD", 120),
    ("US02079K3059", "Alphabet Inc. A", "USD", 165),
    ("US88160R1014", "Tesla Inc.", "USD", 220),
    ("DE0007164600", "SAP SE", "EUR", 178),
    ("DE0007236101", "Siemens AG", "EUR", 172),
    ("DE0008404005", "Allianz SE", "EUR", 265),
    ("NL0010273215", "ASML Holding", "EUR", 875),
    ("FR0000121014", "LVMH", "EUR", 760),
    ("FR0000120271", "TotalEnergies SE", "EUR", 61),
    ("IE00B4L5Y983", "iShares Core MSCI World UCITS ETF", "EUR", 89),
    ("IE00B3RBWM25", "Vanguard FTSE All-World UCITS ETF", "EUR", 115),
    ("IE00BK5BQT80", "Vanguard FTSE All-World Acc", "EUR", 118),
    ("LU0274208692", "Xtrackers MSCI World Swap", "EUR", 95),
    ("IE00B5BMR087", "iShares Core S&P 500", "EUR", 510),
    ("IE00BKM4GZ66", "iShares Core MSCI EM IMI", "EUR", 32),
    ("DE000A0S9GB0", "Xetra-Gold", "EUR", 70),
    ("CH0038863350", "Nestle SA", "EUR", 98),
    ("GB0005405286", "HSBC Holdings", "EUR", 7),
    ("ES0113900J37", "Banco Santander", "EUR", 4),
    ("IT0003128367", "Enel SpA", "EUR", 6),
    ("DK0062498333", "Novo Nordisk B", "EUR", 120),
]
# (file label, canonical type, weight)
KINDS = [
    ("Buy", "BUY", 30),
    ("Sell", "SELL", 15),
    ("Deposit", "DEPOSIT", 15),
    ("Withdrawal", "WITHDRAWAL", 10),
    ("Dividend", "DIVIDEND", 15),
    ("Interest", "INTEREST", 7),
    ("Fee", "FEE", 8),
]
START = dt.date(2019, 1, 1)
DAYS = 6 * 365
CENT = Decimal("0.01")
PRICE_STEP = Decimal("0.0001")


@dataclass(slots=True)
class Row:
    date: dt.date
    kind: str  # file label
    symbol: str | None
    description: str
    quantity: Decimal | None
    price: Decimal | None
    amount: Decimal
    fee: Decimal
    currency: str


def rows(count: int, seed: int = 1) -> list[Row]:
    """``count`` statement rows, newest first, every description unique."""
    rng = random.Random(seed)
    labels = [label for label, _, _ in KINDS]
    weights = [weight for _, _, weight in KINDS]
    # Dates: spread over six years, newest first, several per day as in real exports.
    days = sorted((rng.randrange(DAYS) for _ in range(count)), reverse=True)
    out = []
    for index, (day, kind) in enumerate(
        zip(days, rng.choices(labels, weights, k=count), strict=True)
    ):
        date = START + dt.timedelta(days=day)
        reference = f"{seed:02d}{index:08d}"
        isin, name, currency, base = SECURITIES[rng.randrange(len(SECURITIES))]
        symbol = quantity = price = None
        fee = Decimal(0)
        if kind in ("Buy", "Sell"):
            symbol = isin
            quantity = Decimal(rng.randint(1, 400))
            price = (Decimal(base) * Decimal(rng.uniform(0.6, 1.6))).quantize(PRICE_STEP)
            fee = (Decimal("1.00") + quantity * price * Decimal("0.0005")).quantize(CENT)
            value = (quantity * price).quantize(CENT, ROUND_HALF_UP)
            amount = -value if kind == "Buy" else value
            description = f"{kind} {quantity} {name} order {reference}"
        elif kind == "Dividend":
            symbol = isin
            amount = Decimal(rng.randint(50, 250_00)) / 100
            description = f"Dividend {name} ex {date:%Y-%m-%d} ref {reference}"
        elif kind == "Deposit":
            currency = "EUR"
            amount = Decimal(rng.randint(100, 5_000_00)) / 100
            description = f"SEPA transfer from Jane Example ref {reference}"
        elif kind == "Withdrawal":
            currency = "EUR"
            amount = -Decimal(rng.randint(100, 2_000_00)) / 100
            description = f"Payout to DE89370400440532013000 ref {reference}"
        elif kind == "Interest":
            currency = "EUR"
            amount = Decimal(rng.randint(1, 90_00)) / 100
            description = f"Interest on cash balance ref {reference}"
        else:  # Fee
            currency = "EUR"
            amount = -Decimal(rng.randint(50, 25_00)) / 100
            description = f"Custody fee {date:%m/%Y} ref {reference}"
        out.append(Row(date, kind, symbol, description, quantity, price, amount, fee, currency))
    return out


def _eu_number(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{value:,.2f}" if value == value.quantize(CENT) else f"{value:,f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def _us_number(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{value:,.2f}" if value == value.quantize(CENT) else f"{value:,f}"


def _quantity(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def closing_balance(data: list[Row]) -> Decimal:
    return sum((row.amount - row.fee for row in data if row.currency == "EUR"), Decimal(0))


def csv_bytes(data: list[Row], variant: str = "eu") -> bytes:
    """The statement as CSV text (UTF-8): ``eu`` or ``us`` conventions, see the module doc."""
    if variant not in ("eu", "us"):
        raise ValueError(f"unknown variant {variant!r}")
    eu = variant == "eu"
    number = _eu_number if eu else _us_number
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if eu else ",", lineterminator="\r\n")
    writer.writerows(PREAMBLE)
    writer.writerow(HEADER)
    for row in data:
        writer.writerow(
            [
                row.date.strftime("%d.%m.%Y") if eu else row.date.isoformat(),
                row.kind,
                row.symbol or "",
                row.description,
                _quantity(row.quantity),
                number(row.price),
                number(row.amount),
                number(row.fee),
                row.currency,
            ]
        )
    writer.writerow([])
    writer.writerow(
        ["Closing balance", "", "", "", "", "", number(closing_balance(data)), "", "EUR"]
    )
    return out.getvalue().encode("utf-8")


def xlsx_bytes(data: list[Row]) -> bytes:
    """The statement as an XLSX workbook with typed cells (openpyxl write-only mode)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Transactions")
    for line in PREAMBLE:
        sheet.append(line)
    sheet.append(HEADER)
    for row in data:
        cell = WriteOnlyCell(sheet, value=row.date)
        cell.number_format = "DD.MM.YYYY"
        sheet.append(
            [
                cell,
                row.kind,
                row.symbol,
                row.description,
                None if row.quantity is None else int(row.quantity),
                None if row.price is None else float(row.price),
                float(row.amount),
                float(row.fee),
                row.currency,
            ]
        )
    sheet.append([])
    sheet.append(["Closing balance", None, None, None, None, None, float(closing_balance(data))])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def statement(count: int, fmt: str = "csv", variant: str = "eu", seed: int = 1) -> bytes:
    """A whole statement file of ``count`` transaction rows, as bytes."""
    data = rows(count, seed)
    return xlsx_bytes(data) if fmt == "xlsx" else csv_bytes(data, variant)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--variant", choices=("eu", "us"), default="eu")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.write_bytes(statement(args.rows, args.format, args.variant, args.seed))
    print(f"{args.out}: {args.out.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
