"""Fixtures for the transactions API tests: a wallet of alice's and a way to add to it."""

import pytest

from tests.unit.transactions.helpers import add_transaction, new_wallet


@pytest.fixture
def wallet(alice):
    return new_wallet(alice)


@pytest.fixture
def add(alice, wallet):
    """POST a transaction into alice's wallet (or ``wallet_id``); return the created item."""

    def add(**fields):
        return add_transaction(alice, fields.pop("wallet_id", wallet), **fields)

    return add
