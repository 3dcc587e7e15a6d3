"""The hostile-file corpus: files built at test time, each with the outcome it must have.

Nothing here is committed as a binary blob: every file is generated from a few lines of
code (random bytes from a fixed seed, workbooks written with openpyxl, a tiny BIFF8 workbook
written by hand, zip archives assembled with :mod:`zipfile`), so the corpus is reviewable and
reproducible. :func:`write_corpus` writes it to a directory; :func:`big_single_line_csv`
streams the 50 MB file to disk without ever holding it as one string.

Every case says what the import must do with the file:

* :class:`Reject` — the whole file refused with this HTTP status and a ``detail`` sentence
  matching a pattern (nothing stored);
* :class:`Partial` — the good rows become transactions and each bad row an error row with
  the given field and value (never an exception).

Look-alike digits (Arabic-Indic U+0663, fullwidth U+FF11, mathematical bold U+1D7CF) are
**rejected as invalid numbers and dates** (error rows), never read as the digits they
resemble: a statement writes amounts with ASCII digits, and a value that merely displays as
``100`` must not be booked as 100 without anyone deciding so. Python's ``Decimal()``,
``int()`` and the regex ``\\d`` all accept these characters, which is why the values parser
is checked explicitly here.
"""

from __future__ import annotations

import codecs
import io
import random
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# --- expected outcomes ----------------------------------------------------------------------


@dataclass(frozen=True)
class Reject:
    """The file is refused: ``ImportRejected(status)`` / an HTTP ``status`` with ``detail``."""

    status: int
    detail: str  # regular expression searched in the detail sentence


@dataclass(frozen=True)
class Bad:
    """One expected error row."""

    row: int
    field: str
    value: str | None
    kind: str = "format"


@dataclass(frozen=True)
class Partial:
    """Some rows import, the listed ones become error rows (when ``failed`` is given, that
    many error rows, of which ``errors`` lists the first)."""

    imported: int
    errors: tuple[Bad, ...] = ()
    failed: int | None = None
    # Descriptions that must come through exactly as text (formula-looking values).
    descriptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    name: str  # file name in the corpus, with the extension a user would upload
    build: Callable[[], bytes]
    expect: Reject | Partial
    what: str
    api: bool = False  # also uploaded through the API (the representative subset)
    options: dict = field(default_factory=dict)  # ImportOptions for the pipeline run

    @property
    def id(self) -> str:
        return self.name


# --- building blocks ------------------------------------------------------------------------

HEADER = "Date,Description,Amount,Currency"
GOOD = ("2024-01-02,Salary,2500.00,EUR", "2024-01-03,Rent,-900.00,EUR")


def _digits(zero: int) -> Callable[[str], str]:
    """Text with its ASCII digits replaced by the digits of another script."""
    table = str.maketrans({str(d): chr(zero + d) for d in range(10)})
    return lambda text: text.translate(table)


ARABIC = _digits(0x0660)  # Arabic-Indic digits
FULLWIDTH = _digits(0xFF10)  # fullwidth digits
BOLD = _digits(0x1D7CE)  # mathematical bold digits


