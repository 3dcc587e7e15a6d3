"""/api/assets endpoints."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("assets", __name__, description="Assets")
