"""Helpers of the hostile-input tests: a statement, uploads, a snapshot of everything stored,
and the one error contract."""

from __future__ import annotations

import io

from finance.db import get_db

STATEMENT = (
    b"Date,Description,Amount,Currency\n"
    b"2024-01-02,Salary,2500.00,EUR\n"
    b"2024-01-03,Rent,-900.00,EUR\n"
    b"not a date,Broken,12.00,EUR\n"
)


def upload(user, wallet_id, content=STATEMENT, name="statement.csv", path="upload"):
    data = {"file": (io.BytesIO(content), name), "wallet_id": wallet_id}
    return user.post(f"/api/transactions/{path}", data=data, content_type="multipart/form-data")


def snapshot() -> dict[str, list[dict]]:
    """Every stored document, by collection, in a stable order."""
    db = get_db()
    return {
        name: sorted(db[name].find({}), key=lambda doc: str(doc["_id"]))
        for name in sorted(db.list_collection_names())
    }


def assert_error_contract(response, status):
    """The one error shape: a sentence in ``detail``, the code and its name, field errors."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) <= {"detail", "code", "status", "errors", "request_id"}
    assert isinstance(body["detail"], str) and body["detail"].endswith(".")
    assert body["code"] == status and isinstance(body["status"], str)
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body
