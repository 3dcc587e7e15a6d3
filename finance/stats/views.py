"""/api/stats endpoints."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("stats", __name__, description="Statistics")
