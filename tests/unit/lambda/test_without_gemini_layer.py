"""A Gemini key configured but the Gemini SDK absent (the function without its GeminiLayer).

template.yaml attaches the layer whenever a key is configured, but the app must not depend on
that: an artefact built without the layer, or run locally without the ``ai`` extra, still
answers an upload whose layout the heuristics are unsure about, with the heuristic mapping
and a note saying Gemini could not help — never a 500. The whole production path runs
(``ai_from_config`` → ``LazyClient`` → ``gemini_client``); only ``import google.genai`` fails,
as it does when the package is not on ``sys.path``.
"""

from __future__ import annotations

import io
import sys
from decimal import Decimal

import pytest

from finance.mappings import resolver as mappings_resolver
from tests.conftest import ApiUser

# The heuristics know "Booked on" and "Value" only vaguely (confidence < 0.75), so the upload
# would ask Gemini.
STATEMENT = b"""Booked on,Kind,Value,CCY
2024-03-01,Salary,2500.00,EUR
2024-03-03,Rent,-900.00,EUR
2024-03-09,Groceries,-84.37,EUR
"""
HEADER = ["Booked on", "Kind", "Value", "CCY"]
HEURISTIC = {"Booked on": "date", "Value": "transaction_amount", "CCY": "currency"}
NOTE = "AI mapping failed (Gemini call failed (ModuleNotFoundError)); used the heuristic mapping."


@pytest.fixture
def no_gemini_sdk(monkeypatch):
    """``google.genai`` cannot be imported (restored afterwards); the mapper cache emptied."""
    import google

    for name in [n for n in sys.modules if n == "google.genai" or n.startswith("google.genai.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "google.genai", None)
    monkeypatch.delattr(google, "genai", raising=False)
    monkeypatch.setattr(mappings_resolver, "_mappers", {})
    with pytest.raises(ImportError):
        from google import genai  # noqa: F401
    with pytest.raises(ImportError):
        from google.genai import types  # noqa: F401


def test_an_upload_needing_gemini_without_the_sdk_uses_the_heuristic_mapping(
    ai_app, tokens, no_gemini_sdk
):
    alice = ApiUser(ai_app.test_client(), tokens, "alice-uid", "alice@example.com")

    for upload in (1, 2):  # the failed import is not remembered as a client: tried again
        response = alice.post(
            "/api/transactions/upload",
            data={"wallet_name": f"Checking {upload}", "file": (io.BytesIO(STATEMENT), "c.csv")},
        )

        assert response.status_code == 200, response.json
        report = response.json["data"]
        assert {key: report[key] for key in ("header", "mapping", "mapping_source", "notes")} == {
            "header": HEADER,
            "mapping": HEURISTIC,
            "mapping_source": "heuristic",
            "notes": [NOTE],
        }
        assert (report["rows"], report["imported"], report["failed"], report["status"]) == (
            3,
            3,
            0,
            "completed",
        )
        record = alice.get(f"/api/imports/{report['import_id']}").json
        assert (record["mapping_source"], record["notes"]) == ("heuristic", [NOTE])

    amounts = [t["transaction_amount"] for t in alice.get("/api/transactions").json["transactions"]]
    assert (
        sorted(amounts)
        == [Decimal("-900.00")] * 2 + [Decimal("-84.37")] * 2 + [Decimal("2500.00")] * 2
    )
    assert alice.get("/api/mappings").json["total_count"] == 0  # a weak mapping is not cached
