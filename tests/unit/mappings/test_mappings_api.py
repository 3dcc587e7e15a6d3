"""/api/mappings through the app: the caller's own entries only, newest first; delete."""

from __future__ import annotations

from decimal import Decimal

from bson import ObjectId

from finance.mappings import service
from finance.mappings.models import MappingCache

HEADER = ["Data operacji", "Opis operacji", "Kwota", "Waluta"]
MAPPING = {
    "Data operacji": "date",
    "Opis operacji": "description",
    "Kwota": "transaction_amount",
    "Waluta": "currency",
}


def remember(user, signature, source="ai", confidence=0.92):
    return service.remember(
        ObjectId(user.id), signature, "csv", ";", HEADER, MAPPING, source, confidence
    )


def as_json(entry: MappingCache) -> dict:
    return {
        "id": str(entry.id),
        "signature": entry.signature,
        "format": "csv",
        "delimiter": ";",
        "header": HEADER,
        "mapping": MAPPING,
        "source": entry.source,
        "confidence": Decimal(str(entry.confidence)),  # the app reads JSON numbers exactly
        "uses": entry.uses,
        "last_used_at": entry.last_used_at.isoformat(),
        "created_at": entry.created_at.isoformat(),
        "updated_at": entry.updated_at.isoformat(),
    }


def test_list_is_the_callers_own_newest_first(alice, bob):
    older = remember(alice, "a" * 64, source="heuristic", confidence=0.8)
    newer = remember(alice, "b" * 64)
    remember(bob, "c" * 64)
    response = alice.get("/api/mappings")
    assert response.status_code == 200
    assert response.json == {
        "mappings": [as_json(newer), as_json(older)],
        "total_count": 2,
        "total_pages": 1,
        "page": 1,
        "limit": 50,
        "has_next": False,
        "has_prev": False,
    }


def test_list_pages(alice):
    entries = [remember(alice, f"{i:064x}") for i in range(3)]
    response = alice.get("/api/mappings?page=2&limit=2")
    assert response.status_code == 200
    assert response.json == {
        "mappings": [as_json(entries[0])],
        "total_count": 3,
        "total_pages": 2,
        "page": 2,
        "limit": 2,
        "has_next": False,
        "has_prev": True,
    }
    bad = alice.get("/api/mappings?limit=0")
    assert bad.status_code == 422
    assert bad.json["detail"] == "Invalid value for limit."


def test_empty_list(bob):
    response = bob.get("/api/mappings")
    assert response.status_code == 200
    assert response.json["mappings"] == []
    assert response.json["total_count"] == 0


def test_delete_forgets_the_layout(alice):
    entry = remember(alice, "a" * 64)
    response = alice.delete(f"/api/mappings/{entry.id}")
    assert response.status_code == 204
    assert response.data == b""
    assert service.lookup(ObjectId(alice.id), "a" * 64) is None
    again = alice.delete(f"/api/mappings/{entry.id}")
    assert again.status_code == 404
    assert again.json["detail"] == "Mapping not found."


def test_another_users_mapping_is_not_found(alice, bob):
    entry = remember(alice, "a" * 64)
    response = bob.delete(f"/api/mappings/{entry.id}")
    assert response.status_code == 404
    assert response.json["detail"] == "Mapping not found."
    assert response.json["code"] == 404
    assert MappingCache.objects(id=entry.id).count() == 1


def test_malformed_ids_are_not_found(alice):
    response = alice.delete("/api/mappings/not-an-id")
    assert response.status_code == 404
    assert response.json["detail"] == "Mapping not found."


def test_a_token_is_required(client):
    response = client.get("/api/mappings")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="kartay"'
