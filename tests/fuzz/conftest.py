"""The fuzzing harness: one app on mongomock, a registered user with data, and real ids.

Schemathesis generates every case from the service's own ``/api/openapi.json`` and
sends it straight to the WSGI app. Most generated ids name nothing, so
:meth:`Seed.prepare` swaps about half of the well-formed ones for ids that exist
(the user's wallet, transaction, error row, import, mapping, asset) and attaches a
real statement to half of the uploads; ``DELETE`` calls get a resource made just
for them, so the rest of the run keeps its data. ``DELETE /api/users/me`` runs as a
throw-away user.

``FUZZ_EXAMPLES`` (default 25) sets the examples per operation and phase;
``FUZZ_SEED`` changes the (otherwise fixed) generation seed.
"""

from __future__ import annotations

import io
import itertools
import os
import re

import pytest
from bson import Decimal128
from mongomock import filtering

from finance.db import disconnect, get_db
from tests.conftest import ApiUser, make_app

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("FUZZ_SEED", "20240315"))

STATEMENT = (
    b"Date,Description,Amount,Currency\n"
    b"2024-01-02,Salary,2500.00,EUR\n"
    b"2024-01-03,Rent,-900.00,EUR\n"
    b"not a date,Broken,12.00,EUR\n"
)
_OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")


class SwitchableApp:
    """A WSGI app that forwards to whichever app the current test module built.

    The schema is loaded at import (pytest collects one test per operation), before
    any fixture exists; the calls must reach the app the ``fuzz_app`` fixture built.
    """

    def __init__(self):
        self.target = None

    def __call__(self, environ, start_response):
        return self.target(environ, start_response)


APP = SwitchableApp()


def schema_app() -> SwitchableApp:
    """Point :data:`APP` at a bare app for reading the OpenAPI document at import."""
    APP.target = make_app(indexes=False)
    return APP


def _ok(response) -> dict:
    assert response.status_code < 300, response.get_data(as_text=True)
    return response.json


