"""Which mapping an import uses: cache, then confident heuristics, then Gemini, then fallback."""

from __future__ import annotations

from decimal import Decimal

import pytest
from bson import ObjectId
from google.genai import errors

from finance.imports.ai import AiMapping, GeminiMapper, LazyClient
from finance.imports.mapping import MappingResult, header_signature, heuristic_mapping
from finance.imports.pipeline import parse_statement
from finance.mappings import resolver, service
from finance.mappings.resolver import AI_OFF_NOTE, ai_from_config, make_resolver, merge

BROKER_CSV = b"""Exec Time,Side,Sym,Desc,Qty,Px,Net Proceeds,Comm,CCY,Ref#
2024-03-04 15:31:02,BOT,AAPL,APPLE INC,10,172.45,-1726.50,2.00,USD,U1234567-0001
2024-03-05 09:30:11,SLD,MSFT,MICROSOFT CORP,5,410.10,2048.50,2.00,USD,U1234567-0002
"""
HEADER = ["Exec Time", "Side", "Sym", "Desc", "Qty", "Px", "Net Proceeds", "Comm", "CCY", "Ref#"]
ROWS = [
    [
        "2024-03-04 15:31:02",
        "BOT",
        "AAPL",
        "APPLE INC",
        "10",
        "172.45",
        "-1726.50",
        "2.00",
        "USD",
        "U1234567-0001",
    ],
]
SIG = header_signature(HEADER, "csv", ",")
GEMINI_ANSWER = {
    "columns": [
        {"column": "Exec Time", "field": "date", "confidence": 0.93},
        {"column": "Side", "field": "transaction_type", "confidence": 0.9},
        {"column": "Sym", "field": "asset_symbol", "confidence": 0.95},
        {"column": "Desc", "field": "asset_name", "confidence": 0.88},
        {"column": "Qty", "field": "volume", "confidence": 0.97},
        {"column": "Px", "field": "item_price", "confidence": 0.94},
        {"column": "Net Proceeds", "field": "transaction_amount", "confidence": 0.91},
        {"column": "Comm", "field": "fee", "confidence": 0.9},
        {"column": "CCY", "field": "currency", "confidence": 0.98},
        {"column": "Ref#", "field": "ignore", "confidence": 0.85},
    ]
}
AI_MAPPING = {
    "Exec Time": "date",
    "Side": "transaction_type",
    "Sym": "asset_symbol",
    "Desc": "asset_name",
    "Qty": "volume",
    "Px": "item_price",
    "Net Proceeds": "transaction_amount",
    "Comm": "fee",
    "CCY": "currency",
}
QUOTA = {
    "error": {
        "code": 429,
        "message": "Resource has been exhausted (e.g. check quota).",
        "status": "RESOURCE_EXHAUSTED",
    }
}


@pytest.fixture
def owner(app):
    return ObjectId()


def no_sleep(_seconds):
    pass


def weak():
    result = heuristic_mapping(HEADER, ROWS)
    assert result.confidence < 0.75  # the premise: heuristics cannot read this broker
    return result


def test_a_cached_layout_never_calls_the_model(owner, gemini):
    service.remember(owner, SIG, "csv", ",", HEADER, AI_MAPPING, "ai", 0.918)
    client = gemini()
    notes = []
    resolve = make_resolver(owner, ai=GeminiMapper(client), notes=notes)
    assert resolve(SIG, HEADER, ROWS, weak()) == (AI_MAPPING, "cache", 0.918)
    assert len(client.calls) == 0
    assert notes == []


def test_a_cache_hit_speaks_this_files_labels(owner, gemini):
    """Same signature, different labels: ``Betrag (€)`` and ``Betrag (EUR)`` normalise alike."""
    old = ["Buchungstag", "Betrag (EUR)"]
    new = ["BUCHUNGSTAG", "Betrag (€)"]
    assert header_signature(old, "csv", ";") == header_signature(new, "csv", ";")
    signature = header_signature(new, "csv", ";")
    mapping = {"Buchungstag": "date", "Betrag (EUR)": "transaction_amount"}
    service.remember(owner, signature, "csv", ";", old, mapping, "heuristic", 0.95)
    resolve = make_resolver(owner, ai=GeminiMapper(gemini()), notes=[])
    heuristic = MappingResult({}, 0.0)
    assert resolve(signature, new, [], heuristic) == (
        {"BUCHUNGSTAG": "date", "Betrag (€)": "transaction_amount"},
        "cache",
        0.95,
    )


def test_a_stale_cache_entry_is_passed_over(owner, gemini):
    service.remember(owner, SIG, "csv", ",", HEADER, {"Exec Time": "when"}, "ai", 0.9)
    notes = []
    resolve = make_resolver(owner, ai=None, notes=notes)
    heuristic = weak()
    assert resolve(SIG, HEADER, ROWS, heuristic) == (
        heuristic.mapping,
        "heuristic",
        heuristic.confidence,
    )
    assert notes == [AI_OFF_NOTE]


def test_confident_heuristics_need_no_model(owner, gemini):
    client = gemini()
    notes = []
    resolve = make_resolver(owner, ai=GeminiMapper(client), notes=notes)
    confident = MappingResult({"Exec Time": "date", "Net Proceeds": "transaction_amount"}, 0.8)
    assert resolve(SIG, HEADER, ROWS, confident) == (confident.mapping, "heuristic", 0.8)
    assert (client.calls, notes) == ([], [])


