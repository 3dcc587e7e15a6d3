"""What a file is, decided from its bytes (never its name), and how its text is encoded.

Users rename files, banks label HTML as ``.xls`` and a PNG can arrive as
``.csv``, so the extension is not evidence. Anything that is not a statement
is refused here with one sentence saying what was found, before a parser
spends time on it.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections import Counter
from dataclasses import dataclass

from finance.imports.types import ImportOptions, ImportRejected

TEXT_FORMATS = {",": "csv", ";": "csv", "\t": "tsv", "|": "txt"}
STRUCTURED_FORMATS = frozenset({"ofx", "qfx", "qif", "camt.053", "mt940"})
HEAD_BYTES = 64 * 1024

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NOT_STATEMENTS = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document (export the statement as CSV, XLSX or OFX instead)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "a Linux program"),
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r\x0b\x0c\x1a")
_OFX = re.compile(r"OFXHEADER|<OFX>", re.IGNORECASE)
_MT940_START = re.compile(r"^:20:", re.MULTILINE)
_MT940_BALANCE = re.compile(r"^:60[FM]:", re.MULTILINE)
_QIF = ("!type:", "!account", "!option:", "!clear:")
_DELIMITERS = (",", ";", "\t", "|")
# Anchored at line starts so lines without such bytes cost one linear scan.
_NON_ASCII_LINE = re.compile(rb"^[^\n\x80-\xff]*[\x80-\xff][^\n]*", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Sniffed:
    """The detected format; ``encoding``/``delimiter`` are set for text formats."""

    format: str
    encoding: str | None = None
    delimiter: str | None = None


def sniff(data: bytes, options: ImportOptions | None = None) -> Sniffed:
    """Detect the format of ``data``; raise :class:`ImportRejected` for non-statements."""
    options = options or ImportOptions()
    if not data or data.isspace():
        raise ImportRejected("The file is empty.", 422)
    binary = _binary_format(data)
    if binary:
        return Sniffed(binary)
    encoding = _checked_encoding(options.encoding) if options.encoding else detect_encoding(data)
    head = decode_head(data, encoding)
    if not head.strip() and len(data) <= HEAD_BYTES:  # a byte-order mark and nothing else
        raise ImportRejected("The file is empty.", 422)
    structured = _structured_format(head)
    if structured:
        return Sniffed(structured, encoding)
    if options.delimiter:
        if len(options.delimiter) != 1:
            raise ImportRejected("The delimiter must be a single character.", 422)
        delimiter = options.delimiter
    else:
        delimiter = detect_delimiter(head)
    return Sniffed(TEXT_FORMATS.get(delimiter, "csv"), encoding, delimiter)


def _binary_format(data: bytes) -> str | None:
    """``xlsx``/``xls`` for spreadsheets, ``None`` for text; refuse every other binary."""
    if data.startswith(b"PK\x03\x04"):
        return _zip_format(data)
    if data.startswith(_OLE2):
        return _ole2_format(data)
    for magic, what in _NOT_STATEMENTS:
        if data.startswith(magic):
            raise ImportRejected(f"This file is {what}, not a bank or broker statement.", 415)
    return None


def _zip_format(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
        raise ImportRejected(
            "This file is a damaged ZIP archive and cannot be read.", 422
        ) from None
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        raise ImportRejected(
            "This file is a binary Excel workbook (.xlsb); save it as .xlsx or .csv.", 415
        )
    if "content.xml" in names and "mimetype" in names:
        raise ImportRejected(
            "This file is an OpenDocument file; save it as .xlsx or .csv and upload that.", 415
        )
    raise ImportRejected("This file is a ZIP archive, not a spreadsheet or statement.", 415)


def _ole2_format(data: bytes) -> str:
    if "EncryptedPackage".encode("utf-16-le") in data[: 1 << 20]:
        raise ImportRejected(
            "This Excel file is password-protected; remove the password and upload it again.", 422
        )
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return "xls"
    shift = int.from_bytes(data[30:32], "little")  # sectors of 512 (v3) or 4096 (v4) bytes
    directory = int.from_bytes(data[48:52], "little")  # where the table of contents starts
    if shift not in (9, 12) or len(data) < (directory + 2) << shift:
        raise ImportRejected(
            "This Office file is damaged or cut short (it ends before its own table of "
            "contents) and cannot be read; download or export it again.",
            422,
        )
    raise ImportRejected(
        "This file is an Office document (not a spreadsheet), not a bank or broker statement.", 415
    )


def detect_encoding(data: bytes) -> str:
    """Encoding of a text file: BOM, then strict UTF-8, then cp1250/cp1252/latin-1.

    The single-byte code pages cannot be told apart by validity (every byte
    decodes), so charset-normalizer judges them on the lines that actually
    hold non-ASCII bytes.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    sample = data[:HEAD_BYTES]
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return utf16
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    if b"\x00" in sample or controls > len(sample) // 100:
        raise ImportRejected(
            "This file holds binary data, not text or a spreadsheet; it is not a statement.", 415
        )
    if _is_utf8(data):
        return "utf-8"
    return _single_byte_encoding(data)