class Seed:
    """A registered user with one of everything, and the ids the fuzzer substitutes."""

    def __init__(self, client, tokens):
        self.client = client
        self.tokens = tokens
        self._names = itertools.count()
        self.cases = 0
        self.user = ApiUser(client, tokens, "fuzz-uid", "fuzz@example.com")
        self.headers = dict(self.user.headers)
        self.wallet = self.new_wallet()
        report = self.upload()
        self.ids = {
            "wallet_id": self.wallet,
            "transaction_id": self.new_transaction(),
            "error_id": report["failed_transactions"][0]["id"],
            "import_id": report["import_id"],
            "mapping_id": _ok(self.user.get("/api/mappings"))["mappings"][0]["id"],
            "asset_id": _ok(
                self.user.post(
                    "/api/assets", json={"name": "Apple Inc.", "symbol": "AAPL", "currency": "USD"}
                )
            )["id"],
        }
        _ok(
            self.user.post(
                f"/api/assets/{self.ids['asset_id']}/prices",
                json={"date": "2024-01-02", "price": 185.5},
            )
        )

    # ------------------------------------------------------------------ fresh resources

    def new_wallet(self) -> str:
        body = {"name": f"Fuzz {next(self._names)}", "base_currency": "EUR"}
        return _ok(self.user.post("/api/wallets", json=body))["id"]

    def new_transaction(self) -> str:
        body = {
            "wallet_id": self.wallet,
            "date": "2024-03-15",
            "transaction_type": "DEPOSIT",
            "transaction_amount": "100.25",
            "currency": "EUR",  # the fuzzer may have cleared the wallet's base currency
        }
        return _ok(self.user.post("/api/transactions", json=body))["id"]

    def upload(self, wallet_id: str | None = None) -> dict:
        data = {"file": (io.BytesIO(STATEMENT), "s.csv"), "wallet_id": wallet_id or self.wallet}
        response = self.user.post(
            "/api/transactions/upload", data=data, content_type="multipart/form-data"
        )
        return _ok(response)["data"]

    def fresh(self, name: str) -> str:
        """A new resource of the kind the path parameter ``name`` names, for a DELETE."""
        if name == "wallet_id":
            return self.new_wallet()
        if name == "transaction_id":
            return self.new_transaction()
        if name in ("error_id", "import_id"):
            report = self.upload(self.new_wallet())  # a new wallet: nothing is a duplicate
            if name == "import_id":
                return report["import_id"]
            return report["failed_transactions"][0]["id"]
        if name == "mapping_id":
            self.upload(self.new_wallet())  # confirms the layout's mapping again
            return _ok(self.user.get("/api/mappings"))["mappings"][0]["id"]
        return self.ids[name]

    def throwaway_headers(self) -> dict[str, str]:
        user = ApiUser(self.client, self.tokens, f"gone-{next(self._names)}", "gone@example.com")
        return dict(user.headers)

    # ------------------------------------------------------------------ case preparation

    def _pick(self, value) -> bool:
        """Deterministically pick about half of the well-formed ids to replace."""
        return isinstance(value, str) and bool(_OBJECT_ID.match(value)) and int(value, 16) % 2 == 0

    def prepare(self, case) -> dict[str, str]:
        """Swap in real ids (and, in valid cases, files and subjects); return the headers.

        An id is only replaced by another well-formed id, so an invalid case stays
        invalid and a valid one valid.
        """
        self.cases += 1
        method, path = case.operation.method.upper(), case.operation.path
        for name, value in list((case.path_parameters or {}).items()):
            if name in self.ids and self._pick(value):
                case.path_parameters[name] = (
                    self.fresh(name) if method == "DELETE" else self.ids[name]
                )
        query = case.query if isinstance(case.query, dict) else {}
        if self._pick(query.get("wallet_id")):
            query["wallet_id"] = self.wallet
        body = case.body if isinstance(case.body, dict) else {}
        if self._pick(body.get("wallet_id")):
            body["wallet_id"] = self.wallet
        valid = case.meta is not None and case.meta.generation.mode.is_positive
        file, subject = body.get("file"), body.get("oauth_id")
        if valid and isinstance(file, bytes) and len(file) % 2 == 0:
            body["file"] = STATEMENT  # upload and detect-currency
        if valid and isinstance(subject, str) and len(subject) % 2 == 0:
            body["oauth_id"] = self.user.sub  # registration
        if (method, path) == ("DELETE", "/api/users/me"):
            return self.throwaway_headers()
        return self.headers


def _compare_decimal128_as_numbers(compare):
    """mongomock cannot compare or sort Decimal128; MongoDB compares them as numbers."""

    def bson_compare(op, a, b, can_compare_types=True):
        a = a.to_decimal() if isinstance(a, Decimal128) else a
        b = b.to_decimal() if isinstance(b, Decimal128) else b
        return compare(op, a, b, can_compare_types)

    return bson_compare


def pytest_terminal_summary(terminalreporter):
    if _SENT:
        terminalreporter.write_line(
            f"fuzz: {sum(_SENT)} generated requests (FUZZ_EXAMPLES={EXAMPLES}, FUZZ_SEED={SEED})"
        )


@pytest.fixture(scope="module")
def fuzz_app(auth_environ):
    # Schemathesis also checks that protected operations refuse missing or bad
    # tokens: those failures must not trip the per-IP limiter for the whole run.
    environ = {**auth_environ, "AUTH_FAILURE_LIMIT": "1000000000", "LOG_LEVEL": "WARNING"}
    with pytest.MonkeyPatch.context() as patch:
        # Amount filters and sorts run here as on a real server (only for this module).
        patch.setattr(
            filtering, "bson_compare", _compare_decimal128_as_numbers(filtering.bson_compare)
        )
        app = make_app(environ=environ)
        APP.target = app
        yield app
        get_db().client.drop_database(get_db().name)
        disconnect()


_SENT: list[int] = []


@pytest.fixture(scope="module")
def seed(fuzz_app, tokens):
    seed = Seed(fuzz_app.test_client(), tokens)
    yield seed
    _SENT.append(seed.cases)
    # The user's own data survived the run (DELETEs only ever got fresh resources).
    assert seed.user.get(f"/api/wallets/{seed.wallet}").status_code == 200
    assert seed.user.get(f"/api/transactions/{seed.ids['transaction_id']}").status_code == 200
