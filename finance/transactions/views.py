"""/api/transactions endpoints."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("transactions", __name__, description="Transactions")
