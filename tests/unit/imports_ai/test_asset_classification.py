"""Gemini typing the securities an import names that the rules cannot place, through the API.

The production path runs: ``GOOGLE_API_KEY`` set, ``ai_from_config`` building the process's
``GeminiMapper``; only the SDK client it would build
(``finance.mappings.resolver.gemini_client``) is the fake of ``tests/support/gemini.py``.
The assets collection is the cache: a security stored once (whatever its type, whether the
model answered or failed) is never sent to the model again.
"""

from __future__ import annotations

import functools
import io
import json

import httpx2
import pytest
from bson import ObjectId
from google.genai import errors, types

from finance.assets.models import Asset
from finance.imports import service as import_service
from finance.imports.ai import GeminiMapper
from finance.imports.models import Import
from finance.mappings import resolver as mappings_resolver
from finance.stats.models import Holding
from finance.transactions.models import Transaction
from tests.conftest import ApiUser
from tests.support.gemini import FakeClient, answer

# Apple is typed by the rules (an ISIN: a share); the other three they call "other".
STATEMENT = b"""Date,Type,Security,ISIN,Quantity,Price,Amount,Currency
2024-03-01,Buy,Apple Inc.,US0378331005,2,180.00,-360.00,USD
2024-03-02,Buy,Pinewood Global Balanced Accumulation,,10,12.50,-125.00,USD
2024-03-03,Buy,Tulip Harbour Turbo Long 45,,5,3.20,-16.00,USD
2024-03-04,Buy,Berkshire Hathaway B,,1,410.00,-410.00,USD
2024-03-05,Sell,Pinewood Global Balanced Accumulation,,4,13.00,52.00,USD
2024-03-06,Deposit,,,,,1000.00,USD
"""
# A later statement naming the same securities (new rows, nothing to de-duplicate).
LATER = b"""Date,Type,Security,ISIN,Quantity,Price,Amount,Currency
2024-04-01,Buy,Berkshire Hathaway B,,1,415.00,-415.00,USD
2024-04-02,Sell,Tulip Harbour Turbo Long 45,,5,3.90,19.50,USD
2024-04-03,Buy,Apple Inc.,US0378331005,1,170.00,-170.00,USD
"""
UNKNOWN = [
    "Pinewood Global Balanced Accumulation",
    "Tulip Harbour Turbo Long 45",
    "Berkshire Hathaway B",
]
RECORDED = "tests/unit/imports_ai/recorded/asset_types_unknown.json"


def recorded():
    """A ``GenerateContentResponse`` in the REST shape of the other recorded answers."""
    with open(RECORDED) as handle:
        return types.GenerateContentResponse.model_validate(json.load(handle))


def not_json():
    return answer("Sure! Berkshire Hathaway B is a stock.")


def quota_error():
    return errors.ClientError(
        429, {"error": {"code": 429, "message": "Quota exceeded.", "status": "RESOURCE_EXHAUSTED"}}
    )


class NoSleep:
    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)


@pytest.fixture
def gemini(monkeypatch):
    """``gemini(*outcomes)``: the fake client the next mapper gets; ``gemini.sleep`` keeps
    the mapper's backoff delays instead of sleeping them."""
    built = []
    sleep = NoSleep()

    def install(*outcomes) -> FakeClient:
        client = FakeClient(*outcomes)

        def build(api_key):
            built.append(api_key)
            return client

        monkeypatch.setattr(mappings_resolver, "gemini_client", build)
        monkeypatch.setattr(mappings_resolver, "_mappers", {})
        monkeypatch.setattr(
            mappings_resolver, "GeminiMapper", functools.partial(GeminiMapper, sleep=sleep)
        )
        return client

    install.built = built
    install.sleep = sleep
    return install


def user(app, tokens):
    return ApiUser(app.test_client(), tokens, "alice-uid", "alice@example.com")


def upload(caller, content, wallet="Broker", query=""):
    response = caller.post(
        f"/api/transactions/upload{query}",
        data={"wallet_name": wallet, "file": (io.BytesIO(content), "trades.csv")},
    )
    assert response.status_code == 200, response.json
    return response.json["data"]


def asset_types():
    return {doc["name"]: doc["asset_type"] for doc in Asset._get_collection().find()}


def transaction_types(import_id):
    docs = Transaction._get_collection().find({"import_id": ObjectId(import_id)})
    return {(doc["asset_name"], doc["asset_type"]) for doc in docs if doc["asset"] is not None}


def test_unknown_assets_are_typed_in_one_call_and_never_sent_again(ai_app, tokens, gemini):
    client = gemini(recorded())
    alice = user(ai_app, tokens)

    report = upload(alice, STATEMENT)

    assert (report["rows"], report["imported"], report["failed"]) == (6, 6, 0)
    assert report["notes"] == [
        "Gemini (gemini-2.5-flash) classified 2 of 3 new assets the rules could not type; "
        "1 stored as 'other'."
    ]
    # One call, for exactly the three the rules could not place, by name.
    (call,) = client.calls
    assert call["contents"] == "Instrument names:\n" + json.dumps(UNKNOWN)
    assert asset_types() == {
        "Apple Inc.": "stock",
        "Pinewood Global Balanced Accumulation": "fund",
        "Tulip Harbour Turbo Long 45": "other",
        "Berkshire Hathaway B": "stock",
    }
    # The transactions and the kept holdings carry the assets' types.
    assert transaction_types(report["import_id"]) == {
        ("Apple Inc.", "stock"),
        ("Pinewood Global Balanced Accumulation", "fund"),
        ("Tulip Harbour Turbo Long 45", "other"),
        ("Berkshire Hathaway B", "stock"),
    }
    holdings = {h.asset_name: h.asset_type for h in Holding.objects(owner=ObjectId(alice.id))}
    assert holdings["Pinewood Global Balanced Accumulation"] == "fund"
    assert holdings["Berkshire Hathaway B"] == "stock"
    # The import record keeps the note.
    assert Import.objects.get(id=report["import_id"]).notes == report["notes"]

    # The same securities again, even those the model left "other": no call at all.
    again = upload(alice, LATER)
    assert (again["imported"], again["notes"]) == (3, [])
    assert len(client.calls) == 1
    assert client.models.outcomes == []
    assert transaction_types(again["import_id"]) == {
        ("Apple Inc.", "stock"),
        ("Tulip Harbour Turbo Long 45", "other"),
        ("Berkshire Hathaway B", "stock"),
    }
    assert gemini.sleep.delays == []
    assert gemini.built == ["test-gemini-key"]


