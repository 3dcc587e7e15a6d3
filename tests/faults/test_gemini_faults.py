"""Gemini timing out or failing during an upload: the heuristic mapping is used and said so.

The whole production path runs — ``GOOGLE_API_KEY`` set, ``ai_from_config`` building the
process's ``GeminiMapper`` with the configured timeout, retries and deadline — and only
the SDK client it would build (``finance.mappings.resolver.gemini_client``) is replaced by
a fake that fails the way ``google-genai`` does: ``httpx2`` timeouts, ``APIError``s,
answers that are not JSON.
"""

from __future__ import annotations

import io
from decimal import Decimal

import httpx2
import pytest
from google.genai import errors, types

from finance.mappings import resolver as mappings_resolver
from tests.conftest import ApiUser
from tests.support.gemini import FakeClient

# The heuristics know "Booked on" and "Value" only vaguely (confidence 0.65 < 0.75), so the
# upload asks Gemini; "Kind" they cannot place at all.
STATEMENT = b"""Booked on,Kind,Value,CCY
2024-03-01,Salary,2500.00,EUR
2024-03-03,Rent,-900.00,EUR
2024-03-09,Groceries,-84.37,EUR
"""
HEADER = ["Booked on", "Kind", "Value", "CCY"]
HEURISTIC = {"Booked on": "date", "Value": "transaction_amount", "CCY": "currency"}


def api_error(cls, code: int, status: str, message: str):
    return cls(code, {"error": {"code": code, "message": message, "status": status}})


def not_json_answer():
    return types.GenerateContentResponse.model_validate(
        {
            "candidates": [
                {
                    "content": {
                        "parts": [{"text": "Sure! Column 1 is the date."}],
                        "role": "model",
                    },
                    "finishReason": "STOP",
                }
            ]
        }
    )


@pytest.fixture
def gemini(monkeypatch):
    """``gemini(*outcomes)``: the client the next AI call gets; the mapper cache emptied."""
    keys = []

    def install(*outcomes) -> FakeClient:
        client = FakeClient(*outcomes)

        def build(api_key):
            keys.append(api_key)
            return client

        monkeypatch.setattr(mappings_resolver, "gemini_client", build)
        monkeypatch.setattr(mappings_resolver, "_mappers", {})
        return client

    install.keys = keys
    return install


@pytest.mark.parametrize(
    ("outcomes", "reason"),
    [
        pytest.param(
            [httpx2.ReadTimeout("The read operation timed out")] * 3,
            "Gemini timed out",
            id="timeout",
        ),
        pytest.param(
            [api_error(errors.ServerError, 503, "UNAVAILABLE", "The model is overloaded.")] * 3,
            "Gemini is unavailable (HTTP 503)",
            id="overloaded",
        ),
        pytest.param(
            [api_error(errors.ClientError, 403, "PERMISSION_DENIED", "API key not valid.")],
            "Gemini refused the API key (HTTP 403)",
            id="bad-key",
        ),
        pytest.param([not_json_answer()], "Gemini returned malformed JSON", id="not-json"),
    ],
)
def test_a_failing_gemini_leaves_the_heuristic_mapping_and_a_note(
    ai_app, tokens, gemini, outcomes, reason
):
    client = gemini(*outcomes)
    alice = ApiUser(ai_app.test_client(), tokens, "alice-uid", "alice@example.com")
    response = alice.post(
        "/api/transactions/upload",
        data={"wallet_name": "Checking", "file": (io.BytesIO(STATEMENT), "checking.csv")},
    )
    assert response.status_code == 200, response.json
    report = response.json["data"]
    note = f"AI mapping failed ({reason}); used the heuristic mapping."
    assert {key: report[key] for key in ("header", "mapping", "mapping_source", "notes")} == {
        "header": HEADER,
        "mapping": HEURISTIC,
        "mapping_source": "heuristic",
        "notes": [note],
    }
    assert report["confidence"] < 0.75
    assert (report["rows"], report["imported"], report["failed"], report["status"]) == (
        3,
        3,
        0,
        "completed",
    )
    amounts = [t["transaction_amount"] for t in alice.get("/api/transactions").json["transactions"]]
    assert sorted(amounts) == [Decimal("-900.00"), Decimal("-84.37"), Decimal("2500.00")]

    # Every attempt was made within the configured timeout, transient failures retried.
    assert gemini.keys == ["test-gemini-key"]
    attempts = len(outcomes)
    assert [c["config"].http_options.timeout for c in client.calls] == [8000] * attempts
    assert client.models.outcomes == []

    # The import record says it too, and the weak mapping is not cached: the AI gets its
    # chance again on the next upload of this layout.
    record = alice.get(f"/api/imports/{report['import_id']}").json
    assert (record["mapping_source"], record["notes"]) == ("heuristic", [note])
    assert alice.get("/api/mappings").json["total_count"] == 0