def _utf16_without_bom(sample: bytes) -> str | None:
    """Mostly-ASCII UTF-16 has a zero in (nearly) every other byte, and only there."""
    even, odd = sample[0::2], sample[1::2]
    if len(sample) < 4:
        return None
    if odd.count(0) > len(odd) * 0.6 and even.count(0) < len(even) * 0.05:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.6 and odd.count(0) < len(odd) * 0.05:
        return "utf-16-be"
    return None


def _is_utf8(data: bytes) -> bool:
    """Strict UTF-8 check in chunks, so a large file is never decoded whole here."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    step = 1 << 20
    try:
        for start in range(0, len(data), step):
            decoder.decode(data[start : start + step], final=start + step >= len(data))
    except UnicodeDecodeError:
        return False
    return True


def _single_byte_encoding(data: bytes) -> str:
    """The code page of the non-ASCII lines; ``utf-8+<code page>`` when some of those lines
    are UTF-8 and others are not (two exports pasted together), see :func:`_mixed_codec`."""
    utf8, other = [], []
    for match in itertools.islice(_NON_ASCII_LINE.finditer(data), 2000):
        line = match.group()
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            other.append(line)
        else:
            utf8.append(line)
    code_page = _code_page(b"\n".join(other))
    return f"utf-8+{code_page}" if utf8 and other else code_page


def _code_page(evidence: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(evidence[:HEAD_BYTES], cp_isolation=["cp1250", "cp1252", "latin_1"]).best()
    guess = {"latin_1": "latin-1"}.get(best.encoding, best.encoding) if best else "cp1252"
    readings = {}
    for name in (guess, "cp1252", "cp1250", "latin-1"):
        try:
            readings[name] = evidence.decode(name)
        except UnicodeDecodeError:
            continue
    if guess == "cp1250" and readings.get("cp1252") == readings["cp1250"]:
        return "cp1252"  # German text reads the same in both: name the common Western one
    # The guess must read every non-ASCII line; latin-1 reads anything.
    return next(iter(readings))


def _mixed_codec(name: str) -> codecs.CodecInfo | None:
    """``utf-8+cp1252`` (or ``+cp1250``, ``+latin-1``): UTF-8, except that a byte sequence
    that is not UTF-8 is read in the code page. Each line then reads as it was written,
    where one encoding for the whole file would garble the lines in the other."""
    code_page = _MIXED.get(name)
    if code_page is None:
        return None

    def fallback(exc: UnicodeError) -> tuple[str, int]:
        if not isinstance(exc, UnicodeDecodeError):
            raise exc
        return exc.object[exc.start : exc.end].decode(code_page, "replace"), exc.end

    errors = f"finance-{code_page}-fallback"
    codecs.register_error(errors, fallback)

    class IncrementalDecoder(codecs.BufferedIncrementalDecoder):
        def _buffer_decode(self, data, _errors, final):
            return codecs.utf_8_decode(data, errors, final)

    def decode(data, _errors="strict"):
        return codecs.utf_8_decode(data, errors, True)

    utf8 = codecs.lookup("utf-8")
    return codecs.CodecInfo(
        utf8.encode,
        decode,
        name=f"utf-8+{code_page}",
        incrementalencoder=utf8.incrementalencoder,
        incrementaldecoder=IncrementalDecoder,
    )


# Codec names arrive normalised: "utf-8+cp1252" is looked up as "utf_8_cp1252".
_MIXED = {"utf_8_cp1252": "cp1252", "utf_8_cp1250": "cp1250", "utf_8_latin_1": "latin-1"}
codecs.register(_mixed_codec)


def _checked_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ImportRejected(f"{name!r} is not a known text encoding.", 422) from None


def codec_for(data: bytes, encoding: str) -> tuple[str, int]:
    """The Python codec for a reported encoding, and how many leading BOM bytes to skip.

    ``utf-16-le``/``-be`` name the byte order whether or not the file starts
    with a BOM, so the BOM is skipped only when it is there; ``utf-8-sig``
    skips its own.
    """
    for bom, name in _BOMS:
        if name == encoding and name.startswith("utf-16") and data.startswith(bom):
            return encoding, len(bom)
    return encoding, 0


def decode_head(data: bytes, encoding: str, size: int = HEAD_BYTES) -> str:
    """The first ``size`` bytes as text, cut at the last complete line."""
    codec, skip = codec_for(data, encoding)
    chunk = data[skip : skip + size]
    try:
        text = chunk.decode(codec, errors="strict" if len(chunk) == len(data) - skip else "ignore")
    except UnicodeDecodeError:
        raise ImportRejected(
            f"The file could not be read as {encoding_label(encoding)} text: it holds bytes "
            "that are not text in that encoding (a damaged file, or two encodings mixed).",
            422,
        ) from None
    if len(chunk) < len(data) - skip and "\n" in text:
        text = text[: text.rfind("\n") + 1]
    return text.lstrip("\ufeff")


def encoding_label(encoding: str) -> str:
    """An encoding as users know it: ``utf-8-sig`` is UTF-8 that starts with a BOM."""
    return "UTF-8" if encoding == "utf-8-sig" else encoding


def _structured_format(head: str) -> str | None:
    start = head.lstrip()[:512].lower()
    if _OFX.search(head[:4096]):
        return "qfx" if "<intu.bid>" in head.lower() else "ofx"
    if start.startswith(("<!doctype html", "<html")) or "<html" in start:
        raise ImportRejected(
            "This file is a web page (HTML), not a statement export; some banks' .xls downloads "
            "are HTML: open it in a spreadsheet program and save it as .xlsx or .csv.",
            415,
        )
    if start.startswith("<"):
        if "camt.053" in head:
            return "camt.053"
        raise ImportRejected(
            "This XML file is not a CAMT.053 bank statement, the only XML format accepted.", 415
        )
    if start.startswith(_QIF):
        return "qif"
    if ":20:" in head and _MT940_START.search(head) and _MT940_BALANCE.search(head):
        return "mt940"
    if start.startswith(("{", "[")):
        raise ImportRejected("This file is JSON data, not a statement export.", 415)
    return None


def detect_delimiter(head: str, max_rows: int = 60) -> str:
    """The delimiter that splits the most rows into the same number (> 1) of columns."""
    best, best_score = None, 0
    for delimiter in _DELIMITERS:
        try:
            reader = csv.reader(io.StringIO(head), delimiter=delimiter)
            widths = Counter(len(row) for _, row in zip(range(max_rows), reader, strict=False))
        except csv.Error:
            continue
        score = max((w * c for w, c in widths.items() if w > 1), default=0)
        if score > best_score:
            best, best_score = delimiter, score
    if best is None:
        raise ImportRejected(
            "This text file has no columns: no comma, semicolon, tab or | separates its values.",
            422,
        )
    return best
