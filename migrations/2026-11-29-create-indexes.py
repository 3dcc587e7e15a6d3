"""Create every index the documents declare in their ``meta``."""

from finance.indexes import ensure_indexes


def migrate(db):
    ensure_indexes(db)
