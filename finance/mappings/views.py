"""/api/mappings endpoints."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("mappings", __name__, description="Cached column mappings")