@pytest.mark.parametrize(
    ("outcomes", "reason", "delays"),
    [
        pytest.param([not_json()], "Gemini returned malformed JSON", [], id="malformed-json"),
        pytest.param(
            [answer({"assets": [{"name": "Apple Inc.", "asset_type": "stock"}]})],
            "Gemini returned invalid asset types: 'Apple Inc.' was not asked about",
            [],
            id="invalid-answer",
        ),
        pytest.param(
            [httpx2.ReadTimeout("The read operation timed out")] * 3,
            "Gemini timed out",
            [0.5, 1.0],
            id="timeout",
        ),
        pytest.param([quota_error()] * 3, "Gemini quota exceeded", [0.5, 1.0], id="quota"),
    ],
)
def test_a_failing_model_leaves_other_and_a_note_and_the_import_completes(
    ai_app, tokens, gemini, outcomes, reason, delays
):
    client = gemini(*outcomes)
    alice = user(ai_app, tokens)

    report = upload(alice, STATEMENT)

    assert (report["status"], report["imported"], report["failed"]) == ("completed", 6, 0)
    assert report["notes"] == [
        f"AI asset classification failed ({reason}); 3 new assets stored as 'other'."
    ]
    assert len(client.calls) == len(outcomes)
    assert gemini.sleep.delays == delays
    assert asset_types() == {
        "Apple Inc.": "stock",
        "Pinewood Global Balanced Accumulation": "other",
        "Tulip Harbour Turbo Long 45": "other",
        "Berkshire Hathaway B": "other",
    }
    # Stored as "other" is stored: the next import does not ask again (a user can edit the
    # type through the assets API).
    calls = len(client.calls)
    assert upload(alice, LATER)["notes"] == []
    assert len(client.calls) == calls


def test_without_a_key_nothing_calls_the_model(app, tokens, monkeypatch):
    def build(api_key):  # pragma: no cover - the assertion is that it never runs
        raise AssertionError("no client may be built without GOOGLE_API_KEY")

    monkeypatch.setattr(mappings_resolver, "gemini_client", build)
    monkeypatch.setattr(mappings_resolver, "_mappers", {})
    alice = user(app, tokens)

    report = upload(alice, STATEMENT)

    assert report["imported"] == 6
    assert report["notes"] == [
        "AI asset classification is off (no GOOGLE_API_KEY); 3 new assets stored as "
        "'other', as the rules could not tell their type."
    ]
    assert asset_types()["Berkshire Hathaway B"] == "other"
    assert mappings_resolver._mappers == {}
    assert upload(alice, LATER)["notes"] == []  # known now: nothing to say


def test_a_dry_run_asks_nothing_and_stores_no_asset(ai_app, tokens, gemini):
    client = gemini()
    alice = user(ai_app, tokens)

    report = upload(alice, STATEMENT, query="?dry_run=true")

    assert (report["dry_run"], report["rows"], report["notes"]) == (True, 6, [])
    assert client.calls == []
    assert Asset.objects.count() == 0


def test_a_known_asset_is_not_sent_whatever_its_type(ai_app, tokens, gemini):
    client = gemini(answer({"assets": [{"name": UNKNOWN[0], "asset_type": "fund"}]}))
    alice = user(ai_app, tokens)
    for name in ("Tulip Harbour Turbo Long 45", "Berkshire Hathaway B"):
        response = alice.post("/api/assets", json={"name": name, "asset_type": "other"})
        assert response.status_code == 201, response.json

    report = upload(alice, STATEMENT)

    (call,) = client.calls
    assert call["contents"] == "Instrument names:\n" + json.dumps(UNKNOWN[:1])
    assert report["notes"] == [
        "Gemini (gemini-2.5-flash) classified 1 of 1 new asset the rules could not type."
    ]
    assert asset_types()["Pinewood Global Balanced Accumulation"] == "fund"


def test_no_time_left_skips_the_call(ai_app, tokens, gemini, monkeypatch):
    client = gemini()
    monkeypatch.setattr(import_service, "AI_BUDGET_S", 0.5)
    alice = user(ai_app, tokens)

    report = upload(alice, STATEMENT)

    assert report["notes"] == [
        "AI asset classification skipped (no time left); 3 new assets stored as 'other'."
    ]
    assert client.calls == []
    assert report["imported"] == 6


def test_a_bug_in_the_classification_does_not_fail_the_import(ai_app, tokens, gemini, monkeypatch):
    gemini()

    def broken(self, names):
        raise KeyError("a bug")

    monkeypatch.setattr(GeminiMapper, "classify_assets", broken)
    alice = user(ai_app, tokens)

    report = upload(alice, STATEMENT)

    assert (report["status"], report["imported"]) == ("completed", 6)
    assert report["notes"] == [
        "AI asset classification failed (unexpected KeyError); 3 new assets stored as 'other'."
    ]
