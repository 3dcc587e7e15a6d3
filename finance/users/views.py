"""/api/users: registration (idempotent) and the caller's own profile."""

from __future__ import annotations

from ..auth.current import current_claims, current_user, protect
from ..common.blueprint import Blueprint
from . import service
from .schemas import RegisterSchema, UserSchema, UserUpdateSchema

blp = protect(
    Blueprint("users", __name__, url_prefix="/api/users", description="Registration and profile"),
    load_user=False,
)


@blp.route("/register", methods=["POST"])
@blp.arguments(
    RegisterSchema,
    example={
        "email": "ada@example.com",
        "username": "ada",
        "oauth_provider": "google.com",
        "oauth_id": "firebase-uid-123",
    },
)
@blp.response(200, UserSchema)
@blp.alt_response(403, description="`oauth_id` is not the token's subject.")
def register(data):
    """Register the signed-in user, or return them if already registered.

    Called on every page load: always 200 with the same `user_id` for the same
    token subject, safe under concurrent duplicate calls.
    """
    return service.register(current_claims(), **data)


@blp.route("/me", methods=["GET"])
@blp.response(200, UserSchema)
def me():
    """The signed-in user's profile."""
    return current_user()


@blp.route("/me", methods=["PATCH"])
@blp.arguments(UserUpdateSchema)
@blp.response(200, UserSchema)
def update_me(changes):
    """Change the username or full name."""
    return service.update_profile(current_user(), changes)


@blp.route("/me", methods=["DELETE"])
@blp.response(204)
def delete_me():
    """Delete the account and everything it owns: wallets, transactions, imports, stats."""
    service.delete_account(current_user())
