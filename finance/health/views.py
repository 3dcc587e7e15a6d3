"""Liveness needs nothing; readiness pings the database."""

from __future__ import annotations

import marshmallow as ma

from ..common.blueprint import Blueprint
from ..db import ping
from ..errors import DB_UNAVAILABLE_DETAIL, ServiceUnavailable

blp = Blueprint("health", __name__, description="Liveness and readiness probes")


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})
    database = ma.fields.String(metadata={"example": "up"})


@blp.route("/health")
@blp.response(200, HealthSchema)
def health():
    """Liveness: the process answers. Touches no database."""
    return {"status": "ok"}


@blp.route("/api/health")
@blp.response(200, HealthSchema)
def api_health():
    """Liveness under the API prefix, for clients that only know `/api`."""
    return {"status": "ok"}


@blp.route("/api/health/ready")
@blp.response(200, HealthSchema)
@blp.alt_response(503, description="The database is unreachable.")
def ready():
    """Readiness: the database answers a ping within the server-selection timeout."""
    try:
        ping()
    except Exception as exc:
        raise ServiceUnavailable(DB_UNAVAILABLE_DETAIL, headers={"Retry-After": "5"}) from exc
    return {"status": "ok", "database": "up"}
