"""/api/wallets endpoints."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("wallets", __name__, description="Wallets")
