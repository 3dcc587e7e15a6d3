"""/api/logs: the web client ships its console logs here — without auth, per the contract."""

from __future__ import annotations

from flask import current_app, request

from ..common.blueprint import Blueprint
from . import service
from .schemas import LogBatchSchema, LogResultSchema

blp = Blueprint(
    "logs",
    __name__,
    url_prefix="/api/logs",
    description="Client log shipping (no authentication; bounded and scrubbed, never stored).",
)


@blp.before_request
def _refuse_oversized_batches():
    """Count the entries before parsing each one: an unauthenticated caller gets no free work."""
    if request.method != "POST":
        return
    body = request.get_json(silent=True)
    if isinstance(body, dict) and isinstance(body.get("logs"), list):
        service.check_batch_size(len(body["logs"]), current_app.config["MAX_LOG_BATCH"])


@blp.route("/file", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(
    LogBatchSchema,
    example={
        "logs": [
            {
                "timestamp": "2025-03-31T12:00:00.000Z",
                "level": "error",
                "source": "TransactionUpload",
                "category": "upload",
                "message": "Upload failed: 413",
                "user_id": "65f1c0ffee0123456789abcd",
                "email": "ada@example.com",
                "context": {"status": 413},
                "environment": "production",
            }
        ]
    },
)
@blp.response(200, LogResultSchema)
@blp.alt_response(413, description="More than MAX_LOG_BATCH (default 100) entries.")
def ship_logs(data):
    """Ship client log entries; no `Authorization` needed.

    Each entry becomes one structured JSON log line (CloudWatch) from the
    `finance.client` logger; nothing is stored in the database. Messages over
    4 KB and contexts over 8 KB are truncated with a marker; the e-mail is reduced
    to its domain; credential-like keys (token, password, secret, authorization,
    cookie, api key) are dropped from the context.
    """
    count = service.ship(data["logs"], limit=current_app.config["MAX_LOG_BATCH"])
    noun = "entry" if count == 1 else "entries"
    return {"status": "success", "message": f"Logged {count} {noun}.", "count": count}
