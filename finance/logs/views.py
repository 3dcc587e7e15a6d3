"""/api/logs endpoints."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("logs", __name__, description="Logs")
