"""The mapping cache: one document per (user, layout), uses counted, overrides kept."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from bson import ObjectId

from finance.imports.mapping import header_signature
from finance.mappings import resolver, service
from finance.mappings.models import MappingCache

HEADER = ["Buchungstag", "Verwendungszweck", "Betrag (EUR)"]
MAPPING = {
    "Buchungstag": "date",
    "Verwendungszweck": "description",
    "Betrag (EUR)": "transaction_amount",
}
SIG = header_signature(HEADER, "csv", ";")


@pytest.fixture
def owner(app):
    return ObjectId()


def remember(owner, source="heuristic", mapping=MAPPING, confidence=0.9, signature=SIG):
    return service.remember(owner, signature, "csv", ";", HEADER, mapping, source, confidence)


def stored(owner):
    return [
        {
            k: v
            for k, v in doc.items()
            if k not in ("_id", "created_at", "updated_at", "last_used_at")
        }
        for doc in MappingCache._get_collection().find({"owner": owner})
    ]


def test_first_remember_creates_the_entry(owner):
    entry = remember(owner)
    assert isinstance(entry, MappingCache)
    assert stored(owner) == [
        {
            "owner": owner,
            "signature": SIG,
            "format": "csv",
            "delimiter": ";",
            "header": HEADER,
            "mapping": MAPPING,
            "source": "heuristic",
            "confidence": 0.9,
            "uses": 1,
        }
    ]
    assert entry.created_at == entry.updated_at == entry.last_used_at
    assert service.lookup(owner, SIG).id == entry.id


def test_each_remember_counts_a_use_and_a_later_answer_replaces_the_mapping(owner):
    first = remember(owner)
    better = dict(MAPPING, Verwendungszweck="memo")
    second = remember(owner, source="ai", mapping=better, confidence=0.8)
    assert second.id == first.id
    assert (second.uses, second.source, second.mapping, second.confidence) == (2, "ai", better, 0.8)
    assert second.created_at == first.created_at
    assert second.last_used_at >= first.last_used_at
    assert MappingCache.objects.count() == 1


def test_an_override_replaces_the_mapping_and_is_kept_against_later_guesses(owner):
    remember(owner, source="ai")
    mine = dict(MAPPING, Verwendungszweck="counterparty")
    remember(owner, source="override", mapping=mine, confidence=1.0)
    after_guess = remember(owner, source="heuristic", mapping=MAPPING, confidence=0.99)
    assert (after_guess.source, after_guess.mapping, after_guess.uses) == ("override", mine, 3)
    newer = dict(MAPPING, Verwendungszweck="memo")
    again = remember(owner, source="override", mapping=newer)
    assert (again.source, again.mapping, again.uses) == ("override", newer, 4)


def test_a_cache_hit_only_counts_the_use(owner):
    remember(owner, source="ai", confidence=0.8)
    hit = service.remember(owner, SIG, "csv", ";", ["other"], {"other": "date"}, "cache", 0.1)
    assert (hit.uses, hit.source, hit.mapping, hit.header, hit.confidence) == (
        2,
        "ai",
        MAPPING,
        HEADER,
        0.8,
    )
    assert service.remember(ObjectId(), SIG, "csv", ";", HEADER, MAPPING, "cache", 1.0) is None


def test_unknown_sources_are_a_programming_error(owner):
    with pytest.raises(ValueError, match="unknown mapping source 'format'"):
        remember(owner, source="format")


def test_lookup_is_per_user(owner):
    remember(owner)
    assert service.lookup(ObjectId(), SIG) is None
    assert service.lookup(owner, "0" * 64) is None


def parse_result(**changes):
    base = {
        "format": "csv",
        "delimiter": ";",
        "header": HEADER,
        "mapping": MAPPING,
        "mapping_source": "heuristic",
        "confidence": 0.9,
    }
    return SimpleNamespace(**(base | changes))


@pytest.mark.parametrize(
    ("changes", "kept"),
    [
        ({}, True),
        ({"mapping_source": "ai", "confidence": 0.6}, True),
        ({"mapping_source": "override", "confidence": 0.3}, True),
        ({"confidence": 0.5}, False),  # a weak guess: let the AI try next time
        ({"mapping_source": "format", "header": None, "mapping": None}, False),  # OFX, CAMT...
    ],
)
def test_remember_result_keeps_what_is_worth_keeping(owner, changes, kept):
    entry = resolver.remember_result(owner, parse_result(**changes))
    assert (entry is not None) is kept
    assert MappingCache.objects.count() == int(kept)
    if kept:
        assert entry.signature == SIG
        assert entry.source == changes.get("mapping_source", "heuristic")


def test_remember_result_of_a_cache_hit_counts_the_use(owner):
    resolver.remember_result(owner, parse_result(mapping_source="ai"))
    entry = resolver.remember_result(owner, parse_result(mapping_source="cache"))
    assert (entry.uses, entry.source) == (2, "ai")
