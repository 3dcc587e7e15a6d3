"""/api/imports endpoints."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("imports", __name__, description="Imports")