def test_low_confidence_asks_gemini_and_merges(owner, gemini, json_answer):
    client = gemini(json_answer(GEMINI_ANSWER))
    notes = []
    resolve = make_resolver(owner, ai=GeminiMapper(client), notes=notes)
    mapping, source, confidence = resolve(SIG, HEADER, ROWS, weak())
    assert (mapping, source, confidence) == (AI_MAPPING, "ai", 0.918)
    assert list(mapping) == [label for label in HEADER if label in AI_MAPPING]
    assert len(client.calls) == 1
    assert notes == [
        "Gemini (gemini-2.5-flash) mapped 9 of 10 columns. The heuristic confidence 0.00 was "
        "below 0.75."
    ]


def test_gemini_failure_falls_back_to_the_heuristic_with_a_note(owner, gemini):
    client = gemini(*(errors.ClientError(429, QUOTA) for _ in range(3)))
    notes = []
    resolve = make_resolver(owner, ai=GeminiMapper(client, sleep=no_sleep), notes=notes)
    heuristic = weak()
    assert resolve(SIG, HEADER, ROWS, heuristic) == (
        heuristic.mapping,
        "heuristic",
        heuristic.confidence,
    )
    assert notes == ["AI mapping failed (Gemini quota exceeded); used the heuristic mapping."]


def test_an_invalid_answer_falls_back_too(owner, gemini, json_answer):
    client = gemini(json_answer({"columns": [{"column": "Px", "field": "date", "confidence": 1}]}))
    notes = []
    resolve = make_resolver(owner, ai=GeminiMapper(client), notes=notes)
    _, source, _ = resolve(SIG, HEADER, ROWS, weak())
    assert source == "heuristic"
    assert notes == [
        "AI mapping failed (Gemini returned an invalid mapping: no column is mapped to an amount "
        "('transaction_amount', or 'debit' and 'credit')); used the heuristic mapping."
    ]


def test_without_ai_the_heuristic_is_used_and_the_report_says_so(owner):
    notes = []
    resolve = make_resolver(owner, ai=None, notes=notes)
    heuristic = weak()
    assert resolve(SIG, HEADER, ROWS, heuristic) == (
        heuristic.mapping,
        "heuristic",
        heuristic.confidence,
    )
    assert notes == ["AI mapping is off (no GOOGLE_API_KEY); used the heuristic mapping."]


def test_merge_keeps_heuristic_columns_gemini_left_alone_when_their_field_is_free():
    suggestion = AiMapping(
        mapping={"Date": "date", "Amount": "transaction_amount", "Fee A": "fee"},
        confidence=0.9,
        note="",
        ignored=("Ref",),
    )
    heuristic = MappingResult(
        {
            "Date": "value_date",
            "Ref": "description",
            "Total": "transaction_amount",
            "Fee B": "fee",
            "Ccy": "currency",
            "Text": "description",
        },
        0.5,
    )
    header = ["Date", "Ref", "Text", "Amount", "Total", "Fee A", "Fee B", "Ccy"]
    assert list(merge(suggestion, heuristic, header).items()) == [
        ("Date", "date"),  # Gemini's answer wins
        # Ref: Gemini said ignore
        ("Text", "description"),
        ("Amount", "transaction_amount"),
        # Total: its field is taken by Amount
        ("Fee A", "fee"),
        ("Fee B", "fee"),  # fee may repeat
        ("Ccy", "currency"),
    ]


def test_end_to_end_the_second_upload_of_a_layout_costs_no_ai_call(owner, gemini, json_answer):
    client = gemini(json_answer(GEMINI_ANSWER))
    mapper = GeminiMapper(client)
    notes = []
    first = parse_statement(
        BROKER_CSV, "trades.csv", resolve_mapping=make_resolver(owner, ai=mapper, notes=notes)
    )
    assert (first.mapping_source, first.mapping, first.confidence) == ("ai", AI_MAPPING, 0.918)
    assert [(r.transaction_type, r.asset_symbol, r.transaction_amount) for r in first.rows] == [
        ("BUY", "AAPL", Decimal("-1726.50")),
        ("SELL", "MSFT", Decimal("2048.50")),
    ]
    sent = client.calls[0]["contents"]
    assert "U1234567-0002" in sent and "Exec Time" in sent
    resolver.remember_result(owner, first)

    again = []
    second = parse_statement(
        BROKER_CSV, "trades.csv", resolve_mapping=make_resolver(owner, ai=mapper, notes=again)
    )
    assert (second.mapping_source, second.mapping) == ("cache", AI_MAPPING)
    assert second.rows == first.rows
    assert len(client.calls) == 1
    assert again == []
    assert resolver.remember_result(owner, second).uses == 2


# -- configuration ----------------------------------------------------------------------------


def test_no_key_no_ai():
    assert ai_from_config({"GOOGLE_API_KEY": None}) is None
    assert ai_from_config({}) is None


def test_a_key_gives_one_lazy_mapper_per_key_and_model():
    config = {"GOOGLE_API_KEY": "test-key-a", "GENAI_MODEL": "gemini-2.5-flash"}
    mapper = ai_from_config(config)
    assert isinstance(mapper, GeminiMapper)
    assert isinstance(mapper.client, LazyClient)
    assert (mapper.model, mapper.timeout_s, mapper.thinking_budget) == ("gemini-2.5-flash", 8.0, 0)
    assert ai_from_config(dict(config)) is mapper
    pro = ai_from_config({"GOOGLE_API_KEY": "test-key-a", "GENAI_MODEL": "gemini-2.5-pro"})
    assert pro is not mapper
    assert (pro.model, pro.thinking_budget) == ("gemini-2.5-pro", None)


def test_ai_from_config_reads_config_objects_too():
    from finance.config import TestingConfig

    mapper = ai_from_config(TestingConfig({"GOOGLE_API_KEY": "test-key-b"}))
    assert mapper.model == "gemini-2.5-flash"
    assert ai_from_config(TestingConfig({})) is None
