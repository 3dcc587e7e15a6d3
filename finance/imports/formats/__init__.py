"""Readers for structured statement formats: OFX/QFX, QIF, MT940 and ISO 20022 CAMT.053.

Each module exposes one function, ``parse(data: bytes, options: ImportOptions) -> ParseResult``,
that decodes the bytes itself (every format carries its own charset hints), turns each statement
record into a :class:`~finance.imports.types.CanonicalRow` following the sign convention of
``api-contract.md``, and turns each record it cannot use into a
:class:`~finance.imports.types.RowError`. A file without a single recognisable record raises
:class:`~finance.imports.types.ImportRejected` (422). The modules import nothing heavy at import
time, so the dispatcher can import them freely.
"""