def _rand(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def _junk(seed: int, n: int = 4096, prefix: bytes = b"") -> Callable[[], bytes]:
    return lambda: prefix + _rand(n - len(prefix), seed)


def _csv(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


def _with_bad(*bad: str) -> Callable[[], bytes]:
    """A CSV with two good rows first, then one row per ``bad`` line."""
    return lambda: _csv(HEADER, *GOOD, *bad)


def xlsx(rows: list[list], *, formulas: bool = False) -> bytes:
    """A workbook written by openpyxl; with ``formulas`` strings starting with ``=`` stay
    formulas (openpyxl writes them without a cached value, as a script would)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Statement"
    for row in rows:
        sheet.append(row)
    if not formulas:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX_ROWS = [
    ["Date", "Description", "Amount", "Currency"],
    ["2024-01-02", "Salary", 2500, "EUR"],
    ["2024-01-03", "Rent", -900.5, "EUR"],
    ["2024-01-04", "Coffee", -3.2, "EUR"],
    ["2024-01-05", "Books", -42, "EUR"],
]


def _good_xlsx() -> bytes:
    return xlsx(XLSX_ROWS)


def rezip(
    data: bytes,
    change: Callable[[str, bytes], bytes] = lambda _name, body: body,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """The same archive with every member passed through ``change``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", compression) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info.filename)))
    return out.getvalue()


def _cut(build: Callable[[], bytes], fraction: float) -> Callable[[], bytes]:
    def cut() -> bytes:
        data = build()
        return data[: max(1, int(len(data) * fraction))]

    return cut


def _flip(data: bytes, at: int, span: int = 8) -> bytes:
    out = bytearray(data)
    for i in range(at, min(at + span, len(out))):
        out[i] ^= 0xA5
    return bytes(out)


def _xlsx_bad_directory() -> bytes:
    """Flipped bytes in the zip central directory (the names and offsets of the parts)."""
    data = _good_xlsx()
    return _flip(data, data.rfind(b"PK\x01\x02") + 16, 24)


def _xlsx_bad_directory_signature() -> bytes:
    """The signature of the first central directory entry flipped: the parts cannot be found."""
    data = _good_xlsx()
    return _flip(data, data.find(b"PK\x01\x02"), 4)


def _xlsx_bad_sheet_xml() -> bytes:
    """A stored (uncompressed) workbook with bytes flipped inside the sheet's XML."""
    data = rezip(_good_xlsx(), compression=zipfile.ZIP_STORED)
    at = data.find(b"<sheetData>")
    return _flip(data, at + 40, 16)


def _xlsx_bad_deflate() -> bytes:
    """Bytes flipped inside the compressed sheet stream (CRC and inflate both fail)."""
    data = _good_xlsx()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    return _flip(data, start + info.compress_size // 2, 6)


def _ratio_bomb() -> bytes:
    """A workbook whose sheet inflates 1000:1 (32 MB of spaces in a 32 KB part)."""

    def change(name: str, body: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            return body.replace(b"<sheetData>", b"<sheetData>" + b" " * (32 << 20), 1)
        return body

    return rezip(_good_xlsx(), change)


def _declared_size_bomb() -> bytes:
    """A small workbook whose directory claims a 3.9 GB sheet."""
    data = bytearray(_good_xlsx())
    name = b"xl/worksheets/sheet1.xml"
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        (name_len,) = struct.unpack_from("<H", data, at + 28)
        if bytes(data[at + 46 : at + 46 + name_len]) == name:
            struct.pack_into("<I", data, at + 24, 0xF0000000)  # uncompressed size
            break
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def _many_entries_bomb() -> bytes:
    """A workbook with 20,000 extra (empty) parts."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_good_xlsx())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        for i in range(20_000):
            dst.writestr(f"xl/media/p{i}.bin", b"")
    return out.getvalue()


def _lying_size_bomb() -> bytes:
    """The directory says the sheet is 2 KB; its deflate stream inflates to 64 MB."""
    import zlib

    good = _good_xlsx()
    with zipfile.ZipFile(io.BytesIO(good)) as src:
        parts = {info.filename: src.read(info.filename) for info in src.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head, tail = sheet.split(b"<sheetData>", 1)
    chunks = [compressor.compress(head + b"<sheetData>")]
    block = b" " * (1 << 20)
    for _ in range(64):
        chunks.append(compressor.compress(block))
    chunks.append(compressor.compress(tail))
    chunks.append(compressor.flush())
    stream = b"".join(chunks)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, content in parts.items():
            if name != "xl/worksheets/sheet1.xml":
                dst.writestr(name, content)
    # Append the sheet by hand with a lying uncompressed size (and the real CRC of nothing).
    archive = bytearray(out.getvalue())
    end = archive.rfind(b"PK\x05\x06")
    (count, cd_size, cd_offset) = struct.unpack_from("<HII", archive, end + 10)
    directory = bytes(archive[cd_offset : cd_offset + cd_size])
    entries = archive[:cd_offset]
    name = b"xl/worksheets/sheet1.xml"
    offset = len(entries)
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, 0, len(stream), 2048, len(name), 0
    )
    entries += local + name + stream
    central = (  # signature, versions, flags, deflate, time, date, CRC; sizes, name, offset
        struct.pack("<IHHHHHHI", 0x02014B50, 20, 20, 0, 8, 0, 0x21, 0)
        + struct.pack("<IIHHHHHII", len(stream), 2048, len(name), 0, 0, 0, 0, 0, offset)
    )
    new_directory = directory + central + name
    eocd = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, count + 1, count + 1, len(new_directory), len(entries), 0
    )
    return bytes(entries + new_directory + eocd)


def _far_cell_xlsx() -> bytes:
    """One cell at XFD1048576: a reader that allocates the dimension grid asks for ~17e9 cells."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in XLSX_ROWS:
        sheet.append(row)
    sheet.cell(row=1_048_576, column=16_384, value=1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _entity_xlsx() -> bytes:
    """Billion laughs in the shared-strings part of a workbook."""
    bomb = _LAUGHS.encode()

    def change(name: str, body: bytes) -> bytes:
        if name == "xl/sharedStrings.xml":
            decl_end = body.find(b"?>") + 2
            body = body[:decl_end] + bomb + body[decl_end:]
            return body.replace(b"<t>Salary</t>", b"<t>&lol9;</t>", 1)
        return body

    return rezip(xlsx(XLSX_ROWS, formulas=True), change)


def _formula_xlsx() -> bytes:
    rows = [
        ["Date", "Description", "Amount", "Currency"],
        ["2024-01-02", "Salary", 2500, "EUR"],
        ["2024-01-03", '=HYPERLINK("http://evil.example/x","Click")', -10, "EUR"],
        ["2024-01-04", "Sum", "=1+2", "EUR"],
        ["2024-01-05", "Cmd", "=cmd|' /C calc'!A0", "EUR"],
        ["2024-01-06", "Books", -42, "EUR"],
    ]
    return xlsx(rows, formulas=True)


def _long_cell_xlsx() -> bytes:
    rows = [list(r) for r in XLSX_ROWS]
    rows[2][1] = "R" * (1 << 20)
    return xlsx(rows)


# --- a minimal BIFF8 (.xls) workbook, written by hand ---------------------------------------


def _biff(record: int, body: bytes = b"") -> bytes:
    return struct.pack("<HH", record, len(body)) + body


def _xls_stream(rows: list[list]) -> bytes:
    """A Workbook stream: globals (BOF, a 1-sheet BOUNDSHEET, SST, EOF), then the sheet."""
    strings: list[str] = []
    for row in rows:
        for cell in row:
            if isinstance(cell, str) and cell not in strings:
                strings.append(cell)
    sst = struct.pack("<II", len(strings), len(strings)) + b"".join(
        struct.pack("<HB", len(s), 0) + s.encode("latin-1") for s in strings
    )
    bof_globals = _biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 1997, 0, 0x06))
    sheet_name = b"Statement"

    def boundsheet(position: int) -> bytes:
        return _biff(0x0085, struct.pack("<IBBBB", position, 0, 0, len(sheet_name), 0) + sheet_name)

    xf = _biff(0x00E0, b"\x00" * 20)
    codepage = _biff(0x0042, struct.pack("<H", 1200))  # BIFF8 text is Unicode, as Excel says
    globals_part = bof_globals + codepage + xf * 16
    after_sheet = _biff(0x00FC, sst) + _biff(0x000A)
    position = len(globals_part) + len(boundsheet(0)) + len(after_sheet)
    globals_part += boundsheet(position) + after_sheet
    cells = b""
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, str):
                cells += _biff(0x00FD, struct.pack("<HHHI", r, c, 15, strings.index(value)))
            else:
                cells += _biff(0x0203, struct.pack("<HHHd", r, c, 15, float(value)))
    width = max(len(r) for r in rows)
    sheet = (
        _biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0, 1997, 0, 0x06))
        + _biff(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
        + cells
        + _biff(0x000A)
    )
    return globals_part + sheet


def _ole2(stream: bytes, name: str = "Workbook") -> bytes:
    """A version-3 compound file holding one stream (padded past the 4 KB mini-stream cutoff)."""
    sector = 512
    stream = stream + b"\x00" * (max(4096, -(-len(stream) // sector) * sector) - len(stream))
    n = len(stream) // sector
    directory_at, fat_at = n, n + 1
    end, free, fat_mark = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    fat = [*range(1, n), end, end, fat_mark]
    fat += [free] * (128 - len(fat))

    def entry(label: str, kind: int, child: int, start: int, size: int) -> bytes:
        encoded = (label + "\x00").encode("utf-16-le") if label else b""
        return (
            encoded.ljust(64, b"\x00")
            + struct.pack("<HBBIII", len(encoded), kind, 1, free, free, child)
            + b"\x00" * 16
            + struct.pack("<I", 0)
            + b"\x00" * 16
            + struct.pack("<IIi", start, size, 0)
        )

    directory = (
        entry("Root Entry", 5, 1, end, 0)
        + entry(name, 2, free, 0, len(stream))
        + entry("", 0, free, 0, 0) * 2
    )
    header = (
        bytes.fromhex("d0cf11e0a1b11ae1")
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack("<IIIIIIII", 0, 1, directory_at, 0, 4096, end, 0, end)
        + struct.pack("<I", 0)  # number of DIFAT sectors
        + struct.pack("<I", fat_at)
        + struct.pack("<I", free) * 108
    )
    return header + stream + directory + struct.pack("<128I", *fat)


def good_xls() -> bytes:
    rows = [
        ["Date", "Description", "Amount", "Currency"],
        ["2024-01-02", "Salary", 2500.0, "EUR"],
        ["2024-01-03", "Rent", -900.5, "EUR"],
        ["2024-01-04", "Coffee", -3.2, "EUR"],
    ]
    return _ole2(_xls_stream(rows))


def _xls_bad_fat() -> bytes:
    """The FAT sector (the chain map of the compound file) overwritten with junk."""
    data = good_xls()
    return data[:-512] + _rand(512, 7)


def _xls_bad_cell_record() -> bytes:
    """Bytes flipped over the first cell record (LABELSST) of the sheet."""
    data = good_xls()
    return _flip(data, data.find(struct.pack("<HH", 0x00FD, 10)), 6)


def _xls_bad_directory() -> bytes:
    """The directory entry of the Workbook stream claims 2 GB starting at sector 9999."""
    data = bytearray(good_xls())
    directory = len(data) - 1024
    struct.pack_into("<II", data, directory + 128 + 116, 9999, 0x7FFFFFFF)
    return bytes(data)


# --- XML attacks ----------------------------------------------------------------------------

_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol;" if i == 1 else f"&lol{i - 1};") * 10}">' for i in range(1, 10)
    )
    + "]>"
)
_CAMT_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"


def camt(entry_text: str = "&lol9;", doctype: str = _LAUGHS) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + doctype
        + f'\n<Document xmlns="{_CAMT_NS}"><BkToCstmrStmt><Stmt><Id>1</Id>'
        "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        '<Ntry><Amt Ccy="EUR">12.50</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>'
        "<BookgDt><Dt>2024-01-02</Dt></BookgDt>"
        f"<AddtlNtryInf>{entry_text}</AddtlNtryInf></Ntry>"
        "</Stmt></BkToCstmrStmt></Document>\n"
    ).encode()


def ofx2(memo: str = "&lol9;", doctype: str = _LAUGHS) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" '
        'NEWFILEUID="NONE"?>\n'
        + doctype
        + "\n<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>0</TRNUID><STMTRS><CURDEF>USD</CURDEF>"
        "<BANKACCTFROM><BANKID>1</BANKID><ACCTID>2</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE>"
        "</BANKACCTFROM><BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT</TRNTYPE>"
        "<DTPOSTED>20240102</DTPOSTED><TRNAMT>-12.50</TRNAMT><FITID>1</FITID>"
        f"<NAME>Shop</NAME><MEMO>{memo}</MEMO></STMTTRN></BANKTRANLIST></STMTRS>"
        "</STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    ).encode()


def _xxe(url: str) -> str:
    return f'<!DOCTYPE foo [<!ENTITY xxe SYSTEM "{url}">]>'


def _ofx_deep() -> bytes:
    """A transaction record with 20,000 nested aggregates of distinct names."""
    depth = 20_000
    opening = "".join(f"<X{i}>" for i in range(depth))
    closing = "".join(f"</X{i}>" for i in reversed(range(depth)))
    return (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS>"
        "<CURDEF>USD<BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240102<TRNAMT>-1.00"
        f"<FITID>1{opening}<NAME>deep{closing}</STMTTRN>"
        "<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20240103<TRNAMT>5.00<FITID>2<NAME>ok</STMTTRN>"
        "</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    ).encode()


def _ofx_stray_end_tags() -> bytes:
    """Inside a record, 150 aggregates that never close, then 100,000 end tags naming
    elements that are not open: each must cost a look-up, not a walk down the stack."""
    opening = "".join(f"<X{i}>" for i in range(150))
    return (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS>"
        "<CURDEF>USD<BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240102<TRNAMT>-1.00"
        f"<FITID>1<NAME>deep{opening}{'</Z>' * 100_000}</STMTTRN>"
        "<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20240103<TRNAMT>5.00<FITID>2<NAME>ok</STMTTRN>"
        "</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    ).encode()


def _ofx_amounts() -> bytes:
    records = [
        ("20240102", "-12.50"),  # good
        ("20240103", "1" * 30 + "." + "1" * 10),  # 40 digits: Decimal128 holds 34
        ("20240104", "NaN"),
        ("20240105", "1e308"),
        (FULLWIDTH("20240106"), "-1.00"),
        ("20240107", BOLD("-10.00")),
        ("20240231", "-3.00"),  # 31 February
    ]
    body = "".join(
        f"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>{d}<TRNAMT>{a}<FITID>{i}<NAME>r{i}</STMTTRN>"
        for i, (d, a) in enumerate(records, start=1)
    )
    return (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nENCODING:UTF-8\n\n<OFX><BANKMSGSRSV1>"
        "<STMTTRNRS><STMTRS><CURDEF>USD<BANKTRANLIST>"
        f"{body}</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    ).encode()


def _qif_amounts() -> bytes:
    records = [
        ("01/02/2024", "-12.50"),
        ("01/03/2024", "9" * 60),
        ("01/04/2024", "Infinity"),
        (ARABIC("01/05/2024"), "-1.00"),
        ("01/06/2024", FULLWIDTH("-12.00")),
        ("02/31/2024", "-3.00"),
    ]
    body = "".join(f"D{d}\nT{a}\nPpayee {i}\n^\n" for i, (d, a) in enumerate(records, start=1))
    return ("!Type:Bank\n" + body).encode()


def _mt940_amounts() -> bytes:
    lines = [
        ":20:STARTUMSE",
        ":25:50050201/0123456789",
        ":28C:00005/001",
        ":60F:C240501EUR2345,67",
        ":61:2405020502CR2876,40NMSCNONREF",
        ":86:Salary",
        ":61:2405030503DR" + "9" * 25 + ",00NMSCNONREF",
        ":86:Too many digits",
        ":61:2402310231DR5,00NMSCNONREF",
        ":86:31 February",
        ":62F:C240510EUR4077,70",
        "-",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


# --- text files -----------------------------------------------------------------------------


def _bom_bad_utf8() -> bytes:
    return codecs.BOM_UTF8 + _csv(HEADER, *GOOD, "2024-01-04,Caf\xe9,-3.20,EUR", encoding="cp1252")


def _bom_bad_utf8_late() -> bytes:
    rows = [f"2024-01-{1 + i % 28:02d},Row {i} {'x' * 60},-{i}.00,EUR" for i in range(1200)]
    return (
        codecs.BOM_UTF8
        + _csv(HEADER, *rows)
        + _csv("2024-02-01,Caf\xe9,-1.00,EUR", encoding="cp1252")
    )


def _mixed_encodings() -> bytes:
    utf8 = _csv(HEADER, "2024-01-02,Café Zürich,-4.50,EUR")
    cp1252 = _csv("2024-01-03,Bäckerei Müller,-3.20,EUR", encoding="cp1252")
    return utf8 + cp1252


def _nul_inside() -> bytes:
    return _csv(HEADER, *GOOD, "2024-01-04,Shop\x00with NUL,-3.20,EUR")


def _nul_late() -> bytes:
    """A NUL byte beyond the first 64 KB the sniffer looks at."""
    rows = [f"2024-01-{1 + i % 28:02d},Row {i} {'x' * 60},-{i}.00,EUR" for i in range(1200)]
    return _csv(HEADER, *rows, "2024-02-01,late\x00nul,-1.00,EUR")


def _ten_thousand_columns() -> bytes:
    header = "Date,Description,Amount,Currency," + ",".join(f"c{i}" for i in range(10_000))
    rows = [line + "," + ",".join("1" for _ in range(10_000)) for line in GOOD]
    return _csv(header, *rows)


def _header_with_blank_million() -> bytes:
    return (HEADER + "\n").encode() + b"\n" * 1_000_000 + (GOOD[0] + "\n").encode()


def _long_cell_csv() -> bytes:
    return _csv(HEADER, GOOD[0], "2024-01-03," + "L" * (1 << 20) + ",-1.00,EUR", GOOD[1])


def _long_field_under_csv_limit() -> bytes:
    """A 100 KB description and a 100 KB asset symbol: under the csv module's field limit."""
    return _csv(
        "Date,Description,Symbol,Quantity,Price,Amount,Currency",
        "2024-01-02," + "D" * 100_000 + ",AAPL,1,10,-10.00,USD",
        "2024-01-03,Buy," + "S" * 100_000 + ",2,10,-20.00,USD",
    )


def _unclosed_quote() -> bytes:
    return _csv(HEADER, *GOOD, '2024-01-04,"never closed,-1.00,EUR', "2024-01-05,x,-2.00,EUR")


def _dangerous_header() -> bytes:
    """Header labels MongoDB treats specially: ``$`` prefixes and dots."""
    return _csv(
        "Trans. Date,$where,a.b.c,$Amount,Currency",
        "2024-01-02,x,y,-1.00,EUR",
        "2024-01-03,x,y,oops,EUR",
    )


def _trade_text_digits() -> bytes:
    """A buy whose comment states 500 digits of quantity (units read from free text)."""
    return _csv(
        "Date,Type,Comment,Amount,Currency",
        "2024-01-02,BUY,OPEN BUY 2 @ 10.00,-20.00,USD",
        f"2024-01-03,BUY,OPEN BUY {'9' * 500} @ 1.00,-30.00,USD",
    )


def _wide_header_short_rows() -> bytes:
    """A 1,000-column header over 2,300 two-cell rows (300 good ones among the first, then
    only bad ones): a row is never padded, nor its raw cells filled, up to the header's
    width (which made this 55 KB file take 100 MB, and a 4 MB one gigabytes)."""
    header = "Date,Amount," + ",".join(f"Column {i}" for i in range(1000))
    return _csv(header, *["2024-01-02,-1.00", "xx,y"] * 300, *["xx,y"] * 1_700)


def _nul_in_late_header() -> bytes:
    """70 KB of preamble, then a header with a NUL byte (beyond what the sniffer samples):
    labels become stored keys (mapping, raw cells), and BSON keys cannot hold a NUL."""
    preamble = [f"Statement note {i}," + "n" * 1000 for i in range(70)]
    return _csv(
        *preamble, "Date,Desc\x00ription,Amount,Currency", GOOD[0], "2024-01-03,Bad,oops,EUR"
    )


def big_single_line_csv(path: Path, size: int = 50 * 1024 * 1024) -> Path:
    """A 50 MB CSV on one line, written in 1 MB chunks (never built as one string)."""
    if path.exists() and path.stat().st_size == size:
        return path
    chunk = (b"2024-01-02,Salary,2500.00,EUR," * 40_000)[: 1 << 20]
    with path.open("wb") as out:
        out.write(b"Date,Description,Amount,Currency,")
        written = len(b"Date,Description,Amount,Currency,")
        while written < size:
            piece = chunk[: size - written]
            out.write(piece)
            written += len(piece)
    return path


# --- the corpus -----------------------------------------------------------------------------

_DAMAGED = r"damaged|could not be read|cannot be read|not a statement|not a spreadsheet"
_BINARY = r"binary data|not a bank or broker statement|not a statement"
_BOMB = r"zip bomb|unpack to|limit"
_CUT = r"damaged or cut short"
_DTD = r"DTD, entities or external references|refused for safety"
_FORMULA_TEXTS = (
    '=HYPERLINK("http://evil.example/x","Click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-2+3",
)


BAD_AMOUNTS = (
    "1e308",
    "NaN",
    "Infinity",
    "--5",
    "1.2.3",
    "9" * 500,
    "0x1F",
    "-Infinity",
    "1E5",
    "12" + "0" * 40 + ".00",
    "9" * 19,
    "1." + "1" * 30,
)


def _bad_amounts() -> bytes:
    """Each bad amount after a good one: the column stays recognisably the amount column
    (a column whose cells are mostly not numbers is not taken for one)."""
    rows = []
    for i, value in enumerate(BAD_AMOUNTS):
        rows += [
            f"2024-02-{1 + i:02d},Good {i},-{i}.50,EUR",
            f"2024-03-{1 + i:02d},Bad {i},{value},EUR",
        ]
    return _csv(HEADER, *GOOD, *rows)


def _csv_formula_text() -> bytes:
    rows = [
        f'2024-01-{2 + i:02d},"{t.replace(chr(34), chr(34) * 2)}",-1.00,EUR'
        for i, t in enumerate(_FORMULA_TEXTS)
    ]
    amount_formulas = (
        "2024-01-10,Formula amount,=1+2,EUR",
        "2024-01-11,At amount,@SUM(1),EUR",
        "2024-01-12,Expr amount,-2+3,EUR",
    )
    return _csv(HEADER, *rows, *amount_formulas)


CASES: tuple[Case, ...] = (
    # Binary junk under statement names.
    Case("junk.csv", _junk(1), Reject(415, _BINARY), "4 KB of random bytes named .csv", api=True),
    Case("junk.xlsx", _junk(2), Reject(415, _BINARY), "random bytes named .xlsx", api=True),
    Case("junk.xls", _junk(3), Reject(415, _BINARY), "random bytes named .xls"),
    Case("junk.ofx", _junk(4), Reject(415, _BINARY), "random bytes named .ofx"),
    Case("junk.qif", _junk(5), Reject(415, _BINARY), "random bytes named .qif"),
    Case("junk.sta", _junk(6), Reject(415, _BINARY), "random bytes named .sta (MT940)"),
    Case("junk.xml", _junk(7), Reject(415, _BINARY), "random bytes named .xml (CAMT)"),
    Case(
        "zip-magic-junk.xlsx",
        _junk(8, prefix=b"PK\x03\x04"),
        Reject(422, _DAMAGED),
        "zip signature followed by random bytes",
    ),
    Case(
        "ole2-magic-junk.xls",
        _junk(9, prefix=bytes.fromhex("d0cf11e0a1b11ae1")),
        Reject(422, _CUT),
        "compound-file signature followed by random bytes",
    ),
    # Truncated and corrupt workbooks.
    Case(
        "xlsx-cut-10.xlsx",
        _cut(_good_xlsx, 0.10),
        Reject(422, _DAMAGED),
        "XLSX cut at 10 %",
        api=True,
    ),
    Case("xlsx-cut-50.xlsx", _cut(_good_xlsx, 0.50), Reject(422, _DAMAGED), "XLSX cut at 50 %"),
    Case("xlsx-cut-90.xlsx", _cut(_good_xlsx, 0.90), Reject(422, _DAMAGED), "XLSX cut at 90 %"),
    Case(
        "xlsx-cut-last-byte.xlsx",
        _cut(_good_xlsx, 0.9999),
        Reject(422, _DAMAGED),
        "XLSX missing its last bytes (end of central directory)",
    ),
    Case(
        "xlsx-flipped-directory.xlsx",
        _xlsx_bad_directory,
        Reject(413, r"unpack to"),
        "flipped bytes in the zip central directory (sizes now read as gigabytes)",
    ),
    Case(
        "xlsx-flipped-directory-signature.xlsx",
        _xlsx_bad_directory_signature,
        Reject(422, _DAMAGED),
        "flipped bytes over a central directory signature",
    ),
    Case(
        "xlsx-flipped-sheet-xml.xlsx",
        _xlsx_bad_sheet_xml,
        Reject(422, _DAMAGED),
        "flipped bytes inside the (stored) sheet XML",
        api=True,
    ),
    Case(
        "xlsx-flipped-deflate.xlsx",
        _xlsx_bad_deflate,
        Reject(422, _DAMAGED),
        "flipped bytes inside the compressed sheet stream",
    ),
    Case(
        "xls-cut-header.xls",
        _cut(good_xls, 0.05),
        Reject(422, _CUT),
        "XLS cut inside its compound-file header",
    ),
    Case("xls-cut-half.xls", _cut(good_xls, 0.5), Reject(422, _CUT), "XLS cut at 50 %", api=True),
    Case(
        "xls-cut-90.xls",
        _cut(good_xls, 0.9),
        Reject(422, _DAMAGED),
        "XLS cut at 90 % (the native reader panics: caught in its child process)",
    ),
    Case(
        "xls-flipped-cell-record.xls",
        _xls_bad_cell_record,
        Reject(422, _DAMAGED),
        "XLS with flipped bytes over a cell record",
    ),
    Case("xls-bad-fat.xls", _xls_bad_fat, Reject(422, _DAMAGED), "XLS with a junk FAT sector"),
    Case(
        "xls-bad-directory.xls",
        _xls_bad_directory,
        Reject(422, _DAMAGED),
        "XLS whose directory points the workbook stream past the end",
    ),
    # Zip bombs.
    Case(
        "bomb-ratio.xlsx", _ratio_bomb, Reject(422, _BOMB), "sheet part compressed 1000:1", api=True
    ),
    Case(
        "bomb-declared-size.xlsx",
        _declared_size_bomb,
        Reject(413, _BOMB),
        "directory declares a 3.9 GB sheet",
    ),
    Case("bomb-many-entries.xlsx", _many_entries_bomb, Reject(422, _BOMB), "20,000 parts"),
    Case(
        "bomb-lying-size.xlsx",
        _lying_size_bomb,
        Reject(422, _DAMAGED + "|" + _BOMB),
        "directory says 2 KB, the stream inflates to 64 MB",
    ),
    Case(
        "far-cell.xlsx",
        _far_cell_xlsx,
        Reject(422, _DAMAGED),
        "a cell at XFD1048576 (a 17-billion-cell grid)",
    ),
    Case(
        "entities-in-shared-strings.xlsx",
        _entity_xlsx,
        Partial(imported=4),
        "billion laughs in sharedStrings.xml: never expanded",
    ),
    # XML entity attacks.
    Case("camt-billion-laughs.xml", camt, Reject(422, _DTD), "CAMT with billion laughs", api=True),
    Case(
        "camt-xxe-file.xml",
        lambda: camt("&xxe;", _xxe("file:///etc/passwd")),
        Reject(422, _DTD),
        "CAMT with an external entity to /etc/passwd",
        api=True,
    ),
    Case(
        "camt-xxe-http.xml",
        lambda: camt("&xxe;", _xxe("http://127.0.0.1:9/x")),
        Reject(422, _DTD),
        "CAMT with an external entity over HTTP",
    ),
    Case(
        "camt-external-dtd.xml",
        lambda: camt("x", '<!DOCTYPE Document SYSTEM "http://127.0.0.1:9/x.dtd">'),
        Reject(422, _DTD),
        "CAMT with an external DTD",
    ),
    Case("ofx2-billion-laughs.ofx", ofx2, Reject(422, _DTD), "OFX 2 with billion laughs", api=True),
    Case(
        "ofx2-xxe-file.ofx",
        lambda: ofx2("&xxe;", _xxe("file:///etc/passwd")),
        Reject(422, _DTD),
        "OFX 2 with an external entity to /etc/passwd",
    ),
    Case(
        "ofx2-xxe-http.ofx",
        lambda: ofx2("&xxe;", _xxe("http://127.0.0.1:9/x")),
        Reject(422, _DTD),
        "OFX 2 with an external entity over HTTP",
    ),
    Case(
        "ofx-deep-nesting.ofx",
        _ofx_deep,
        Reject(422, r"levels deep"),
        "20,000 nested aggregates inside one record",
        api=True,
    ),
    Case(
        "ofx-stray-end-tags.ofx",
        _ofx_stray_end_tags,
        Partial(imported=2),
        "150 unclosed aggregates, then 100,000 end tags that close nothing",
    ),
    # Structured formats with hostile values.
    Case(
        "ofx-hostile-values.ofx",
        _ofx_amounts,
        Partial(
            imported=1,
            errors=(
                Bad(2, "TRNAMT", "1" * 30 + "." + "1" * 10, "invalid"),
                Bad(3, "TRNAMT", "NaN", "invalid"),
                Bad(4, "TRNAMT", "1e308", "invalid"),
                Bad(5, "DTPOSTED", FULLWIDTH("20240106"), "invalid"),
                Bad(6, "TRNAMT", BOLD("-10.00"), "invalid"),
                Bad(7, "DTPOSTED", "20240231", "invalid"),
            ),
        ),
        "OFX amounts NaN/1e308/40 digits/bold digits, fullwidth and impossible dates",
        api=True,
    ),
    Case(
        "qif-hostile-values.qif",
        _qif_amounts,
        Partial(
            imported=1,
            errors=(
                Bad(2, "T", "9" * 60, "invalid"),
                Bad(3, "T", "Infinity", "invalid"),
                Bad(4, "D", ARABIC("01/05/2024"), "invalid"),
                Bad(5, "T", FULLWIDTH("-12.00"), "invalid"),
                Bad(6, "D", "02/31/2024", "invalid"),
            ),
        ),
        "QIF amounts Infinity/60 digits/fullwidth, Arabic-Indic and impossible dates",
    ),
    Case(
        "mt940-hostile-values.sta",
        _mt940_amounts,
        Partial(
            imported=1,
            errors=(
                Bad(2, "amount", "9" * 25 + ",00", "invalid"),
                Bad(3, "date", "2402310231", "invalid"),
            ),
        ),
        "MT940 with a 25-digit amount and 31 February",
    ),
    # Size, shape and encoding of text files.
    Case(
        "million-empty-lines.csv",
        lambda: b"\n" * 1_000_000,
        Reject(422, r"empty"),
        "a million empty lines",
        api=True,
    ),
    Case(
        "header-million-blank-one-row.csv",
        _header_with_blank_million,
        Partial(imported=1),
        "a header, a million blank lines, one row",
    ),
    Case(
        "ten-thousand-columns.csv",
        _ten_thousand_columns,
        Partial(imported=2),
        "10,000 columns",
        api=True,
    ),
    Case("nul-inside.csv", _nul_inside, Reject(415, _BINARY), "a NUL byte in a description"),
    Case(
        "nul-beyond-64k.csv", _nul_late, Partial(imported=1201), "a NUL byte after the first 64 KB"
    ),
    Case(
        "nul-in-late-header.csv",
        _nul_in_late_header,
        Partial(imported=1, errors=(Bad(73, "transaction_amount", "oops"),)),
        "a NUL byte inside a header label, 70 KB into the file",
        api=True,
    ),
    Case(
        "wide-header-short-rows.csv",
        _wide_header_short_rows,
        Partial(imported=300, failed=2_000, errors=(Bad(3, "date", "xx"),)),
        "1,000 columns in the header, 2,300 rows of two cells",
        api=True,
    ),
    Case(
        "bom-then-bad-utf8.csv",
        _bom_bad_utf8,
        Reject(422, r"^The file could not be read as UTF-8 text"),
        "UTF-8 BOM, then a cp1252 byte",
        api=True,
    ),
    Case(
        "bom-then-bad-utf8-late.csv",
        _bom_bad_utf8_late,
        Reject(422, r"^Line 1202 cannot be read as UTF-8 text"),
        "UTF-8 BOM, then a cp1252 byte 110 KB into the file (read while streaming)",
    ),
    Case(
        "mixed-utf8-cp1252.csv",
        _mixed_encodings,
        Partial(imported=2),
        "UTF-8 and cp1252 lines in one file",
    ),
    Case(
        "header-only.csv",
        lambda: _csv(HEADER),
        Reject(422, r"no transaction rows"),
        "a header with no rows",
    ),
    Case(
        "numbers-only.csv",
        lambda: _csv("1,2,3", "4,5,6", "7,8,9", "10,11,12"),
        Reject(422, r"No transaction table"),
        "a header-less table of numbers",
    ),
    Case("long-cell-1mb.csv", _long_cell_csv, Reject(422, r"Line 3 .*longer than"), "a 1 MB cell"),
    Case(
        "long-cell-1mb.xlsx",
        _long_cell_xlsx,
        Partial(imported=4),
        "a 1 MB cell in a workbook (stored clipped to the description limit)",
    ),
    Case(
        "long-fields-100k.csv",
        _long_field_under_csv_limit,
        Partial(imported=2),
        "100 KB description and 100 KB symbol (stored clipped to the model limits)",
        api=True,
    ),
    Case(
        "unclosed-quote.csv",
        _unclosed_quote,
        Partial(imported=2, errors=(Bad(4, "transaction_amount", None, "missing"),)),
        "a quote that never closes (swallows the rest of the file)",
    ),
    Case("just-a-bom.csv", lambda: codecs.BOM_UTF8, Reject(422, r"empty"), "only a UTF-8 BOM"),
    Case(
        "utf16-bom-only.csv",
        lambda: codecs.BOM_UTF16_LE,
        Reject(422, r"empty"),
        "only a UTF-16 BOM",
    ),
    Case("empty.csv", lambda: b"", Reject(422, r"empty"), "zero bytes", api=True),
    Case(
        "dangerous-header.csv",
        _dangerous_header,
        Partial(imported=1, errors=(Bad(3, "transaction_amount", "oops"),)),
        "header labels '$where' and 'a.b.c'",
        api=True,
    ),
    # Values.
    Case(
        "bad-dates.csv",
        _with_bad("31.02.2024,Feb 31,-1.00,EUR", "2024-13-45,Month 13,-1.00,EUR"),
        Partial(imported=2, errors=(Bad(4, "date", "31.02.2024"), Bad(5, "date", "2024-13-45"))),
        "31.02.2024 and 2024-13-45",
    ),
    Case(
        "bad-amounts.csv",
        _bad_amounts,
        Partial(
            imported=2 + len(BAD_AMOUNTS),
            errors=tuple(
                Bad(5 + 2 * i, "transaction_amount", v) for i, v in enumerate(BAD_AMOUNTS)
            ),
        ),
        "1e308, NaN, Infinity, --5, 1.2.3, 500 digits, 0x1F, 10^41",
        api=True,
    ),
    Case(
        "xlsx-huge-numbers.xlsx",
        lambda: xlsx(
            [
                *XLSX_ROWS[:2],
                ["2024-01-03", "Huge", 1e308, "EUR"],
                ["2024-01-04", "Big", 1e20, "EUR"],
                ["2024-01-05", "Serial date", -5, "EUR"],
                [1e308, "Serial 1e308", -5, "EUR"],
                ["2024-01-06", "Fine", -5, "EUR"],
            ]
        ),
        Partial(
            imported=3,
            errors=(
                Bad(3, "transaction_amount", "1e+308"),
                Bad(4, "transaction_amount", "1e+20"),
                Bad(6, "date", "1e+308"),
            ),
        ),
        "numeric cells 1e308 and 1e20 and a 1e308 date serial",
    ),
    Case(
        "formula-text.csv",
        _csv_formula_text,
        Partial(
            imported=4,
            descriptions=_FORMULA_TEXTS,
            errors=(
                Bad(6, "transaction_amount", "=1+2", "invalid"),
                Bad(7, "transaction_amount", "@SUM(1)", "invalid"),
                Bad(8, "transaction_amount", "-2+3"),
            ),
        ),
        "=HYPERLINK, +cmd|, @SUM, -2+3 as descriptions and as amounts",
        api=True,
    ),
    Case(
        "formula-cells.xlsx",
        _formula_xlsx,
        Partial(
            imported=3,
            errors=(
                Bad(4, "transaction_amount", None, "missing"),
                Bad(5, "transaction_amount", None, "missing"),
            ),
        ),
        "real formula cells written by openpyxl (no cached values)",
        api=True,
    ),
    Case(
        "rtl-override.csv",
        _with_bad(
            "2024-01-04,\u202egnp.exe\u202c invoice,-3.00,EUR",
            "2024-01-05,Amount with RLO,\u202e-5.00,EUR",
            "2024-01-06,Amount with RLO inside,-5\u202e.00,EUR",
            "\u202e2024-01-07,Date with RLO,-5.00,EUR",
        ),
        Partial(
            imported=3,
            descriptions=("\u202egnp.exe\u202c invoice",),
            errors=(
                Bad(5, "transaction_amount", "\u202e-5.00"),
                Bad(6, "transaction_amount", "-5\u202e.00"),
                Bad(7, "date", "\u202e2024-01-07"),
            ),
        ),
        "U+202E right-to-left override in a description, amounts and a date",
    ),
    Case(
        "lookalike-digits.csv",
        _with_bad(
            f"2024-01-04,Arabic-Indic,{ARABIC('34.50')},EUR",
            f"2024-01-05,Fullwidth,{FULLWIDTH('123.00')},EUR",
            f"2024-01-06,Math bold,{BOLD('100.00')},EUR",
            f"{FULLWIDTH('2024-01-07')},Fullwidth date,-1.00,EUR",
            f"{ARABIC('2024-01-08')},Arabic-Indic date,-1.00,EUR",
            f"{BOLD('2024-01-09')},Bold date,-1.00,EUR",
            f"2024-01-10,Mixed,1{BOLD('0')}0.00,EUR",
        ),
        Partial(
            imported=2,
            errors=(
                Bad(4, "transaction_amount", ARABIC("34.50")),
                Bad(5, "transaction_amount", FULLWIDTH("123.00")),
                Bad(6, "transaction_amount", BOLD("100.00")),
                Bad(7, "date", FULLWIDTH("2024-01-07")),
                Bad(8, "date", ARABIC("2024-01-08")),
                Bad(9, "date", BOLD("2024-01-09")),
                Bad(10, "transaction_amount", "1" + BOLD("0") + "0.00"),
            ),
        ),
        "Arabic-Indic, fullwidth and mathematical bold digits in amounts and dates",
        api=True,
    ),
    Case(
        "trade-text-500-digits.csv",
        _trade_text_digits,
        Partial(imported=2),
        "a comment stating 500 digits of units (units are not taken from it)",
    ),
)

BIG_CSV = "single-line-50mb.csv"


def write_corpus(directory: Path) -> dict[str, Path]:
    """Write every case's file into ``directory``; returns name → path."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for case in CASES:
        path = directory / case.name
        path.write_bytes(case.build())
        paths[case.name] = path
    return paths


def case_named(name: str) -> Case:
    return next(case for case in CASES if case.name == name)


def sentence(detail: str) -> bool:
    """A plain sentence: starts with a capital, ends with a full stop, no traceback."""
    return (
        bool(re.match(r"[A-Z0-9'\"]", detail))
        and detail.rstrip().endswith(".")
        and ("Traceback" not in detail)
    )
