"""The transaction and error-row vocabularies, shared by the documents, schemas and importer.

A module of its own, free of MongoDB and of the import pipeline: the documents and
schemas need the words at start-up; the pipeline's data classes are loaded only when
a file is parsed.
"""

TRANSACTION_TYPES = (
    "BUY",
    "SELL",
    "DEPOSIT",
    "WITHDRAWAL",
    "TRANSFER",
    "DIVIDEND",
    "INTEREST",
    "FEE",
    "TAX",
    "TRANSFER_IN",
    "TRANSFER_OUT",
    "OTHER",
)

ERROR_TYPES = ("validation", "format", "missing", "duplicate", "invalid")
